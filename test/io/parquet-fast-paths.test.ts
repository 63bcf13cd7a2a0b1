/**
 * The Parquet decoder's fast paths: snappy decompressed straight into the column (or a reused scratch
 * buffer), list levels scanned without branches (1-bit levels as bitmaps, eight at a time), file bytes read into one reused buffer. Expected values
 * come from the arrays the test writes, from hyparquet-writer's independent snappy encoder and from
 * hysnappy's independent decoder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, type SchemaElement } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { snappyUncompress } from 'hysnappy';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { decodeChunk } from '../../src/io/parquet/chunk.ts';
import { decodeHybrid, decodeHybridBits } from '../../src/io/parquet/hybrid.ts';
import { openParquet, ParquetFormatError } from '../../src/io/parquet/index.ts';
import { type LeafColumn, mapSchema } from '../../src/io/parquet/schema.ts';
import { snappyDecompressInto } from '../../src/io/parquet/snappy.ts';
import type { Column } from '../../src/io/reader.ts';
import { columnEvents } from '../helpers/columns.ts';
import { tempDir } from '../helpers/files.ts';

let seed = 987654321;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

describe('snappy decoder', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['random bytes (long literals)', Uint8Array.from({ length: 70_000 }, () => Math.floor(rand() * 256))],
    ['one repeated byte (overlapping copies)', new Uint8Array(5000).fill(7)],
    ['a short pattern (offset < length)', Uint8Array.from({ length: 4099 }, (_, i) => [1, 2, 3][i % 3])],
    [
      'floats with repeats (copies of every kind of length)',
      new Uint8Array(Float32Array.from({ length: 30_000 }, (_, i) => (i % 50 < 25 ? i % 7 : rand())).buffer),
    ],
  ];
  for (const [name, input] of inputs) {
    it(`${name}: equals the input and hysnappy's decoding`, () => {
      const packed = snappyCompress(input);
      const out = new Uint8Array(input.length + 16).fill(0xee);
      snappyDecompressInto(packed, out, 8, input.length);
      expect(Buffer.from(out.subarray(8, 8 + input.length)).equals(Buffer.from(input))).toBe(true);
      expect(Buffer.from(snappyUncompress(packed, input.length)).equals(Buffer.from(input))).toBe(true);
      // Bytes around the target range are untouched.
      expect([...out.subarray(0, 8), ...out.subarray(8 + input.length)].every((b) => b === 0xee)).toBe(true);
    });
  }

  it('decodes 2- and 4-byte-offset copies written by hand', () => {
    // "abcd" literal, copy 4 from 4 back (2-byte offset), copy 3 from 8 back (4-byte offset).
    const block = Uint8Array.from([11, 3 << 2, 97, 98, 99, 100, (3 << 2) | 2, 4, 0, (2 << 2) | 3, 8, 0, 0, 0]);
    const out = new Uint8Array(11);
    snappyDecompressInto(block, out, 0, 11);
    expect(new TextDecoder().decode(out)).toBe('abcdabcdabc');
  });

  const damaged: [string, number[], number][] = [
    ['a length other than the page header says', [5, 0, 120], 4],
    ['a copy reaching before the output', [4, 0, 120, 1 | (0 << 2), 5], 4],
    ['a copy with offset 0', [8, 12, 1, 2, 3, 4, 1, 0], 8],
    ['a literal past the end of the block', [4, 3 << 2, 1, 2], 4],
    ['fewer bytes than announced', [4, 1 << 2, 1, 2], 4],
    ['a length header that never ends', [0x80, 0x80, 0x80, 0x80, 0x80, 0x80], 4],
  ];
  for (const [name, bytes, size] of damaged) {
    it(`${name} → ParquetFormatError`, () => {
      expect(() => snappyDecompressInto(Uint8Array.from(bytes), new Uint8Array(size), 0, size)).toThrow(
        ParquetFormatError,
      );
    });
  }
});

describe('list and value fast paths against the written arrays', () => {
  const dir = tempDir('pqfast');
  const N = 3000;
  const GROUP = 1000;
  // Lists with empty entries; optional lists with null lists and null elements; a flat optional column.
  const jets = Array.from({ length: N }, () =>
    Array.from({ length: Math.floor(rand() * 6) }, () => Math.fround(rand() * 100)),
  );
  const mus = Array.from({ length: N }, (_, i) =>
    i % 13 === 0
      ? null
      : Array.from({ length: Math.floor(rand() * 4) }, () => (rand() < 0.2 ? null : Math.fround(rand() * 50))),
  );
  // Nulls only in some pages: pages of the same chunk take the direct path and the fallback in turn.
  const weight = Array.from({ length: N }, (_, i) => (i % 1000 > 600 && i % 9 === 0 ? null : rand()));
  const ids = Array.from({ length: N }, (_, i) => Array.from({ length: i % 4 }, () => Math.floor(rand() * 3)));
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 4 },
    { name: 'Jet_pt', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    { name: 'Mu_pt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'weight', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'Tau_id', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
  ];
  const expected: Record<string, (number | number[])[]> = {
    Jet_pt: jets,
    Mu_pt: mus.map((m) => (m ?? []).map((x) => x ?? NaN)),
    weight: weight.map((w) => w ?? NaN),
    Tau_id: ids,
  };
  const names = Object.keys(expected);

  for (const codec of ['SNAPPY', 'UNCOMPRESSED'] as const) {
    // Small pages: every column chunk holds several pages (v2, as hyparquet-writer writes them).
    const file = join(dir, `lists-${codec}.parquet`);
    const write = () => {
      const buf = parquetWriteBuffer({
        schema,
        codec,
        rowGroupSize: GROUP,
        pageSize: 512,
        columnData: [
          { name: 'Jet_pt', data: jets },
          { name: 'Mu_pt', data: mus },
          { name: 'weight', data: weight },
          { name: 'Tau_id', data: ids, encoding: 'RLE_DICTIONARY' },
        ],
      } as Parameters<typeof parquetWriteBuffer>[0]);
      writeFileSync(file, new Uint8Array(buf));
    };

    it(`${codec}: several pages per chunk, every row group, sync and async reads`, async () => {
      write();
      const r = await openParquet(file);
      const b = r.boundaries();
      expect(b.length - 1).toBe(N / GROUP);
      // Row group by row group through readSync, kept: a later read (which reuses the read buffer and
      // the page scratch) must leave the columns of earlier reads intact.
      const kept: Record<string, Column>[] = [];
      for (let g = 0; g + 1 < b.length; g++) kept.push(r.readSync!(names, b[g], b[g + 1]));
      kept.forEach((cols, g) => {
        for (const n of names) {
          const want = expected[n].slice(b[g], b[g + 1]);
          expect(columnEvents(cols[n]), `${n} row group ${g}`).toEqual(want);
        }
      });
      // Ranges across row-group boundaries, both read paths.
      for (const [a, z] of [
        [0, N],
        [999, 2001],
        [1500, 1501],
      ] as const) {
        const sync = r.readSync!(names, a, z);
        const async_ = await r.read(names, a, z);
        for (const n of names) {
          expect(columnEvents(sync[n]), `${n} [${a}, ${z}) sync`).toEqual(expected[n].slice(a, z));
          expect(columnEvents(async_[n]), `${n} [${a}, ${z}) async`).toEqual(expected[n].slice(a, z));
        }
      }
      await r.close();
    });
  }
});

describe('1-bit levels as bitmaps (decodeHybridBits) = the byte-per-level decoder', () => {
  /** Encode runs into the RLE / bit-packed hybrid: RLE runs of any length, bit-packed groups of 8. */
  const encode = (runs: ({ rle: number; len: number } | { bits: number[] })[]): Uint8Array => {
    const out: number[] = [];
    const uleb = (v: number) => {
      do {
        let b = v & 0x7f;
        v >>>= 7;
        if (v) b |= 0x80;
        out.push(b);
      } while (v);
    };
    for (const r of runs) {
      if ('rle' in r) {
        uleb(r.len << 1);
        out.push(r.rle);
      } else {
        const groups = Math.ceil(r.bits.length / 8);
        uleb((groups << 1) | 1);
        for (let g = 0; g < groups; g++) {
          let b = 0;
          for (let j = 0; j < 8; j++) b |= (r.bits[g * 8 + j] ?? 0) << j;
          out.push(b);
        }
      }
    }
    return Uint8Array.from(out);
  };

  it('random mixes of odd-length RLE runs and bit-packed runs, cut anywhere', () => {
    for (let trial = 0; trial < 300; trial++) {
      const runs: ({ rle: number; len: number } | { bits: number[] })[] = [];
      let total = 0;
      const nRuns = 1 + Math.floor(rand() * 8);
      for (let i = 0; i < nRuns; i++) {
        if (rand() < 0.5) {
          const len = Math.floor(rand() * 20);
          runs.push({ rle: rand() < 0.5 ? 1 : 0, len });
          total += len;
        } else {
          const bits = Array.from({ length: 8 * (1 + Math.floor(rand() * 4)) }, () => (rand() < 0.5 ? 1 : 0));
          runs.push({ bits });
          total += bits.length;
        }
      }
      const bytes = encode(runs);
      // Decode all levels, or stop inside the last run (pages announce fewer values than a run holds).
      const count = rand() < 0.5 ? total : Math.floor(rand() * (total + 1));
      const want = new Uint8Array(count);
      decodeHybrid(bytes, 0, bytes.length, 1, want, count);
      const bitmap = new Uint8Array((count >> 3) + 2).fill(0xa5); // stale bits from an earlier page
      decodeHybridBits(bytes, 0, bytes.length, bitmap, count);
      const got = Array.from({ length: count }, (_, k) => (bitmap[k >> 3] >> (k & 7)) & 1);
      expect(got, `trial ${trial}`).toEqual(Array.from(want));
    }
  });

  it('a level of 2 in an RLE run, or a run past the buffer, is a ParquetFormatError', () => {
    const bitmap = new Uint8Array(4);
    expect(() => decodeHybridBits(Uint8Array.from([4 << 1, 2]), 0, 2, bitmap, 4)).toThrow(ParquetFormatError);
    expect(() => decodeHybridBits(Uint8Array.from([(2 << 1) | 1, 0xff]), 0, 2, bitmap, 16)).toThrow(ParquetFormatError);
  });
});

