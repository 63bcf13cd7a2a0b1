/**
 * Parquet structure checks that the random damage test cannot aim at precisely: page CRCs (absent from
 * the shared files), a count column that disagrees with its lists, and how the runner classifies such
 * damage (a file error, skippable, not a processor failure).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { parquetWriteFile } from 'hyparquet-writer';
import { RistrettoError } from '../../src/errors/index.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeChunk } from '../../src/io/parquet/chunk.ts';
import { ParquetChecksumError, ParquetFormatError, openParquet } from '../../src/io/parquet/index.ts';
import { mapSchema, type LeafColumn } from '../../src/io/parquet/schema.ts';
import { ParquetFileWriter, writeParquet } from '../../src/io/parquet/write.ts';
import { FileReadError } from '../../src/runner/errors.ts';
import { createChunkState, processChunk } from '../../src/runner/process-chunk.ts';
import { defineProcessor, type Processor } from '../../src/processor/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-pq-structure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jets = { offsets: new Int32Array([0, 2, 2, 5, 6]), content: new Float32Array([1, 2, 3, 4, 5, 6]) };

/** The schema of a nested-layout file: Jet list<struct<pt, eta>>, then `flat` top-level columns (all FLOAT). */
function nestedJetSchema(...flat: string[]) {
  const f = (name: string) => ({ name, type: 'FLOAT' as const, repetition_type: 'OPTIONAL' as const });
  return [
    { name: 'schema', num_children: 1 + flat.length },
    { name: 'Jet', repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL' as const, num_children: 2 },
    f('pt'),
    f('eta'),
    ...flat.map(f),
  ];
}

/** The column chunk of `name` with a CRC-32 added to every page header (as a writer that sets them would). */
function withCrcs(
  file: string,
  name: string,
): {
  bytes: Uint8Array;
  plain: Uint8Array;
  leaf: LeafColumn;
  meta: NonNullable<ReturnType<typeof parquetMetadata>['row_groups'][0]['columns'][0]['meta_data']>;
  rows: number;
} {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const md = parquetMetadata(ab);
  const leaf = mapSchema(md).branches.get(name) as LeafColumn;
  const meta = md.row_groups[0].columns[leaf.columnIndex].meta_data!;
  const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  const end = start + Number(meta.total_compressed_size);
  const plain = new Uint8Array(ab, start, end - start);
  const out = new ByteWriter();
  const reader = { view: new DataView(ab), offset: start };
  while (reader.offset < end) {
    const header = deserializeTCompactProtocol(reader) as Record<string, unknown>;
    const size = header.field_3 as number;
    const page = new Uint8Array(ab, reader.offset, size);
    reader.offset += size;
    const fields: Record<string, unknown> = {};
    for (const k of Object.keys(header).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))) {
      if (Number(k.slice(6)) > 4 && !('field_4' in fields)) fields.field_4 = crc32(page) | 0;
      fields[k] = header[k];
    }
    serializeTCompactProtocol(out, fields);
    out.appendBytes(page);
  }
  return { bytes: new Uint8Array(out.getBytes()), plain, leaf, meta, rows: Number(md.row_groups[0].num_rows) };
}

