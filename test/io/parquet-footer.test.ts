/**
 * The lazily decoded Parquet footer (src/io/parquet/footer.ts) against hyparquet's full parse: schema,
 * row counts and every column chunk's metadata must agree on real files and on written edge cases
 * (many row groups, a footer larger than the first read, INT64 statistics, dictionary pages, optional
 * and list columns, key-value metadata, no rows). Damaged footers give a ParquetFormatError naming the
 * file, at open or, for a column chunk's own bytes, at the read that first needs it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { type FileMetaData, parquetMetadata, type SchemaElement } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFooter, readFooter, type ParquetFooter } from '../../src/io/parquet/footer.ts';
import { openParquet, ParquetFormatError, ParquetUnsupportedError } from '../../src/io/parquet/index.ts';
import { ThriftCursor, ThriftError } from '../../src/io/parquet/thrift.ts';
import { openSource } from '../../src/io/source.ts';
import { sharedPath } from '../shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-pq-footer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHARED = [
  'Run2012B_SingleMu-1000.parquet',
  'Run2012B_SingleMu-restructured-1000.parquet',
  'nano_dimuon.parquet',
  'nano_dy.parquet',
];

function footerBytes(file: string): { all: Buffer; footer: Uint8Array } {
  const all = readFileSync(file);
  const len = all.readUInt32LE(all.length - 8);
  return { all, footer: all.subarray(all.length - 8 - len, all.length - 8) };
}

function hyparquetOf(all: Buffer): FileMetaData {
  return parquetMetadata(all.buffer.slice(all.byteOffset, all.byteOffset + all.length) as ArrayBuffer, {
    geoparquet: false,
  });
}

/** An object without its undefined-valued keys (hyparquet sets every key, the footer only present ones). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every field the reader uses, compared with hyparquet's (bigints as numbers). */
function expectSameAsHyparquet(lazy: ParquetFooter, full: FileMetaData): void {
  expect(lazy.schema.map((e) => defined(e))).toEqual(full.schema.map((e) => defined(e as SchemaElement)));
  expect(lazy.numRows).toBe(Number(full.num_rows));
  expect(lazy.version).toBe(full.version);
  expect(lazy.createdBy).toBe(full.created_by);
  expect(lazy.rowGroupRows).toEqual(full.row_groups.map((g) => Number(g.num_rows)));
  full.row_groups.forEach((g, gi) => {
    expect(lazy.columnCount(gi)).toBe(g.columns.length);
    g.columns.forEach((c, ci) => {
      const m = c.meta_data!;
      const opt = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));
      expect(defined({ ...lazy.column(gi, ci)! })).toEqual(
        defined({
          type: m.type,
          encodings: m.encodings,
          path_in_schema: m.path_in_schema,
          codec: m.codec,
          num_values: Number(m.num_values),
          total_uncompressed_size: Number(m.total_uncompressed_size),
          total_compressed_size: Number(m.total_compressed_size),
          data_page_offset: Number(m.data_page_offset),
          index_page_offset: opt(m.index_page_offset),
          dictionary_page_offset: opt(m.dictionary_page_offset),
          file_path: c.file_path,
        }),
      );
    });
  });
}

/** A file with every feature below, written by hyparquet-writer (not by the code under test). */
function writeEdgeCases(file: string, rows: number, rowGroupSize: number): void {
  const big = Array.from({ length: rows }, (_, i) => BigInt(i) * 3_000_000_007n - 5_000_000_000n); // beyond 2^32, negative
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'id', data: big, type: 'INT64' },
      { name: 'u', data: Array.from({ length: rows }, (_, i) => (i * 7) % 13), type: 'INT32' },
      {
        name: 'maybe',
        data: Array.from({ length: rows }, (_, i) => (i % 3 ? i / 4 : null)),
        type: 'DOUBLE',
        nullable: true,
      },
      { name: 'label', data: Array.from({ length: rows }, (_, i) => ['a', 'bb', 'ccc'][i % 3]), type: 'STRING' },
      {
        name: 'pts',
        data: Array.from({ length: rows }, (_, i) => Array.from({ length: i % 4 }, (_, k) => i + k / 8)),
      },
    ],
    rowGroupSize,
    kvMetadata: [{ key: 'origin', value: 'parquet-footer.test' }],
  });
}

