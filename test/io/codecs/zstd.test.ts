/**
 * ZSTD through libzstd (wasm): frames decode to the original bytes and to what fzstd (an independent
 * pure-JS decoder) gives, on hand-made frames and on the real pages and baskets of DuckDB-, uproot- and
 * hyparquet-writer-written files; damaged frames and wrong sizes are typed errors naming file and
 * column/branch; readSync works in a fresh process without a preload; a process whose wasm cannot load
 * falls back to fzstd with one warning; thread-pool workers read ZSTD files like the main thread.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { decompress as fzstd } from 'fzstd';
import { parquetHeader } from 'hyparquet/src/column.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { ThreadsExecutor } from '../../../executors/threads/index.ts';
import {
  ZstdFrameError,
  zstdCompress,
  zstdDecoder,
  zstdDecompress,
  zstdDecompressInto,
} from '../../../src/io/codecs/zstd.ts';
import { convert } from '../../../src/io/convert.ts';
import { ParquetFormatError } from '../../../src/io/parquet/errors.ts';
import { openParquet } from '../../../src/io/parquet/index.ts';
import type { Column } from '../../../src/io/reader.ts';
import { CorruptBasketError } from '../../../src/io/root/errors.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { xxh64 } from '../../../src/io/root/xxhash64.ts';
import { runAnalysis } from '../../../src/runner/run.ts';
import type { Columns } from '../../fixtures/processors/columns.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { tempDir } from '../../helpers/files.ts';
import { fixture } from '../../runner/helpers.ts';
import { sharedPath } from '../../shared.ts';
import { expectSameColumn, expectSameEntries } from '../root/compare.ts';
import { jsrootBaskets, jsrootRead } from '../root/jsroot-reference.ts';

const dir = tempDir('zstd');
const REPO = resolve(import.meta.dirname, '../../..');
const HZZ_ZSTD = sharedPath('data', 'uproot-HZZ-zstd.root');
const SINGLEMU = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const SINGLEMU_ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');

const cat = (...xs: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
  let p = 0;
  for (const x of xs) {
    out.set(x, p);
    p += x.length;
  }
  return out;
};
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Bytes that look like column data: float32 values with a slow drift (compress ~1.2-2x, as real pages). */
function floats(n: number, seed: number): Uint8Array {
  const f = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    f[i] = 20 + (s % 10000) / 100 + (i % 7);
  }
  return new Uint8Array(f.buffer);
}

/** The frame with a content checksum appended (frame header flag bit 2 + low 32 bits of XXH64, LE). */
function withChecksum(frame: Uint8Array, content: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 4);
  out.set(frame);
  out[4] |= 0x04;
  const [, lo] = xxh64(content);
  new DataView(out.buffer).setUint32(frame.length, lo, true);
  return out;
}

