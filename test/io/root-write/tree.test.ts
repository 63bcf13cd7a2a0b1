/**
 * TTrees written by `convert` (flat and jagged branches, counters, zlib / LZ4 / ZSTD / uncompressed baskets),
 * read back entry by entry by jsroot's TSelector (independent of Ristretto) and by Ristretto's reader,
 * compared with the input as Ristretto reads it (whose reader the corpus tests check against jsroot).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NumericArray } from '../../../src/columnar/types.ts';
import { convert, ConvertError } from '../../../src/io/convert.ts';
import { openParquet } from '../../../src/io/parquet/index.ts';
import { stringsOf, type BranchInfo, type Column, type EventReader } from '../../../src/io/reader.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { RootWriteError } from '../../../src/io/root-write/file.ts';
import { RootTreeWriter } from '../../../src/io/root-write/tree.ts';
import { tempDir } from '../../helpers/files.ts';
import { sharedPath } from '../../shared.ts';
import {
  jsrootBranch,
  jsrootColumns,
  jsrootTrees,
  latin1Strings,
  plainOfColumn,
  samePlain,
  type Plain,
} from '../root/corpus-reference.ts';

const NANO = sharedPath('data', 'nano_dy.root');
const NESTED = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const dir = tempDir('root-write-tree');
const ZS_HEADER = Buffer.from([0x5a, 0x53, 1]);

/** First entry where two per-entry value lists differ, or -1. */
function firstDiff(a: Plain[], b: Plain[]): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return i;
  return -1;
}

async function readAll(r: EventReader, names: readonly string[]): Promise<Record<string, Column>> {
  return r.read(names, 0, r.numEntries);
}

/** Compare every column of `out` with `input` through Ristretto's reader and jsroot's TSelector. */
async function checkAgainstInput(
  input: EventReader,
  outPath: string,
  names: readonly string[],
  viaJsroot: boolean,
): Promise<void> {
  const out = await openRoot(outPath);
  try {
    expect(out.numEntries).toBe(input.numEntries);
    const want = await readAll(input, names);
    const got = await readAll(out, names);
    const trees = viaJsroot ? await jsrootTrees(outPath) : undefined;
    const jsCols = trees ? new Map(jsrootColumns(trees.get(out.treeName)!).map((c) => [c.name, c])) : undefined;
    const stringCols = new Set(
      input
        .branches()
        .filter((b) => b.kind === 'string')
        .map((b) => b.name),
    );
    for (const n of names) {
      // strings as jsroot gives them (one character per byte), so both readings compare alike
      const asPlain = (c: Column): Plain[] => (stringCols.has(n) ? latin1Strings(c) : plainOfColumn(c));
      const w = asPlain(want[n]);
      expect(firstDiff(asPlain(got[n]), w), `${n}: Ristretto reading of the written file differs at entry`).toBe(-1);
      if (!trees) continue;
      const col = jsCols!.get(n);
      expect(col, `jsroot does not list ${n}`).toBeDefined();
      const js = await jsrootBranch(trees.get(out.treeName)!, col!);
      if (js instanceof Error) throw new Error(`jsroot cannot read ${n}: ${js.message}`);
      expect(firstDiff(js, w), `${n}: jsroot reading of the written file differs at entry`).toBe(-1);
    }
  } finally {
    await out.close();
  }
}

