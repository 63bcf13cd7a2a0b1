/**
 * `ristretto draw` on the ADL data in ../shared: ADL queries 1–4 written as draw expressions match the published
 * reference histograms bin for bin; a few expressions match a naive per-event loop written here over the raw
 * columns; bad input gives errors with a caret under the token and branch suggestions; the CLI writes UHI JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { draw, DrawError, parseBins, parseEntries } from '../../src/cli/draw.ts';
import { ExpressionError } from '../../src/columnar/fused/parse.ts';
import { openReader } from '../../src/io/open.ts';
import type { Column } from '../../src/io/reader.ts';
import { readRef, refRows, type Row } from '../adl/helpers.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const FLAT = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');

const QUERIES: { query: string; expr: string; cut?: string; bins: [number, number, number] }[] = [
  { query: 'query-1', expr: 'MET_pt', bins: [100, 0, 2000] },
  { query: 'query-2', expr: 'Jet.pt', bins: [100, 15, 60] },
  { query: 'query-3', expr: 'Jet_pt[abs(Jet_eta) < 1]', bins: [100, 15, 60] },
  { query: 'query-4', expr: 'MET_pt', cut: 'count(Jet_pt > 40) >= 2', bins: [100, 0, 2000] },
];

function expectRowsEqual(actual: Row[], expected: Row[]): void {
  expect(actual.map((r) => r.x)).toEqual(expected.map((r) => expect.closeTo(r.x, 6)));
  expect(actual.map((r) => r.y)).toEqual(expected.map((r) => r.y));
}

describe.each([
  { label: 'flat Parquet, chunks of 300', input: FLAT, entries: undefined },
  { label: 'ROOT, first 1,000 entries, chunks of 300', input: ROOT, entries: [0, 1000] as [number, number] },
])('ADL queries 1–4 as draw expressions on $label', ({ input, entries }) => {
  it.each(QUERIES)('$query: $expr matches the reference bin for bin', async ({ query, expr, cut, bins }) => {
    const r = await draw(input, expr, { cut, bins, entries, chunksize: 300 });
    expect(r.events).toBe(1000);
    expect(r.autoBins).toBe(false);
    expectRowsEqual(refRows(r.hist.values({ flow: true }), ...bins), readRef(query));
  });
});

it('reads a dataset JSON (files relative to the JSON) like a file', async () => {
  const r = await draw(join(repoRoot, 'samples', 'datasets', 'adl-singlemu-root.json'), 'MET_pt', {
    cut: 'count(Jet_pt > 40) >= 2',
    bins: [100, 0, 2000],
    entries: [0, 1000],
  });
  expectRowsEqual(refRows(r.hist.values({ flow: true }), 100, 0, 2000), readRef('query-4'));
});

// ---- naive per-event loops over the raw columns (independent of the fused compiler) ----

type Cols = Record<string, Column>;
const jag = (c: Column, e: number): number[] => {
  const j = c as { offsets: Int32Array; content: ArrayLike<number> };
  return Array.from({ length: j.offsets[e + 1] - j.offsets[e] }, (_, i) => Number(j.content[j.offsets[e] + i]));
};
const flat = (c: Column, e: number): number => Number((c as ArrayLike<number>)[e]);

const NAIVE: { expr: string; cut?: string; branches: string[]; values: (c: Cols, e: number) => number[] }[] = [
  {
    expr: 'sum(Jet_pt[Jet_pt > 30])',
    branches: ['Jet_pt'],
    values: (c, e) => [
      jag(c.Jet_pt, e)
        .filter((p) => p > 30)
        .reduce((a, b) => a + b, 0),
    ],
  },
  {
    expr: 'sqrt(2*MET_pt*Muon_pt[0]*(1-cos(MET_phi-Muon_phi[0])))',
    branches: ['MET_pt', 'MET_phi', 'Muon_pt', 'Muon_phi'],
    values: (c, e) => {
      const pt = jag(c.Muon_pt, e);
      const phi = jag(c.Muon_phi, e);
      if (pt.length === 0) return [];
      return [Math.sqrt(2 * flat(c.MET_pt, e) * pt[0] * (1 - Math.cos(flat(c.MET_phi, e) - phi[0])))];
    },
  },
  {
    expr: 'Muon.pt[1]',
    cut: 'MET_pt > 20',
    branches: ['Muon_pt', 'MET_pt'],
    values: (c, e) => {
      const pt = jag(c.Muon_pt, e);
      return flat(c.MET_pt, e) > 20 && pt.length > 1 ? [pt[1]] : [];
    },
  },
  {
    expr: 'Jet_pt[abs(Jet_eta) < 1 and Jet_pt > 20] * 2 - 1',
    branches: ['Jet_pt', 'Jet_eta'],
    values: (c, e) => {
      const pt = jag(c.Jet_pt, e);
      const eta = jag(c.Jet_eta, e);
      return pt.filter((p, i) => Math.abs(eta[i]) < 1 && p > 20).map((p) => p * 2 - 1);
    },
  },
];

describe('draw equals a naive loop over the raw columns', () => {
  it.each(NAIVE)('$expr', async ({ expr, cut, branches, values }) => {
    const reader = await openReader(FLAT);
    let vals: number[] = [];
    try {
      const cols = await reader.read(branches, 0, reader.numEntries);
      for (let e = 0; e < reader.numEntries; e++) vals = vals.concat(values(cols, e));
    } finally {
      await reader.close();
    }
    const [n, lo, hi] = [40, 0, 200];
    const expected = new Array<number>(n + 2).fill(0);
    for (const v of vals) expected[v < lo ? 0 : v >= hi ? n + 1 : 1 + Math.floor(((v - lo) / (hi - lo)) * n)]++;
    const r = await draw(FLAT, expr, { cut, bins: [n, lo, hi], chunksize: 170 });
    expect(vals.length).toBeGreaterThan(20);
    expect(r.entries).toBe(vals.length);
    expect(Array.from(r.hist.values({ flow: true }))).toEqual(expected);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    expect(r.mean).toBeCloseTo(mean, 6);
  });
});

it('reads TTree::Draw operators && || ! as and or not', async () => {
  const bins: [number, number, number] = [50, 0, 200];
  const c = await draw(FLAT, 'MET_pt', {
    cut: 'MET_pt > 10 && count(Jet_pt > 30) > 0 || !(MET_pt < 50) && MET_pt != 0',
    bins,
  });
  const w = await draw(FLAT, 'MET_pt', {
    cut: 'MET_pt > 10 and count(Jet_pt > 30) > 0 or not (MET_pt < 50) and MET_pt != 0',
    bins,
  });
  expect(c.entries).toBeGreaterThan(100);
  expect(c.entries).toBeLessThan(1000);
  expect(Array.from(c.hist.values({ flow: true }))).toEqual(Array.from(w.hist.values({ flow: true })));
});

it('a weight multiplies each entry; default bins come from the first chunk and are reported', async () => {
  const unweighted = await draw(FLAT, 'MET_pt', { bins: [10, 0, 100] });
  const weighted = await draw(FLAT, 'MET_pt', { weight: '2 * MET_pt / MET_pt', bins: [10, 0, 100] });
  expect(Array.from(weighted.hist.values())).toEqual(Array.from(unweighted.hist.values()).map((v) => 2 * v));
  const auto = await draw(FLAT, 'MET_pt', { chunksize: 1000 });
  expect(auto.autoBins).toBe(true);
  expect(auto.underflow + auto.overflow).toBe(0); // the whole (single) chunk's range is covered, max included
});

describe('errors', () => {
  it('an unknown branch names the closest ones and puts a caret under the token', async () => {
    const e = await draw(FLAT, 'sum(Jet.ptt[Jet.pt > 30])').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExpressionError);
    expect((e as Error).message).toMatch(/no branch Jet_ptt .*closest: Jet_pt/);
    expect((e as Error).message).toContain('\n  sum(Jet.ptt[Jet.pt > 30])\n      ^');
    const flatName = await draw(FLAT, 'MET_pt', { cut: 'Jt_pt > 3' }).catch((x: unknown) => x);
    expect(flatName).toBeInstanceOf(ExpressionError);
    expect((flatName as Error).message).toMatch(/--cut: .*Jt_pt.*closest: Jet_pt/s);
    expect((flatName as Error).message).toContain('\n  Jt_pt > 3\n  ^');
  });

  it('a syntax error puts a caret where parsing stopped', async () => {
    const e = await draw(FLAT, 'sum(Jet_pt[Jet_pt > ])').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExpressionError);
    expect((e as ExpressionError).position).toBe(20);
    expect((e as Error).message).toContain('\n  sum(Jet_pt[Jet_pt > ])\n                      ^');
  });

  it('a syntax error after a C operator points into the text as typed', async () => {
    const e = await draw(FLAT, 'MET_pt', { cut: 'MET_pt > 10 && < 3' }).catch((x: unknown) => x);
    expect((e as ExpressionError).position).toBe(15);
    expect((e as Error).message).toContain('\n  MET_pt > 10 && < 3\n                 ^');
  });

  it('an unknown function and a bad index are named', async () => {
    await expect(draw(FLAT, 'median(Jet_pt)')).rejects.toThrow(/unknown function median\(\)[\s\S]*\n {2}\^/);
    await expect(draw(FLAT, 'MET_pt[0]')).rejects.toThrow(/an index needs a collection's field/);
  });

  it('bad --bins and --entries are DrawErrors', () => {
    expect(() => parseBins('10,5,1')).toThrow(DrawError);
    expect(() => parseBins('ten,0,1')).toThrow(/N,LO,HI/);
    expect(parseBins('10, 0, 1.5')).toEqual([10, 0, 1.5]);
    expect(parseEntries('5:')).toEqual([5, Infinity]);
    expect(() => parseEntries('9:3')).toThrow(DrawError);
  });
});

describe('the ristretto draw command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ristretto-draw-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot, 'bin', 'ristretto.mjs'), 'draw', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
    });

  it('prints a summary and writes UHI JSON', () => {
    const out = join(dir, 'q4.json');
    const r = cli(FLAT, 'MET_pt', '--cut', 'count(Jet_pt > 40) >= 2', '--bins', '100,0,2000', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^MET_pt: 116 entries from 1000 events\n {2}mean /);
    // A UHI document named after the file, the form run-analysis writes
    const doc = JSON.parse(readFileSync(out, 'utf8')) as Record<
      string,
      { axes: { edges?: number[]; lower?: number; upper?: number; bins?: number }[]; storage: { values: number[] } }
    >;
    expect(Object.keys(doc)).toEqual(['q4']);
    expect(doc.q4.storage.values.reduce((a, b) => a + b, 0)).toBe(116);
  });

  it('writes an SVG figure titled with the expression (underscores kept visible, not subscripts)', () => {
    const out = join(dir, 'jets.svg');
    const r = cli(FLAT, 'Jet_pt', '--bins', '20,0,200', '--out', out);
    expect(r.status).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg') || svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('Jet\u02cdpt');
  });

  it('rejects an unknown output type before reading anything', () => {
    const r = cli(FLAT, 'MET_pt', '--out', join(dir, 'x.txt'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--out .*x\.txt: unknown output type/);
  });

  it('exits 1 with the caret on stderr for a bad expression', () => {
    const r = cli(FLAT, 'Jet_ptt');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no branch Jet_ptt .*closest: Jet_pt/);
    expect(r.stderr).toContain('\n  Jet_ptt\n  ^');
  });
});