describe('zstd frames', () => {
  const a = floats(50_000, 1);
  const b = floats(3_000, 2);
  const fa = zstdCompress(a, 3);
  const fb = zstdCompress(b, 19);

  it('decode to the original bytes and to what fzstd gives, into a slice of a larger array too', () => {
    expect(fa.length).toBeLessThan(a.length);
    expect(same(zstdDecompress(fa, a.length), a)).toBe(true);
    expect(same(fzstd(fa), a)).toBe(true);
    const column = new Uint8Array(a.length + 100).fill(7);
    zstdDecompressInto(fa, column.subarray(40, 40 + a.length));
    expect(same(column.subarray(40, 40 + a.length), a)).toBe(true);
    expect(column.subarray(0, 40).every((x) => x === 7) && column.subarray(40 + a.length).every((x) => x === 7)).toBe(
      true,
    );
  });

  it('several frames, skippable frames and empty frames decode as their concatenation', () => {
    const empty = zstdCompress(new Uint8Array(0), 3);
    const skippable = Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9);
    const src = cat(fa, skippable, empty, fb, fa);
    const want = cat(a, b, a);
    expect(same(zstdDecompress(src, want.length), want)).toBe(true);
    expect(same(fzstd(src), want)).toBe(true);
    expect(zstdDecompress(empty, 0)).toHaveLength(0);
    expect(zstdDecompress(new Uint8Array(0), 0)).toHaveLength(0);
  });

  it('a size other than the frames hold, damage and trailing bytes are ZstdFrameErrors', () => {
    expect(() => zstdDecompress(fa, a.length - 1)).toThrow(/hold more than the 199999 bytes expected/);
    expect(() => zstdDecompress(fa, a.length + 1)).toThrow(/hold 200000 bytes, 200001 expected/);
    expect(() => zstdDecompress(new Uint8Array(0), 5)).toThrow(ZstdFrameError);
    expect(() => zstdDecompress(fa.subarray(0, fa.length - 5), a.length)).toThrow(/truncated/);
    expect(() => zstdDecompress(cat(fa, Uint8Array.of(1, 2, 3)), a.length)).toThrow(ZstdFrameError);
    const magic = fa.slice();
    magic[1] ^= 0xff;
    expect(() => zstdDecompress(magic, a.length)).toThrow(/not a zstd frame/);
  });

  it('a content checksum is verified (fzstd does not check it)', () => {
    const checked = withChecksum(fa, a);
    expect(same(zstdDecompress(checked, a.length), a)).toBe(true);
    const wrong = checked.slice();
    wrong[wrong.length - 1] ^= 1;
    expect(() => zstdDecompress(wrong, a.length)).toThrow(/checksum/);
    expect(same(fzstd(wrong), a)).toBe(true); // the pure-JS decoder would have let it through
  });

  it('a corrupted byte anywhere in a checksummed frame is an error, never other bytes', () => {
    const c = floats(1000, 4);
    const checked = withChecksum(zstdCompress(c, 3), c);
    for (let pos = 0; pos < checked.length; pos++) {
      for (const mask of [1, 0xff]) {
        const bad = checked.slice();
        bad[pos] ^= mask;
        let got: Uint8Array;
        try {
          got = zstdDecompress(bad, c.length);
        } catch (e) {
          expect(e, `flip ${mask} at ${pos}`).toBeInstanceOf(ZstdFrameError);
          continue;
        }
        expect(same(got, c), `flip ${mask} at ${pos} decoded to other bytes`).toBe(true);
      }
    }
  });

  it('pages larger than the reused wasm buffers grow them; later small pages still decode', () => {
    const big = floats(3_000_000, 3); // 12 MB
    expect(same(zstdDecompress(zstdCompress(big, 1), big.length), big)).toBe(true);
    expect(same(zstdDecompress(fb, b.length), b)).toBe(true);
    expect(zstdDecoder()).toBe('wasm');
  });
});

/** Every ZS block of a ROOT file: [compressed body, declared uncompressed size]. */
async function zsBlocks(path: string, tree: string): Promise<[Uint8Array, number][]> {
  const bytes = readFileSync(path);
  const out: [Uint8Array, number][] = [];
  for (const layout of (await jsrootBaskets(path, tree)).values()) {
    layout.seeks.forEach((seek, i) => {
      const keylen = bytes.readInt16BE(seek + 14);
      const end = seek + layout.bytes[i];
      if (bytes.readInt32BE(seek + 6) === layout.bytes[i] - keylen) return; // stored uncompressed
      for (let s = seek + keylen; s < end; ) {
        const csize = bytes[s + 3] | (bytes[s + 4] << 8) | (bytes[s + 5] << 16);
        const usize = bytes[s + 6] | (bytes[s + 7] << 8) | (bytes[s + 8] << 16);
        if (bytes.toString('latin1', s, s + 2) === 'ZS') out.push([bytes.subarray(s + 9, s + 9 + csize), usize]);
        s += 9 + csize;
      }
    });
  }
  return out;
}