describe('convert to ROOT TTrees', () => {
  it('NanoAOD → ROOT in several clusters, zlib / LZ4 / ZSTD / none: jsroot and Ristretto read the input values', async () => {
    const input = await openRoot(NANO);
    try {
      const branches = [
        'run',
        'event',
        'luminosityBlock',
        'MET_pt',
        'MET_phi',
        'Muon_*',
        'Jet_pt',
        'Jet_jetId',
        'HLT_IsoMu24',
        'Electron_charge',
        'PV_npvs',
        'GenPart_pdgId',
      ];
      for (const compression of ['zlib', 'lz4', 'zstd', 'none'] as const) {
        const out = join(dir, `nano-${compression}.root`);
        const res = await convert(input, out, { branches, chunkSize: 7, compression });
        expect(res.format).toBe('root');
        expect(res.chunks).toBe(Math.ceil(input.numEntries / 7));
        expect(res.branches).toContain('nMuon'); // the counter comes along
        const written = await openRoot(out);
        const infos = new Map(written.branches().map((b) => [b.name, b]));
        await written.close();
        expect(infos.get('Muon_pt')).toMatchObject({
          kind: 'jagged',
          dtype: 'float32',
          countBranch: 'nMuon',
        } satisfies Partial<BranchInfo>);
        expect(infos.get('event')?.dtype).toBe('uint64');
        expect(infos.get('HLT_IsoMu24')?.dtype).toBe('bool');
        await checkAgainstInput(input, out, res.branches, compression !== 'none');
      }
    } finally {
      await input.close();
    }
  });

  it('ZSTD baskets: fCompress 500 + level as jsroot reads it, ZS blocks, every entry equal to the generator', async () => {
    const N = 300_000;
    // x = i / 8 (float32), k = i % 1000 (int32), L lists of i % 3 values i, i+1, ...
    const gen: EventReader = {
      path: 'generated',
      treeName: 'Events',
      numEntries: N,
      bytesRead: 0,
      branches: () => [
        { name: 'x', kind: 'flat', dtype: 'float32' },
        { name: 'k', kind: 'flat', dtype: 'int32' },
        { name: 'L_v', kind: 'jagged', dtype: 'float64', countBranch: 'nL' },
        { name: 'nL', kind: 'flat', dtype: 'int32' },
      ],
      boundaries: () => [],
      read: async (names, s, e) => {
        const n = e - s;
        const offsets = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + ((s + i) % 3);
        const content = new Float64Array(offsets[n]);
        for (let i = 0; i < n; i++)
          for (let j = offsets[i]; j < offsets[i + 1]; j++) content[j] = s + i + j - offsets[i];
        const all: Record<string, Column> = {
          x: Float32Array.from({ length: n }, (_, i) => (s + i) / 8),
          k: Int32Array.from({ length: n }, (_, i) => (s + i) % 1000),
          L_v: { offsets, content },
          nL: Int32Array.from({ length: n }, (_, i) => (s + i) % 3),
        };
        return Object.fromEntries(names.map((b) => [b, all[b]]));
      },
      close: async () => {},
    };
    for (const level of [1, 9]) {
      const out = join(dir, `zstd-${level}.root`);
      const res = await convert(gen, out, { chunkSize: 70_000, compression: 'zstd', compressionLevel: level });
      expect(res.chunks).toBe(5);
      const bytes = readFileSync(out);
      // zstd blocks as ROOT frames them: 'Z' 'S' 1, 3+3 size bytes, then the zstd frame magic
      let zs = 0;
      for (let at = bytes.indexOf(ZS_HEADER); at >= 0; at = bytes.indexOf(ZS_HEADER, at + 1))
        if (bytes.readUInt32LE(at + 9) === 0xfd2fb528) zs++;
      expect(zs, 'ZSTD blocks in the file').toBeGreaterThanOrEqual(4 * 5);
      expect(bytes.length, 'compressed well below the 7.2 MB of column data').toBeLessThan(3e6);
      const jsFile = (await (await import('jsroot')).openFile(out)) as { fCompress: number };
      expect(jsFile.fCompress).toBe(500 + level);
      const r = await openRoot(out);
      try {
        expect(r.numEntries).toBe(N);
        const c = await r.read(['x', 'k', 'L_v', 'nL'], 0, N);
        const x = c['x'] as Float32Array;
        const k = c['k'] as Int32Array;
        const l = c['L_v'] as { offsets: Int32Array; content: Float64Array };
        for (let e = 0; e < N; e++) {
          if (x[e] !== Math.fround(e / 8) || k[e] !== e % 1000 || l.offsets[e + 1] - l.offsets[e] !== e % 3)
            throw new Error(`zstd:${level} entry ${e} differs`);
          for (let j = 0; j < e % 3; j++)
            if (l.content[l.offsets[e] + j] !== e + j) throw new Error(`zstd:${level} entry ${e} L_v[${j}] differs`);
        }
      } finally {
        await r.close();
      }
      // jsroot, entry by entry, on a branch from each kind
      const trees = await jsrootTrees(out);
      const cols = new Map(jsrootColumns(trees.get('Events')!).map((col) => [col.name, col]));
      const jsK = await jsrootBranch(trees.get('Events')!, cols.get('k')!);
      if (jsK instanceof Error) throw jsK;
      expect(
        firstDiff(
          jsK,
          Array.from({ length: N }, (_, e) => e % 1000),
        ),
        'jsroot k differs at entry',
      ).toBe(-1);
      const jsL = await jsrootBranch(trees.get('Events')!, cols.get('L_v')!);
      if (jsL instanceof Error) throw jsL;
      expect(
        firstDiff(
          jsL,
          Array.from({ length: N }, (_, e) => Array.from({ length: e % 3 }, (_, j) => e + j)),
        ),
        'jsroot L_v differs at entry',
      ).toBe(-1);
    }
  }, 300_000);

  it('every branch of a NanoAOD file survives a round trip', async () => {
    const input = await openRoot(NANO);
    try {
      const out = join(dir, 'nano-all.root');
      const res = await convert(input, out);
      // strings / lists of lists are left out as for the other formats; everything else is written
      expect(res.branches.length + (res.skipped?.length ?? 0)).toBe(input.branches().length);
      await checkAgainstInput(input, out, res.branches, false);
    } finally {
      await input.close();
    }
  });

  it('nested Parquet → ROOT keeps the synthesized counters and the values', async () => {
    const input = await openParquet(NESTED);
    try {
      const out = join(dir, 'nested.root');
      const res = await convert(input, out, { compression: 'lz4' });
      const r = await openRoot(out);
      expect(r.treeName).toBe('Events');
      expect(r.branches().find((b) => b.name === 'Jet_pt')).toMatchObject({ kind: 'jagged', countBranch: 'nJet' });
      await r.close();
      await checkAgainstInput(input, out, res.branches, true);
    } finally {
      await input.close();
    }
  });

  it('strings become TLeafC branches (ROOT char*, TString, std::string inputs; strings of 255+ bytes)', async () => {
    for (const [file, tree] of [
      ['uproot-sample-6.20.04-zlib.root', 'sample'],
      ['uproot-stl_containers.root', undefined],
      ['uproot-small-evnt-tree-fullsplit.root', 'tree'],
    ] as const) {
      const input = await openRoot(sharedPath('data', 'root-corpus', file), tree ? { treeName: tree } : {});
      try {
        const strings = input
          .branches()
          .filter((b) => b.kind === 'string')
          .map((b) => b.name);
        expect(strings.length, file).toBeGreaterThan(0);
        const out = join(dir, `strings-${file}`);
        await convert(input, out, { branches: strings, chunkSize: 30 });
        await checkAgainstInput(input, out, strings, true);
      } finally {
        await input.close();
      }
    }
    const long = 'x'.repeat(300) + 'é';
    const path = join(dir, 'long.root');
    const bytes = new TextEncoder().encode(`a${long}`);
    const w = new RootTreeWriter(path, [{ name: 's', dtype: 'uint8', kind: 'string' }]);
    w.write({ s: { offsets: Int32Array.of(0, 1, 1, bytes.length), content: Uint8Array.from([...bytes]) } });
    await w.close();
    const r = await openRoot(path);
    expect(r.branches()[0]).toMatchObject({ name: 's', kind: 'string' });
    expect(stringsOf((await r.read(['s'], 0, 3))['s'] as Extract<Column, { offsets: Int32Array }>)).toEqual([
      'a',
      '',
      long,
    ]);
    await r.close();
  });

  it('edge cases: a collection empty in every entry, an empty entry range', async () => {
    const path = join(dir, 'edges.root');
    const w = new RootTreeWriter(path, [
      { name: 'A_x', dtype: 'float32', kind: 'jagged' },
      { name: 'y', dtype: 'int16', kind: 'flat' },
    ]);
    w.write({ A_x: { offsets: new Int32Array(4), content: new Float32Array(0) }, y: Int16Array.of(-1, 2, -3) });
    await w.close();
    const trees = await jsrootTrees(path);
    const got = new Map<string, Plain[] | Error>();
    for (const c of jsrootColumns(trees.get('Events')!)) got.set(c.name, await jsrootBranch(trees.get('Events')!, c));
    expect(Object.fromEntries(got)).toEqual({ nA: [0, 0, 0], A_x: [[], [], []], y: [-1, 2, -3] });

    const input = await openRoot(NANO);
    try {
      const res = await convert(input, join(dir, 'empty.root'), {
        entryStart: 5,
        entryStop: 5,
        branches: ['Muon_pt', 'MET_pt'],
      });
      expect(res.entries).toBe(0);
      const r = await openRoot(join(dir, 'empty.root'));
      expect(r.numEntries).toBe(0);
      expect(plainOfColumn((await r.read(['Muon_pt'], 0, 0))['Muon_pt'])).toEqual([]);
      await r.close();
    } finally {
      await input.close();
    }
  });

  it('refuses jagged columns that disagree with their shared counter, naming branch and entry; leaves no file', async () => {
    const path = join(dir, 'bad-counts.root');
    const w = new RootTreeWriter(path, [
      { name: 'Muon_pt', dtype: 'float32', kind: 'jagged' },
      { name: 'Muon_eta', dtype: 'float32', kind: 'jagged' },
    ]);
    let err: unknown;
    try {
      w.write({
        Muon_pt: { offsets: Int32Array.of(0, 1, 3), content: Float32Array.of(1, 2, 3) },
        Muon_eta: { offsets: Int32Array.of(0, 1, 2), content: Float32Array.of(1, 2) },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RootWriteError);
    expect((err as Error).message).toMatch(
      /'Muon_eta' has 1 values in entry 1, 'Muon_pt' 2, but both are counted by 'nMuon'/,
    );

    // through convert: the partial file is removed, an existing output stays as it was
    const input = await openRoot(NANO);
    try {
      await expect(
        convert(input, join(dir, 'x.root'), { branches: ['MET_pt'], compression: 'gzip' as 'zlib' }),
      ).rejects.toThrow(ConvertError);
      expect(readdirSync(dir).filter((n) => n.includes('x.root'))).toEqual([]);
      await expect(convert(input, NANO, { branches: ['MET_pt'] })).rejects.toThrow(/refusing to overwrite/);
    } finally {
      await input.close();
    }
  });

  it('writes a million entries chunk by chunk with bounded memory; values match the generator', async () => {
    const N = 1_000_000;
    const CHUNK = 100_000;
    // A reader that makes its columns from the entry number: x = i / 4, id = i * 1e6 (int64), Obj_pt lists
    // of i % 4 values (i, i + 1, ...), xk = i * k (float64, to give each chunk some weight).
    const gen: EventReader = {
      path: 'generated',
      treeName: 'Events',
      numEntries: N,
      bytesRead: 0,
      branches: () => [
        { name: 'x', kind: 'flat', dtype: 'float32' },
        { name: 'id', kind: 'flat', dtype: 'int64' },
        { name: 'Obj_pt', kind: 'jagged', dtype: 'float32', countBranch: 'nObj' },
        { name: 'nObj', kind: 'flat', dtype: 'int32' },
        ...[2, 3, 4].map((k) => ({ name: `x${k}`, kind: 'flat' as const, dtype: 'float64' as const })),
      ],
      boundaries: () => [],
      read: async (names, s, e) => {
        const n = e - s;
        const offsets = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + ((s + i) % 4);
        const content = new Float32Array(offsets[n]);
        for (let i = 0; i < n; i++)
          for (let k = offsets[i]; k < offsets[i + 1]; k++) content[k] = s + i + k - offsets[i];
        const all: Record<string, Column> = {
          x: Float32Array.from({ length: n }, (_, i) => (s + i) / 4),
          id: Float64Array.from({ length: n }, (_, i) => (s + i) * 1e6),
          Obj_pt: { offsets, content },
          nObj: Int32Array.from({ length: n }, (_, i) => (s + i) % 4),
          ...Object.fromEntries(
            [2, 3, 4].map((k) => [`x${k}`, Float64Array.from({ length: n }, (_, i) => (s + i) * k)]),
          ),
        };
        return Object.fromEntries(names.map((k) => [k, all[k]]));
      },
      close: async () => {},
    };
    const heap: number[] = [];
    const read = gen.read.bind(gen);
    gen.read = async (names, s, e) => {
      heap.push(process.memoryUsage().heapUsed);
      return read(names, s, e);
    };
    const out = join(dir, 'million.root');
    const res = await convert(gen, out, { chunkSize: CHUNK });
    expect(res.chunks).toBe(N / CHUNK);
    // ~50 MB of column data went through; the heap must not hold it (a writer that kept every chunk
    // would grow by ~5 MB per chunk, i.e. ≥ 40 MB between the second and the last).
    if (process.env['RISTRETTO_DEBUG_HEAP']) console.log(heap.map((h) => (h / 1e6).toFixed(1)).join(' '));
    expect(Math.max(...heap.slice(1)) - heap[1]).toBeLessThan(20e6);

    const r = await openRoot(out);
    try {
      expect(r.numEntries).toBe(N);
      let checked = 0;
      for (let s = 0; s < N; s += 250_000) {
        const c = await r.read(['x', 'id', 'Obj_pt', 'nObj'], s, s + 250_000);
        const x = c['x'] as Float32Array;
        const id = c['id'] as NumericArray;
        const j = c['Obj_pt'] as { offsets: Int32Array; content: Float32Array };
        for (let i = 0; i < x.length; i++) {
          const e = s + i;
          if (x[i] !== Math.fround(e / 4) || id[i] !== e * 1e6 || j.offsets[i + 1] - j.offsets[i] !== e % 4)
            throw new Error(`entry ${e} differs`);
          for (let k = 0; k < e % 4; k++)
            if (j.content[j.offsets[i] + k] !== Math.fround(e + k)) throw new Error(`entry ${e} Obj_pt[${k}] differs`);
          checked++;
        }
      }
      expect(checked).toBe(N);
    } finally {
      await r.close();
    }
    // jsroot, independently, on the last entries of the jagged branch
    const tree = (await jsrootTrees(out)).get('Events')!;
    const col = jsrootColumns(tree).find((c) => c.name === 'Obj_pt')!;
    const { TSelector, treeProcess } = (await import('jsroot/tree')) as unknown as {
      TSelector: new () => {
        addBranch(b: unknown, n: string): number;
        tgtobj: Record<string, unknown>;
        Process(): void;
      };
      treeProcess(t: unknown, s: unknown, a: { firstentry: number; numentries: number }): Promise<unknown>;
    };
    const sel = new TSelector();
    sel.addBranch(col.branch, 'v');
    const seen: number[][] = [];
    sel.Process = function (this: { tgtobj: Record<string, unknown> }) {
      seen.push(Array.from(this.tgtobj['v'] as ArrayLike<number>));
    };
    await treeProcess(tree, sel, { firstentry: N - 4, numentries: 4 });
    expect(seen).toEqual([[], [N - 3], [N - 2, N - 1], [N - 1, N, N + 1]]);
  }, 240_000);
});