describe('RLE / bit-packed hybrid of 1–32 bits (decodeHybrid) gives back the values encoded', () => {
  /** Values packed LSB first, `width` bits each, in groups of 8 (a bit-packed run), the last group padded. */
  const pack = (values: number[], width: number): number[] => {
    const groups = Math.ceil(values.length / 8);
    const bytes = new Array<number>(groups * width).fill(0);
    for (let k = 0; k < groups * 8; k++) {
      const v = values[k] ?? 0;
      for (let b = 0; b < width; b++) {
        const bit = k * width + b;
        if (Math.floor(v / 2 ** b) % 2) bytes[bit >> 3] |= 1 << (bit & 7);
      }
    }
    return bytes;
  };
  const uleb = (v: number, out: number[]) => {
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
  };

  it('runs of every width, RLE and bit-packed mixed, decoded whole or cut inside the last run', () => {
    for (let width = 1; width <= 32; width++) {
      for (let trial = 0; trial < 12; trial++) {
        const bytes: number[] = [];
        const values: number[] = [];
        const runs = 1 + Math.floor(rand() * 4);
        for (let r = 0; r < runs; r++) {
          const v = () => Math.floor(rand() * 2 ** width);
          if (rand() < 0.35) {
            const n = 1 + Math.floor(rand() * 40);
            const x = v();
            uleb(n << 1, bytes);
            for (let i = 0; i < (width + 7) >> 3; i++) bytes.push(Math.floor(x / 2 ** (8 * i)) % 256);
            for (let i = 0; i < n; i++) values.push(x);
          } else {
            // Several groups (the 8-at-a-time path), the run's last group partly used by the next run.
            const run = Array.from({ length: 8 * (1 + Math.floor(rand() * 6)) }, v);
            uleb(((run.length / 8) << 1) | 1, bytes);
            bytes.push(...pack(run, width));
            values.push(...run);
          }
        }
        const count = rand() < 0.5 ? values.length : Math.floor(rand() * (values.length + 1));
        // Signed 32-bit, as Int32Array holds a 32-bit value.
        const want = values.slice(0, count).map((x) => x | 0);
        const out = new Int32Array(count + 3).fill(-7);
        decodeHybrid(Uint8Array.from(bytes), 0, bytes.length, width, out, count);
        expect(Array.from(out.subarray(0, count)), `width ${width} trial ${trial}`).toEqual(want);
        expect(Array.from(out.subarray(count)), 'slots past count untouched').toEqual([-7, -7, -7]);
      }
    }
  });

  it('a bit-packed run that the buffer cuts short is a ParquetFormatError, at any width', () => {
    for (let width = 2; width <= 24; width++) {
      const bytes = [
        (3 << 1) | 1,
        ...pack(
          Array.from({ length: 24 }, (_, k) => k % 2 ** width),
          width,
        ),
      ];
      const cut = Uint8Array.from(bytes.slice(0, bytes.length - 1));
      expect(() => decodeHybrid(cut, 0, cut.length, width, new Int32Array(24), 24)).toThrow(ParquetFormatError);
    }
  });
});