describe('ROOT ZS baskets', () => {
  it("every ZS block of uproot's file decodes to its declared size, equal to fzstd's bytes", async () => {
    const blocks = await zsBlocks(HZZ_ZSTD, 'events');
    expect(blocks.length).toBeGreaterThan(40);
    for (const [body, usize] of blocks) expect(same(zstdDecompress(body, usize), fzstd(body))).toBe(true);
  });

  it('the ZS file reads as jsroot reads it (jsroot decodes with its own zstd), whole tree', async () => {
    const r = await openRoot(HZZ_ZSTD, { treeName: 'events' });
    try {
      const names = ['NMuon', 'Muon_Px', 'Muon_E', 'MET_px', 'NJet', 'Jet_Py'];
      const want = await jsrootRead(HZZ_ZSTD, 'events', names, 0, 2421);
      const got = await r.read(names, 0, 2421);
      for (const n of names) expectSameEntries(columnEvents(got[n]), want[n], n);
    } finally {
      await r.close();
    }
  });

  it('a damaged ZS block is a CorruptBasketError naming file and branch', async () => {
    const bytes = readFileSync(HZZ_ZSTD);
    const layout = (await jsrootBaskets(HZZ_ZSTD, 'events')).get('Muon_Px')!;
    const seek = layout.seeks[0];
    const keylen = bytes.readInt16BE(seek + 14);
    expect(bytes.toString('latin1', seek + keylen, seek + keylen + 2)).toBe('ZS');
    const copy = Buffer.from(bytes);
    copy[seek + keylen + 9] ^= 0xff; // the frame's magic number
    const path = join(dir, 'hzz-damaged.root');
    writeFileSync(path, copy);
    const r = await openRoot(path, { treeName: 'events' });
    try {
      const e = await r.read(['Muon_Px'], 0, 10).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CorruptBasketError);
      expect((e as CorruptBasketError).context).toMatchObject({ file: path, branch: 'Muon_Px', basket: 0 });
      expect((e as Error).message).toMatch(/zstd/);
    } finally {
      await r.close();
    }
  });
});

/** Every page of every column chunk of a Parquet file with its codec: [compressed bytes, uncompressed size]. */
async function parquetPages(path: string): Promise<[Uint8Array, number][]> {
  const bytes = readFileSync(path);
  const { parquetMetadata } = await import('hyparquet');
  const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const out: [Uint8Array, number][] = [];
  for (const rg of md.row_groups) {
    for (const c of rg.columns) {
      const m = c.meta_data!;
      expect(m.codec).toBe('ZSTD');
      const dict = m.dictionary_page_offset ? Number(m.dictionary_page_offset) : Infinity;
      const start = Math.min(dict, Number(m.data_page_offset));
      const chunk = bytes.subarray(start, start + Number(m.total_compressed_size));
      const reader = { view: new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength), offset: 0 };
      while (reader.offset < chunk.length) {
        const h = parquetHeader(reader);
        const raw = chunk.subarray(reader.offset, reader.offset + h.compressed_page_size);
        reader.offset += h.compressed_page_size;
        const v2 = h.data_page_header_v2;
        const levels = v2 ? (v2.repetition_levels_byte_length ?? 0) + (v2.definition_levels_byte_length ?? 0) : 0;
        if (v2?.is_compressed === false) continue;
        out.push([raw.subarray(levels), h.uncompressed_page_size - levels]);
      }
    }
  }
  return out;
}

async function duckdbCopy(src: string, dest: string, codec: 'ZSTD' | 'UNCOMPRESSED'): Promise<string> {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    await conn.run(`COPY (SELECT * FROM '${src}') TO '${dest}' (FORMAT parquet, COMPRESSION ${codec})`);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  return dest;
}

async function readAll(path: string, sync: boolean): Promise<Record<string, Column>> {
  const r = await openParquet(path);
  try {
    const names = r.branches().map((b) => b.name);
    return sync ? r.readSync!(names, 0, r.numEntries) : await r.read(names, 0, r.numEntries);
  } finally {
    await r.close();
  }
}