describe('lazily decoded footer', () => {
  it.each(SHARED)('%s: schema, row groups and column chunks equal hyparquet’s full parse', (name) => {
    const { all, footer } = footerBytes(sharedPath('data', name));
    expectSameAsHyparquet(parseFooter(footer, name), hyparquetOf(all));
  });

  it('written edge cases: 300 row groups (footer beyond the first 64 KB read), INT64 statistics, nulls, lists, strings', async () => {
    const file = join(dir, 'edge.parquet');
    writeEdgeCases(file, 3000, 10);
    const { all, footer } = footerBytes(file);
    expect(footer.length).toBeGreaterThan(64 * 1024); // the footer takes a second read
    const full = hyparquetOf(all);
    expect(full.row_groups).toHaveLength(300);
    expect(typeof full.row_groups[1].columns[0].meta_data!.statistics!.min_value).toBe('bigint'); // INT64 stats present
    expectSameAsHyparquet(parseFooter(footer, file), full);
    // Through a ByteSource, as openParquet reads it (two reads: the last 64 KB, then the rest).
    const source = await openSource(file);
    try {
      expectSameAsHyparquet(await readFooter(source), full);
    } finally {
      await source.close();
    }
    // And the reader: every row group's values of the numeric columns.
    const r = await openParquet(file);
    try {
      expect(r.numEntries).toBe(3000);
      expect(r.boundaries()).toEqual(Array.from({ length: 301 }, (_, i) => i * 10));
      const cols = await r.read(['id', 'u', 'maybe'], 0, 3000);
      const id = cols.id as Float64Array;
      expect(id[2999]).toBe(Number(2999n * 3_000_000_007n - 5_000_000_000n));
      expect(Array.from((cols.u as Int32Array).subarray(0, 14))).toEqual([0, 7, 1, 8, 2, 9, 3, 10, 4, 11, 5, 12, 6, 0]);
      expect(Number.isNaN((cols.maybe as Float64Array)[0])).toBe(true);
      expect((cols.maybe as Float64Array)[2999]).toBe(2999 / 4);
    } finally {
      await r.close();
    }
  });

  it('a file without rows: no row groups, no entries', async () => {
    const file = join(dir, 'empty.parquet');
    parquetWriteFile({ filename: file, columnData: [{ name: 'x', data: [], type: 'FLOAT' }] });
    const { all, footer } = footerBytes(file);
    const full = hyparquetOf(all);
    const lazy = parseFooter(footer, file);
    expectSameAsHyparquet(lazy, full);
    const r = await openParquet(file);
    expect(r.numEntries).toBe(0);
    expect(r.branches().map((b) => b.name)).toEqual(['x']);
    await r.close();
  });

  it('a BROTLI file (decompressor imported on demand at open) and a GZIP one read the values written', async () => {
    const values = Array.from({ length: 500 }, (_, i) => Math.fround(Math.sin(i) * 100));
    const ints = Array.from({ length: 500 }, (_, i) => (i * 37) % 11); // few distinct: dictionary pages
    for (const codec of ['BROTLI', 'GZIP'] as const) {
      const file = join(dir, `${codec}.parquet`);
      parquetWriteFile({
        filename: file,
        codec,
        compressors: {
          BROTLI: (b: Uint8Array) => new Uint8Array(brotliCompressSync(b)),
          GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)),
        },
        columnData: [
          { name: 'x', data: values, type: 'FLOAT' },
          { name: 'k', data: ints, type: 'INT32' },
        ],
        rowGroupSize: 200,
      });
      expect(hyparquetOf(readFileSync(file)).row_groups[2].columns[0].meta_data!.codec).toBe(codec);
      const r = await openParquet(file);
      try {
        const cols = await r.read(['x', 'k'], 0, 500);
        expect(Array.from(cols.x as Float32Array)).toEqual(values);
        expect(Array.from(cols.k as Int32Array)).toEqual(ints);
      } finally {
        await r.close();
      }
    }
  });

  it('64-bit fields come out exact as numbers, negative ones too, without BigInt', () => {
    // Bytes built by hand: a struct with i64 field 1 = 5e9 + 3 and field 2 = -(2^40) (zigzag varints), then STOP.
    const zigzag = (v: bigint) => (v >= 0n ? v * 2n : -v * 2n - 1n);
    const varint = (v: bigint) => {
      const out: number[] = [];
      do {
        const b = Number(v & 0x7fn);
        v >>= 7n;
        out.push(v ? b | 0x80 : b);
      } while (v);
      return out;
    };
    const bytes = new Uint8Array([0x16, ...varint(zigzag(5_000_000_003n)), 0x16, ...varint(zigzag(-(2n ** 40n))), 0]);
    const c = new ThriftCursor(bytes);
    const values: number[] = [];
    c.struct((_, t) => void values.push(c.int(t, 'x')));
    expect(values).toEqual([5_000_000_003, -(2 ** 40)]);
    expect(c.pos).toBe(bytes.length);
  });

  it('a footer with fields the reader skips (unknown ids, long-form ids, nested structs) decodes the same', () => {
    // FileMetaData written with hyparquet-writer's Thrift encoder: an unknown field 42 holding a struct
    // with a list of structs, and a column chunk's meta_data with an unknown field 99.
    const col = {
      field_2: 4n,
      field_3: {
        field_1: 5, // DOUBLE
        field_2: [0],
        field_3: [new TextEncoder().encode('x')],
        field_4: 0,
        field_5: 3n,
        field_6: 24n,
        field_7: 24n,
        field_9: 4n,
        field_99: { field_1: [{ field_1: 7 }, { field_1: 8 }], field_2: 1.5 },
      },
    };
    const fmd = {
      field_1: 2,
      field_2: [
        { field_4: new TextEncoder().encode('schema'), field_5: 1 },
        { field_1: 5, field_3: 0, field_4: new TextEncoder().encode('x') },
      ],
      field_3: 3n,
      field_4: [{ field_1: [col], field_2: 24n, field_3: 3n }],
      field_42: { field_1: [{ field_1: true }, { field_2: 'ok' }] },
    };
    const w = new ByteWriter();
    serializeTCompactProtocol(w, fmd);
    const bytes = new Uint8Array(w.getBuffer());
    const f = parseFooter(bytes, 'crafted.parquet');
    expect(f.rowGroupRows).toEqual([3]);
    expect(f.schema.map((e) => e.name)).toEqual(['schema', 'x']);
    expect(f.column(0, 0)).toMatchObject({ type: 'DOUBLE', codec: 'UNCOMPRESSED', num_values: 3, data_page_offset: 4 });
  });
});