describe('a page header announcing a huge uncompressed size', () => {
  it('is a ParquetFormatError before any buffer is sized from it (dictionary and data pages)', () => {
    const dir = tempDir('pqhuge');
    const file = join(dir, 'dict.parquet');
    const ids = Array.from({ length: 2000 }, (_, i) => Array.from({ length: i % 3 }, () => Math.floor(rand() * 4)));
    const buf = parquetWriteBuffer({
      schema: [
        { name: 'root', num_children: 1 },
        { name: 'Tau_id', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
      ],
      codec: 'SNAPPY',
      columnData: [{ name: 'Tau_id', data: ids, encoding: 'RLE_DICTIONARY' }],
    } as Parameters<typeof parquetWriteBuffer>[0]);
    writeFileSync(file, new Uint8Array(buf));
    const ab = buf as ArrayBuffer;
    const md = parquetMetadata(ab);
    const leaf = mapSchema(md).branches.get('Tau_id') as LeafColumn;
    const meta = md.row_groups[0].columns[leaf.columnIndex].meta_data!;
    const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    const rows = Number(md.row_groups[0].num_rows);
    // Rewrite the chunk with page `target`'s uncompressed size (thrift field 2) set to 2^30.
    const patched = (target: number): Uint8Array => {
      const out = new ByteWriter();
      const reader = { view: new DataView(ab), offset: start };
      for (let page = 0; reader.offset < end; page++) {
        const header = deserializeTCompactProtocol(reader) as Record<string, unknown>;
        const size = header.field_3 as number;
        const body = new Uint8Array(ab, reader.offset, size);
        reader.offset += size;
        if (page === target) header.field_2 = 2 ** 30;
        serializeTCompactProtocol(out, header);
        out.appendBytes(body);
      }
      return new Uint8Array(out.getBytes());
    };
    const intact = decodeChunk(patched(-1), meta, leaf, rows);
    expect(columnEvents({ offsets: intact.offsets!, content: intact.values })).toEqual(ids.slice(0, rows));
    for (const target of [0, 1]) {
      expect(() => decodeChunk(patched(target), meta, leaf, rows), `page ${target}`).toThrow(ParquetFormatError);
    }
  });
});