describe('Parquet ZSTD pages', () => {
  it('a DuckDB-written ZSTD file (v1 pages, dictionaries) reads as its uncompressed copy and the source', async () => {
    const zst = await duckdbCopy(SINGLEMU, join(dir, 'duck-zstd.parquet'), 'ZSTD');
    const raw = await duckdbCopy(SINGLEMU, join(dir, 'duck-raw.parquet'), 'UNCOMPRESSED');
    const pages = await parquetPages(zst);
    expect(pages.length).toBeGreaterThan(20);
    for (const [body, size] of pages) expect(same(zstdDecompress(body, size), fzstd(body))).toBe(true);
    const source = await readAll(SINGLEMU, false);
    const plain = await readAll(raw, true);
    for (const sync of [true, false]) {
      const got = await readAll(zst, sync);
      expect(Object.keys(got).sort()).toEqual(Object.keys(source).sort());
      for (const n of Object.keys(source)) {
        expectSameColumn(got[n], plain[n], `${n} (sync ${sync}) vs uncompressed`);
        expectSameColumn(got[n], source[n], `${n} (sync ${sync}) vs source`);
      }
    }
  });

  // hyparquet-writer writes v2 pages: levels stay uncompressed and raw values decode straight into the column.
  const N = 3000;
  const met = Array.from({ length: N }, (_, i) => 10 + ((i * 7919) % 1000) / 10);
  const weight = Array.from({ length: N }, (_, i) => (i % 5 === 0 ? null : i / 3));
  const jets = Array.from({ length: N }, (_, i) => Array.from({ length: i % 4 }, (_, k) => i + k / 8));
  const schema = [
    { name: 'root', num_children: 3 },
    { name: 'MET_pt', type: 'FLOAT', repetition_type: 'REQUIRED' },
    { name: 'weight', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'Jet_pt', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
  ];
  const writeHy = (path: string): string => {
    const buf = parquetWriteBuffer({
      schema,
      codec: 'ZSTD',
      compressors: { ZSTD: (input: Uint8Array) => zstdCompress(input, 3) },
      rowGroupSize: 1000,
      pageSize: 1024,
      columnData: [
        { name: 'MET_pt', data: met },
        { name: 'weight', data: weight },
        { name: 'Jet_pt', data: jets },
      ],
    } as Parameters<typeof parquetWriteBuffer>[0]);
    writeFileSync(path, new Uint8Array(buf));
    return path;
  };

  it('a hyparquet-writer ZSTD file (v2 pages, several per chunk, nulls) reads as written', async () => {
    const path = writeHy(join(dir, 'hy-zstd.parquet'));
    const pages = await parquetPages(path);
    expect(pages.length).toBeGreaterThan(9);
    for (const [body, size] of pages) expect(same(zstdDecompress(body, size), fzstd(body))).toBe(true);
    const want = {
      MET_pt: met.map((x) => Math.fround(x)),
      weight: weight.map((w) => w ?? NaN),
      Jet_pt: jets.map((j) => j.map((x) => Math.fround(x))),
    };
    for (const sync of [true, false]) {
      const got = await readAll(path, sync);
      for (const [n, w] of Object.entries(want)) expect(columnEvents(got[n]), `${n} sync ${sync}`).toEqual(w);
    }
  });

  it('a damaged ZSTD page is a ParquetFormatError naming file and column', async () => {
    const path = writeHy(join(dir, 'hy-damaged.parquet'));
    const bytes = readFileSync(path);
    const { parquetMetadata } = await import('hyparquet');
    const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const col = md.row_groups[1].columns[0].meta_data!; // MET_pt, second row group
    const start = Number(col.data_page_offset);
    const magic = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), start);
    expect(magic).toBeGreaterThan(start);
    expect(magic).toBeLessThan(start + Number(col.total_compressed_size));
    bytes[magic] ^= 0xff;
    writeFileSync(path, bytes);
    const r = await openParquet(path);
    try {
      const e = await r.read(['MET_pt'], 1000, 2000).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ParquetFormatError);
      expect((e as ParquetFormatError).context).toMatchObject({ file: path, column: 'MET_pt', rowGroup: 1 });
      expect((e as Error).message).toMatch(/ZSTD page: zstd data do not decode: not a zstd frame/);
      expect(() => r.readSync!(['MET_pt'], 1000, 1001)).toThrow(ParquetFormatError);
      // the other row groups and columns still read
      expect(columnEvents((await r.read(['MET_pt'], 0, 1000)).MET_pt)).toEqual(met.slice(0, 1000).map(Math.fround));
    } finally {
      await r.close();
    }
  });
});

/** Run `code` (an ES module body) in a fresh Node process with tsx; returns its stdout and stderr. */
function child(code: string): { stdout: string; stderr: string } {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, code);
  const p = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: REPO, encoding: 'utf8' });
  expect(p.status, p.stderr).toBe(0);
  return { stdout: p.stdout, stderr: p.stderr };
}