describe('Parquet structure checks', () => {
  it('verifies page CRCs where the header carries one, and refuses a page that fails it', async () => {
    const file = join(dir, 'crc.parquet');
    await writeParquet(
      { Jet_pt: jets, nJet: new Int32Array([2, 0, 3, 1]), MET_pt: new Float32Array([5, 6, 7, 8]) },
      file,
    );
    for (const name of ['Jet_pt', 'MET_pt']) {
      const c = withCrcs(file, name);
      expect(c.bytes.length).toBeGreaterThan(c.plain.length); // the CRC fields are there
      const good = decodeChunk(c.bytes, c.meta, c.leaf, c.rows);
      expect(good).toEqual(decodeChunk(c.plain, c.meta, c.leaf, c.rows));
      const bad = c.bytes.slice();
      bad[bad.length - 1] ^= 0x10; // a value byte: invisible without the CRC
      expect(() => decodeChunk(bad, c.meta, c.leaf, c.rows)).toThrow(ParquetChecksumError);
      expect(() => decodeChunk(bad, c.meta, c.leaf, c.rows)).toThrow(/CRC-32/);
    }
  });

  it('a list column whose lengths disagree with its count column is a format error on every read', async () => {
    const file = join(dir, 'counts.parquet');
    await writeParquet({ Jet_pt: jets, Jet_eta: jets, nJet: new Int32Array([2, 0, 2, 2]) }, file);
    const r = await openParquet(file);
    try {
      // Alone, with its count column, or with a sibling: always checked against nJet.
      for (const names of [['Jet_pt'], ['Jet_eta', 'nJet'], ['nJet', 'Jet_pt', 'Jet_eta']]) {
        const err = await r.read(names, 0, 4).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ParquetFormatError);
        expect((err as Error).message).toMatch(/disagree with nJet/);
        expect((err as Error).message).toContain(file);
      }
      // Columns outside the collection still read.
      expect(Array.from((await r.read(['nJet'], 0, 4)).nJet as Int32Array)).toEqual([2, 0, 2, 2]);
    } finally {
      await r.close();
    }
    // Consistent counts read as before.
    const ok = join(dir, 'counts-ok.parquet');
    await writeParquet({ Jet_pt: jets, nJet: new Int32Array([2, 0, 3, 1]) }, ok);
    const r2 = await openParquet(ok);
    expect(Array.from(((await r2.read(['Jet_pt'], 1, 4)).Jet_pt as { offsets: Int32Array }).offsets)).toEqual([
      0, 0, 3, 4,
    ]);
    await r2.close();
  });

  it('flat layout over several row groups: the stored count checks its lists in each one, and reads as stored', async () => {
    // 4 row groups of 50 events; nJet is int64 (dictionary-encoded: few distinct counts). Row group 2's nJet
    // says one more jet for event 120 than Jet_pt holds. The count column is decoded only as the lists'
    // reference when Jet_pt is read alone, row group after row group, so this also covers that decoding
    // reuses its memory without carrying one group's counts into the next.
    const counts = Array.from({ length: 200 }, (_, i) => (i * 7) % 5);
    const write = async (file: string, damaged: boolean) => {
      const w = new ParquetFileWriter(file, { nJet: 'int64' });
      for (let g = 0; g < 4; g++) {
        const n = counts.slice(50 * g, 50 * g + 50);
        const offsets = new Int32Array(51);
        for (let i = 0; i < 50; i++) offsets[i + 1] = offsets[i] + n[i];
        const content = Float32Array.from({ length: offsets[50] }, (_, k) => 1000 * g + k);
        const stored = Float64Array.from(n, (c, i) => (damaged && 50 * g + i === 120 ? c + 1 : c));
        w.write({ Jet_pt: { offsets, content }, nJet: stored });
      }
      await w.close();
    };
    const good = join(dir, 'flat-groups.parquet');
    const bad = join(dir, 'flat-groups-bad.parquet');
    await write(good, false);
    await write(bad, true);
    const buf = readFileSync(good);
    const md = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    expect(md.row_groups).toHaveLength(4);
    const nJetMeta = md.row_groups[0].columns.find((c) => c.meta_data?.path_in_schema[0] === 'nJet')?.meta_data;
    expect(nJetMeta?.encodings).toContain('RLE_DICTIONARY'); // the path that gathers into place

    const r = await openParquet(good);
    try {
      for (let g = 0; g < 4; g++) {
        const jet = (await r.read(['Jet_pt'], 50 * g, 50 * g + 50)).Jet_pt as { offsets: Int32Array };
        const lengths = Array.from(jet.offsets.subarray(1), (o, i) => o - jet.offsets[i]);
        expect(lengths).toEqual(counts.slice(50 * g, 50 * g + 50));
      }
      expect(Array.from((await r.read(['nJet'], 0, 200)).nJet as Float64Array)).toEqual(counts);
    } finally {
      await r.close();
    }

    const rb = await openParquet(bad);
    try {
      // Row groups 0 and 1 agree; the lists of group 2 disagree with its stored count, alone or with it.
      await rb.read(['Jet_pt'], 0, 100);
      for (const names of [['Jet_pt'], ['Jet_pt', 'nJet']]) {
        const err = await rb.read(names, 0, 200).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ParquetFormatError);
        expect((err as Error).message).toMatch(/row group 2 .* disagree with nJet/);
      }
      expect(Array.from((await rb.read(['nJet'], 120, 121)).nJet as Float64Array)).toEqual([counts[120] + 1]);
    } finally {
      await rb.close();
    }
  });

  it('nested layout: fields of one collection whose list lengths disagree are a format error when read together or one after the other', async () => {
    // Two files that differ only in Jet's list lengths ([2, 0, 3, 1] vs [2, 0, 2, 2], the same six
    // values): uncompressed, without statistics, their eta column chunks have the same size, so the
    // second file's chunk is spliced into the first. pt then says [2, 0, 3, 1] and eta [2, 0, 2, 2].
    const schema = nestedJetSchema('MET_pt');
    const write = (file: string, lengths: number[]) => {
      let v = 0;
      parquetWriteFile({
        filename: file,
        schema,
        codec: 'UNCOMPRESSED',
        statistics: false,
        columnData: [
          { name: 'Jet', data: lengths.map((n) => Array.from({ length: n }, () => ({ pt: ++v, eta: -v }))) },
          { name: 'MET_pt', data: [1, 2, 3, 4] },
        ],
      });
    };
    const good = join(dir, 'nested-agree.parquet');
    const other = join(dir, 'nested-other.parquet');
    write(good, [2, 0, 3, 1]);
    write(other, [2, 0, 2, 2]);
    const a = new Uint8Array(readFileSync(good));
    const b = new Uint8Array(readFileSync(other));
    const chunk = (bytes: Uint8Array) => {
      const md = parquetMetadata(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      );
      const meta = md.row_groups[0].columns.find((c) => c.meta_data?.path_in_schema.at(-1) === 'eta')?.meta_data;
      if (!meta) throw new Error('no eta column chunk');
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      return { start, end: start + Number(meta.total_compressed_size) };
    };
    const ca = chunk(a);
    const cb = chunk(b);
    expect(cb.end - cb.start).toBe(ca.end - ca.start); // else the splice below would not be a valid file
    const bad = join(dir, 'nested-disagree.parquet');
    const spliced = a.slice();
    spliced.set(b.subarray(cb.start, cb.end), ca.start);
    expect(spliced).not.toEqual(a); // the levels differ
    writeFileSync(bad, spliced);

    // The pristine file: both fields agree, whichever order they are read in.
    const ok = await openParquet(good);
    try {
      const both = await ok.read(['Jet_pt', 'Jet_eta'], 0, 4);
      expect(Array.from((both.Jet_eta as { offsets: Int32Array }).offsets)).toEqual([0, 2, 2, 5, 6]);
    } finally {
      await ok.close();
    }

    const disagree = async (reads: string[][], column: string, reference: string) => {
      const r = await openParquet(bad);
      try {
        for (const names of reads.slice(0, -1)) await r.read(names, 0, 4);
        const err = await r.read(reads[reads.length - 1], 0, 4).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ParquetFormatError);
        const e = err as ParquetFormatError;
        expect(e.message).toContain(bad);
        expect(e.message).toContain('row group 0');
        expect(e.message).toMatch(new RegExp(`column ${column} .* disagree with ${reference}, another field`));
        expect(e.context).toMatchObject({ file: bad, column, reference, rowGroup: 0 });
      } finally {
        await r.close();
      }
    };
    await disagree([['Jet_pt', 'Jet_eta']], 'Jet_eta', 'Jet_pt'); // one read
    await disagree([['Jet_eta', 'Jet_pt']], 'Jet_pt', 'Jet_eta');
    await disagree([['Jet_pt'], ['MET_pt'], ['Jet_eta']], 'Jet_eta', 'Jet_pt'); // a later read of the row group
    await disagree([['Jet_eta', 'MET_pt'], ['Jet_pt']], 'Jet_pt', 'Jet_eta');

    // A field read alone is not compared with a sibling it did not read (that would cost a whole column
    // chunk); it gives its own lists, as the file stores them.
    const r = await openParquet(bad);
    try {
      expect(Array.from(((await r.read(['Jet_eta'], 0, 4)).Jet_eta as { offsets: Int32Array }).offsets)).toEqual([
        0, 2, 2, 4, 6,
      ]);
    } finally {
      await r.close();
    }
  });

  it('every byte of a small nested-layout file flipped: values or a typed error, never a hang', {
    timeout: 60_000,
  }, async () => {
    // Byte 438 ^ 1 of this file once made a schema num_children negative, and hyparquet's GeoParquet pass
    // (i += num_children) looped forever; every other byte is swept too.
    const schema = nestedJetSchema();
    const file = join(dir, 'nested-small.parquet');
    parquetWriteFile({
      filename: file,
      schema,
      columnData: [
        {
          name: 'Jet',
          data: Array.from({ length: 50 }, (_, i) => Array.from({ length: i % 4 }, (_, k) => ({ pt: i + k, eta: -k }))),
        },
      ],
    });
    const pristine = new Uint8Array(readFileSync(file));
    const copy = join(dir, 'nested-damaged.parquet');
    let typed = 0;
    for (let at = 0; at < pristine.length; at++) {
      const b = pristine.slice();
      b[at] ^= at % 2 ? 0x80 : 0x01;
      writeFileSync(copy, b);
      let r;
      try {
        r = await openParquet(copy);
        await r.read(['Jet_pt', 'Jet_eta', 'nJet'], 0, r.numEntries);
      } catch (e) {
        if (!(e instanceof RistrettoError) || !e.message.includes(copy)) throw e;
        typed++;
      } finally {
        await r?.close();
      }
    }
    expect(typed).toBeGreaterThan(pristine.length / 4);
  });

  it('the runner reports such damage as a file read failure (skippable), not a processor failure', async () => {
    const file = join(dir, 'counts-runner.parquet');
    await writeParquet({ Jet_pt: jets, nJet: new Int32Array([2, 0, 2, 2]) }, file);
    const processor = defineProcessor<{ n: number }>({
      accumulator: () => ({ n: 0 }),
      process(events) {
        return { n: events.Jet.pt.content.length };
      },
    });
    const state = createChunkState();
    try {
      const err = await processChunk(
        { dataset: 'd', file, tree: 'Events', entryStart: 0, entryStop: 4, fileId: 'f' },
        processor as Processor<unknown>,
        state,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileReadError);
      expect((err as Error).message).toMatch(/disagree with nJet/);
    } finally {
      await state.readers.closeAll();
    }
  });
});