describe('damaged footers', () => {
  const name = 'nano_dimuon.parquet';

  async function openError(bytes: Uint8Array, label: string): Promise<unknown> {
    const file = join(dir, `${label}.parquet`);
    writeFileSync(file, bytes);
    try {
      const r = await openParquet(file);
      await r.close();
      return undefined;
    } catch (e) {
      return e;
    }
  }

  it('a truncated file, a missing magic or an impossible footer length: ParquetFormatError naming the file', async () => {
    const { all } = footerBytes(sharedPath('data', name));
    const cases: [string, Uint8Array][] = [
      ['truncated-end', all.subarray(0, all.length - 1000)],
      ['truncated-tiny', all.subarray(0, 7)],
      ['no-magic', Buffer.concat([all.subarray(0, all.length - 4), Buffer.from('PAR2')])],
      [
        'huge-length',
        (() => {
          const b = Buffer.from(all);
          b.writeUInt32LE(all.length, all.length - 8);
          return b;
        })(),
      ],
    ];
    for (const [label, bytes] of cases) {
      const e = await openError(bytes, label);
      expect(e, label).toBeInstanceOf(ParquetFormatError);
      expect((e as Error).message, label).toContain(join(dir, `${label}.parquet`));
      expect((e as ParquetFormatError).context.file, label).toBe(join(dir, `${label}.parquet`));
    }
  });

  it('footer bytes cut short or overwritten: a ParquetFormatError at open, never another error or a hang', async () => {
    const { all, footer } = footerBytes(sharedPath('data', name));
    const start = all.length - 8 - footer.length;
    // A length field `cut` bytes short: the footer then starts `cut` bytes into the real one.
    for (const cut of [1, 17, Math.floor(footer.length / 2), footer.length - 2]) {
      const b = Buffer.from(all);
      b.writeUInt32LE(footer.length - cut, all.length - 8);
      const e = await openError(b, `cut-${cut}`);
      expect(e, `cut ${cut}`).toBeInstanceOf(ParquetFormatError);
      expect((e as Error).message).toContain(`cut-${cut}.parquet`);
    }
    // Type codes no Parquet footer holds (13 = map, 15 = unused), written over a field header.
    const b = Buffer.from(all);
    b[start] = (b[start] & 0xf0) | 15;
    const e = await openError(b, 'bad-type');
    expect(e).toBeInstanceOf(ParquetFormatError);
    expect((e as Error).message).toMatch(/bad-type\.parquet is not a readable Parquet file: .*type 15/);
  });

  it('a damaged column chunk in row group 2: the other row groups read, row group 2 fails naming file and row group', async () => {
    const file = join(dir, 'chunk-damage-source.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'a', data: Array.from({ length: 40 }, (_, i) => i), type: 'INT32' },
        { name: 'zzmarker', data: Array.from({ length: 40 }, (_, i) => i * 2), type: 'INT32' },
      ],
      rowGroupSize: 10,
      statistics: false,
    });
    const { all } = footerBytes(file);
    // "zzmarker" occurs in the schema, then in each row group's path_in_schema, followed by the codec
    // field (header 0x15: next field id, i32; then SNAPPY = 1 as zigzag 2). A codec id that does not exist
    // keeps the bytes well-formed Thrift, so only decoding that column chunk can notice.
    const at: number[] = [];
    for (let i = all.indexOf('zzmarker'); i >= 0; i = all.indexOf('zzmarker', i + 1)) at.push(i);
    expect(at).toHaveLength(5); // schema + 4 row groups
    const b = Buffer.from(all);
    expect([b[at[3] + 8], b[at[3] + 9]]).toEqual([0x15, 2]);
    b[at[3] + 9] = 120; // codec 60
    const damaged = join(dir, 'chunk-damage.parquet');
    writeFileSync(damaged, b);

    const r = await openParquet(damaged);
    try {
      expect(r.numEntries).toBe(40);
      const ok = await r.read(['zzmarker'], 0, 20);
      expect(Array.from(ok.zzmarker as Int32Array)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
      expect(Array.from((await r.read(['a'], 20, 30)).a as Int32Array)).toEqual(
        Array.from({ length: 10 }, (_, i) => 20 + i),
      ); // another column of the same row group decodes
      const e = await r.read(['zzmarker'], 20, 30).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ParquetFormatError);
      expect((e as Error).message).toContain(damaged);
      expect((e as Error).message).toContain('row group 2');
      expect((e as ParquetFormatError).context).toMatchObject({ file: damaged, rowGroup: 2 });
    } finally {
      await r.close();
    }
  });

  it('a column chunk stored in another file (file_path) is refused, not read from this one', async () => {
    const file = join(dir, 'external-source.parquet');
    parquetWriteFile({ filename: file, columnData: [{ name: 'v', data: [1, 2, 3], type: 'INT32' }] });
    const { all, footer } = footerBytes(file);
    const full = hyparquetOf(all);
    // Re-encode the footer with ColumnChunk.file_path set (hyparquet-writer's encoder, field ids as in parquet.thrift).
    const m = full.row_groups[0].columns[0].meta_data!;
    const fmd = {
      field_1: full.version,
      field_2: full.schema.map((e) => ({
        field_1: e.type ? ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE'].indexOf(e.type) : undefined,
        field_3: e.repetition_type ? ['REQUIRED', 'OPTIONAL', 'REPEATED'].indexOf(e.repetition_type) : undefined,
        field_4: new TextEncoder().encode(e.name),
        field_5: e.num_children,
      })),
      field_3: full.num_rows,
      field_4: [
        {
          field_1: [
            {
              field_1: new TextEncoder().encode('elsewhere.parquet'),
              field_2: 0n,
              field_3: {
                field_1: 1,
                field_2: [0],
                field_3: [new TextEncoder().encode('v')],
                field_4: ['UNCOMPRESSED', 'SNAPPY'].indexOf(m.codec),
                field_5: m.num_values,
                field_6: m.total_uncompressed_size,
                field_7: m.total_compressed_size,
                field_9: m.data_page_offset,
              },
            },
          ],
          field_2: 0n,
          field_3: full.row_groups[0].num_rows,
        },
      ],
    };
    const w = new ByteWriter();
    serializeTCompactProtocol(w, fmd);
    const newFooter = new Uint8Array(w.getBuffer());
    const len = Buffer.alloc(4);
    len.writeUInt32LE(newFooter.length);
    const out = join(dir, 'external.parquet');
    writeFileSync(
      out,
      Buffer.concat([all.subarray(0, all.length - 8 - footer.length), newFooter, len, Buffer.from('PAR1')]),
    );
    const r = await openParquet(out);
    try {
      const e = await r.read(['v'], 0, 3).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ParquetUnsupportedError);
      expect((e as Error).message).toMatch(/external\.parquet .*elsewhere\.parquet/);
    } finally {
      await r.close();
    }
  });

  it('the cursor refuses reads past the end, absurd list sizes and deep nesting with a position', () => {
    expect(() => new ThriftCursor(new Uint8Array([0x80, 0x80])).varint()).toThrow(ThriftError);
    // A list header announcing 1000 elements in 3 bytes.
    expect(() => new ThriftCursor(new Uint8Array([0xf5, 0xe8, 0x07, 1, 2, 3])).skip(9)).toThrow(/list of 1000/);
    // 100 nested structs (field 1 of type struct, again and again).
    expect(() => new ThriftCursor(new Uint8Array(100).fill(0x1c)).skip(12)).toThrow(/nested too deep/);
    expect(() => new ThriftCursor(new Uint8Array([0x18, 5, 65])).skip(12)).toThrow(/binary of 5/);
  });
});