describe('loading', () => {
  it('readSync decodes in a fresh process: ROOT ZS loading the wasm synchronously, then Parquet ZSTD', async () => {
    const path = await duckdbCopy(SINGLEMU, join(dir, 'fresh.parquet'), 'ZSTD');
    const src = pathOf('src/io');
    // openRoot loads no zstd: its readSync meets the first ZS block with the wasm not loaded yet.
    const { stdout } = child(`
      import { openParquet } from '${src}/parquet/index.ts';
      import { openRoot } from '${src}/root/index.ts';
      import { zstdDecoder } from '${src}/codecs/zstd.ts';
      const rr = await openRoot(${JSON.stringify(HZZ_ZSTD)}, { treeName: 'events' });
      const px = Array.from(rr.readSync(['Muon_Px'], 0, rr.numEntries).Muon_Px.content);
      const first = zstdDecoder();
      const r = await openParquet(${JSON.stringify(path)});
      const met = Array.from(r.readSync(['MET_pt', 'Muon_pt'], 0, r.numEntries).MET_pt);
      console.log(JSON.stringify({ first, decoder: zstdDecoder(), px: px.slice(0, 5), met: met.slice(0, 5), n: met.length }));
    `);
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const want = Array.from((await readAll(SINGLEMU, false)).MET_pt as Float32Array);
    const hzz = await openRoot(HZZ_ZSTD, { treeName: 'events' });
    const px = (await hzz.read(['Muon_Px'], 0, hzz.numEntries)).Muon_Px as { content: Float32Array };
    await hzz.close();
    expect(out).toEqual({
      first: 'wasm',
      decoder: 'wasm',
      px: Array.from(px.content.subarray(0, 5)),
      met: want.slice(0, 5),
      n: want.length,
    });
  });

  it('when the wasm cannot start, decoding falls back to fzstd and says so once', () => {
    const src = pathOf('src/io/codecs/zstd.ts');
    const { stdout, stderr } = child(`
      import { createRequire } from 'node:module';
      import { dirname, join } from 'node:path';
      const require = createRequire(${JSON.stringify(`${REPO}/package.json`)});
      const glue = require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js'));
      glue.Module.init = () => { throw new Error('wasm disabled for this test'); };
      const { zstdDecompress, zstdDecoder } = await import(${JSON.stringify(src)});
      // one frame: header (single segment, content size 5), one raw last block of 5 bytes, 'hello'
      const frame = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, 0x29, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f);
      const a = new TextDecoder().decode(zstdDecompress(frame, 5));
      const b = new TextDecoder().decode(zstdDecompress(frame, 5));
      let err = '';
      try { zstdDecompress(frame, 6); } catch (e) { err = e.constructor.name; }
      console.log(JSON.stringify({ a, b, decoder: zstdDecoder(), err }));
    `);
    expect(JSON.parse(stdout.trim())).toEqual({
      a: 'hello',
      b: 'hello',
      decoder: 'fzstd',
      err: 'ZstdFrameError',
    });
    expect(stderr.match(/RISTRETTO_ZSTD_FALLBACK/g)).toHaveLength(1);
    expect(stderr).toMatch(
      /wasm disabled for this test — reinstall Ristretto .*; decoding zstd with the slower pure-JS fzstd meanwhile/,
    );
  });
});

function pathOf(rel: string): string {
  return join(REPO, rel);
}

describe('thread-pool workers', () => {
  it('read ZSTD Parquet and ZSTD ROOT like the main thread reads the sources', async () => {
    const pq = await duckdbCopy(SINGLEMU, join(dir, 'workers.parquet'), 'ZSTD');
    const rootZ = join(dir, 'workers-zstd.root');
    const src = await openRoot(SINGLEMU_ROOT);
    try {
      await convert(src, rootZ, { compression: 'zstd', branches: ['MET_pt', 'Muon_pt'] });
    } finally {
      await src.close();
    }
    expect((await zsBlocks(rootZ, 'Events')).length).toBeGreaterThan(0);
    const ds = join(dir, 'workers.json');
    writeFileSync(ds, JSON.stringify({ pq: { files: { [pq]: 'Events' } }, root: { files: { [rootZ]: 'Events' } } }));
    const pool = new ThreadsExecutor({ workers: 2 });
    try {
      const r = await runAnalysis<Columns>({
        fileset: ds,
        processor: fixture('columns.ts'),
        chunksize: 2500,
        executor: pool,
      });
      const sorted = (xs: ArrayLike<number>) => Array.from(xs).sort((x, y) => x - y);
      const wantPq = Array.from((await readAll(SINGLEMU, false)).MET_pt as Float32Array);
      const sr = await openRoot(SINGLEMU_ROOT);
      const wantRoot = Array.from((await sr.read(['MET_pt'], 0, sr.numEntries)).MET_pt as Float32Array);
      await sr.close();
      expect(r.metrics.chunks).toBeGreaterThan(2);
      // one accumulator over both datasets: every MET value of both files, nothing else
      expect(r.accumulator.count.n).toBe(wantPq.length + wantRoot.length);
      expect(sorted(r.accumulator.met.toArray())).toEqual(sorted([...wantPq, ...wantRoot]));
    } finally {
      await pool.close();
    }
  });
});
