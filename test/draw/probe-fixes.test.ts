/**
 * What an outside probe found in `ristretto draw`, on real files from ../shared: string branches are refused
 * (never histogrammed as character codes, neither in draw nor through fused expressions in a processor);
 * events without a value (max of no jets) are skipped and counted, not filled as NaN into the overflow;
 * an entry range past the end says it was cut; names `ristretto ls` lists (P3.Px, ArrayI16[10]) are
 * nameable; mixing two collections names the expression with a caret and draw syntax; a truncated file gets
 * one wording from ls and draw. Expected numbers come from plain loops over the reader's raw columns.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { draw, summary } from '../../src/cli/draw.ts';
import { fused } from '../../src/columnar/fused/api.ts';
import { ExpressionError } from '../../src/columnar/fused/parse.ts';
import { isStringColumn, type Jagged } from '../../src/columnar/types.ts';
import { runOnEvents } from '../../src/events/run.ts';
import { openReader } from '../../src/io/open.ts';
import { stringsOf } from '../../src/io/reader.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const FULLSPLIT = sharedPath('data', 'root-corpus', 'uproot-small-evnt-tree-fullsplit.root');
const SAMPLE = sharedPath('data', 'root-corpus', 'uproot-sample-6.20.04-zlib.root');

async function rawColumns(path: string, names: string[], tree?: string) {
  const r = await openReader(path, tree ? { treeName: tree } : {});
  try {
    return { cols: await r.read(names, 0, r.numEntries), n: r.numEntries };
  } finally {
    await r.close();
  }
}

describe('string branches are refused, never histogrammed as character codes', () => {
  it.each([
    { file: FULLSPLIT, branch: 'Str', numeric: 'I32' },
    { file: SAMPLE, branch: 'str', numeric: 'n' },
  ])('draw $branch names the string branch with a caret', async ({ file, branch, numeric }) => {
    const e = await draw(file, branch).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExpressionError);
    expect((e as Error).message).toContain(`${branch} is a string branch (one text per event), not numbers`);
    expect((e as Error).message).toContain(`\n  ${branch}\n  ^`);
    // in a cut too
    await expect(draw(file, numeric, { cut: `${branch} > 3` })).rejects.toThrow(/string branch/);
  });

  it('a processor gets strings marked: fused expressions refuse them, stringsOf decodes them', async () => {
    const reader = await openReader(FULLSPLIT);
    try {
      const { result } = await runOnEvents(reader, 0, reader.numEntries, (events) => {
        const col = (events as unknown as Record<string, unknown>)['Str'];
        expect(isStringColumn(col)).toBe(true);
        expect(isStringColumn(events.column('StdStr'))).toBe(true);
        expect(isStringColumn(events.column('I32'))).toBe(false);
        expect(() => fused(events).Str).toThrow(/Str is a string branch/);
        return stringsOf(col as Jagged);
      });
      // uproot's test file: the strings are "evt-000" ... "evt-099"
      expect(result[0]).toBe('evt-000');
      expect(result[99]).toBe('evt-099');
    } finally {
      await reader.close();
    }
  });
});

describe('events without a value are skipped and counted', () => {
  it('max(Jet_pt) skips events without jets, like Jet_pt[0], and the summary says how many', async () => {
    const { cols, n } = await rawColumns(ROOT, ['Jet_pt']);
    const jet = cols['Jet_pt'] as Jagged;
    const maxima: number[] = [];
    let empty = 0;
    for (let e = 0; e < n; e++) {
      let m = -Infinity;
      for (let j = jet.offsets[e]; j < jet.offsets[e + 1]; j++) m = Math.max(m, jet.content[j]);
      if (jet.offsets[e + 1] === jet.offsets[e]) empty++;
      else maxima.push(m);
    }
    expect(empty).toBeGreaterThan(0);
    const r = await draw(ROOT, 'max(Jet_pt)', { bins: [50, 0, 500] });
    expect(r.entries).toBe(maxima.length);
    expect(r.skippedNaN).toBe(empty);
    expect(r.mean).toBeCloseTo(maxima.reduce((a, b) => a + b, 0) / maxima.length, 6);
    expect(r.overflow).toBe(maxima.filter((m) => m >= 500).length);
    const first = await draw(ROOT, 'Jet_pt[0]', { bins: [50, 0, 500] });
    expect(first.entries + empty).toBe(n);
    expect(summary('max(Jet_pt)', r)).toContain(`skipped ${empty} NaN values`);
  });

  it('weights stay aligned with the values kept', async () => {
    const plain = await draw(ROOT, 'min(Jet_pt)', { bins: [20, 0, 200] });
    const weighted = await draw(ROOT, 'min(Jet_pt)', { bins: [20, 0, 200], weight: '2 + 0 * MET_pt' });
    expect(Array.from(weighted.hist.values())).toEqual(Array.from(plain.hist.values()).map((v) => 2 * v));
    expect(weighted.skippedNaN).toBe(plain.skippedNaN);
  });
});

it('--entries past the end reads what there is and says the range was cut', async () => {
  const r = await draw(ROOT, 'MET_pt', { entries: [9990, 20000], bins: [10, 0, 100] });
  expect(r.events).toBe(10);
  expect(r.entriesCut).toEqual({ requested: [9990, 20000], read: [9990, 10000], available: 10000 });
  expect(summary('MET_pt', r)).toContain('--entries 9990:20000 cut to 9990:10000: the input has 10000 entries');
  const inside = await draw(ROOT, 'MET_pt', { entries: [0, 10000], bins: [10, 0, 100] });
  expect(inside.entriesCut).toBeUndefined();
  const open = await draw(ROOT, 'MET_pt', { entries: [9990, Infinity], bins: [10, 0, 100] });
  expect(open.entriesCut).toBeUndefined(); // A: means "to the end"
});

describe('names ristretto ls lists are nameable', () => {
  it('P3.Px (a member of a split object) reads the member', async () => {
    const { cols } = await rawColumns(FULLSPLIT, ['P3.Px', 'P3.Py'], 'tree');
    const px = Array.from(cols['P3.Px'] as ArrayLike<number>);
    const py = Array.from(cols['P3.Py'] as ArrayLike<number>);
    const r = await draw(FULLSPLIT, 'P3.Px + P3.Py', { cut: 'P3.Px > 10', bins: [10, 0, 300] });
    const want = px.map((x, i) => x + py[i]).filter((_, i) => px[i] > 10);
    expect(r.entries).toBe(want.length);
    expect(r.mean).toBeCloseTo(want.reduce((a, b) => a + b, 0) / want.length, 9);
  });

  it('ArrayI16[10] is the fixed-size array branch, not an index', async () => {
    const { cols } = await rawColumns(FULLSPLIT, ['ArrayI16[10]'], 'tree');
    const a = cols['ArrayI16[10]'] as Jagged;
    const r = await draw(FULLSPLIT, 'ArrayI16[10]', { bins: [10, 0, 100] });
    expect(r.entries).toBe(a.content.length);
    expect(r.mean).toBeCloseTo(Array.from(a.content).reduce((x, y) => x + y, 0) / a.content.length, 9);
    const big = await draw(FULLSPLIT, 'max(ArrayI16[10])', { bins: [10, 0, 100] });
    expect(big.entries).toBe(100);
  });
});

describe('messages', () => {
  it('two collections at once: the expression, a caret, and draw syntax', async () => {
    const e = await draw(ROOT, 'Muon_pt+Jet_pt', { entries: [0, 100] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExpressionError);
    const m = (e as Error).message;
    expect(m).toContain("expression: 'Muon_pt+Jet_pt' combines objects of Muon and Jet");
    expect(m).toContain('\n  Muon_pt+Jet_pt\n          ^');
    expect(m).toMatch(/Jet_pt\[0\], max\(Jet_pt\)/);
    expect(m).not.toMatch(/argmin\(\)\.get\(\)|\.any\(\)/);
    const cut = await draw(ROOT, 'Muon_pt', { cut: 'Jet.pt > 30', entries: [0, 100] }).catch((x: unknown) => x);
    expect((cut as Error).message).toContain("expression and --cut: 'Jet.pt > 30' combines objects");
  });

  describe('a truncated ROOT file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-draw-trunc-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(repoRoot, 'bin', 'ristretto.mjs'), ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
      });

    it('--out x.pdf says PDF is not written and what to use instead', () => {
      const r = cli('draw', ROOT, 'MET_pt', '--out', join(dir, 'met.pdf'));
      expect(r.status).toBe(1);
      const svg = join(dir, 'met.svg');
      expect(r.stderr).toBe(
        `ristretto: --out ${join(dir, 'met.pdf')}: PDF is not written (no PDF renderer is bundled) — write --out ${svg} (vector, for slides) and convert it, e.g. rsvg-convert -f pdf ${svg} > ${join(dir, 'met.pdf')}; or .png\n`,
      );
    });

    it('gets one wording from ls and draw, without jsroot in it', () => {
      const cut = join(dir, 'cut.root');
      writeFileSync(cut, readFileSync(ROOT).subarray(0, 52948));
      const ls = cli('ls', cut);
      const dr = cli('draw', cut, 'MET_pt');
      expect(ls.status).toBe(1);
      expect(dr.status).toBe(1);
      const want = `${cut} is not a readable ROOT file: the file ends after 52948 bytes but points to byte`;
      for (const r of [ls, dr]) {
        expect(r.stderr).toContain(want);
        expect(r.stderr).toContain('check that it is a complete ROOT file');
        expect(r.stderr).not.toMatch(/jsroot/i);
      }
    });
  });
});

it('in a processor, max of no objects is NaN (kernel and fused alike) and the documented mask drops it', async () => {
  const { max, counts, filterEvents, gt } = await import('../../src/index.ts');
  const { compute } = await import('../../src/columnar/fused/api.ts');
  const reader = await openReader(ROOT);
  try {
    const { result } = await runOnEvents(reader, 0, 2000, (events) => {
      const jets = fused(events).Jet;
      const kernel = max(events.Jet.pt as Jagged);
      return {
        kernel,
        fused: compute(jets.pt.max()),
        masked: compute(jets.pt.max().where(jets.count().gt(0))),
        kernelMasked: filterEvents(kernel, gt(counts(events.Jet.pt as Jagged), 0)),
        empty: Array.from(counts(events.Jet.pt as Jagged)).filter((c) => c === 0).length,
      };
    });
    const nan = (a: ArrayLike<number>) => Array.from(a).filter((v) => Number.isNaN(v)).length;
    expect(nan(result.kernel)).toBe(result.empty);
    expect(nan(result.fused)).toBe(result.empty);
    expect(nan(result.masked)).toBe(0);
    expect(result.masked.length).toBe(2000 - result.empty);
    expect(Array.from(result.kernelMasked)).toEqual(Array.from(result.masked));
  } finally {
    await reader.close();
  }
});
