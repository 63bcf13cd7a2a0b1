/**
 * Histograms written as ROOT files, read back by jsroot's own file reader (independent of the writer):
 * bin contents with flow cells, fSumw2, edges, labels, directories, and run-analysis' `root` format.
 * Expected bin contents are worked out by hand from the filled values.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Hist, Mean, Regular, StrCategory, Variable, Weight } from '../../../src/hist/index.ts';
import { UnsupportedHistError } from '../../../src/hist/errors.ts';
import { writeHistogramsROOT } from '../../../src/io/root-write/hist.ts';
import type { RunMetrics } from '../../../src/runner/metrics.ts';
import { parseFormats, writeOutputs } from '../../../src/runner/output.ts';
import { tempDir } from '../../helpers/files.ts';

const dir = tempDir('root-write-hist');

interface JsAxis {
  fNbins: number;
  fXmin: number;
  fXmax: number;
  fXbins: ArrayLike<number>;
  fTitle: string;
  fLabels: { arr: { fString: string }[] } | null;
}
interface JsHist {
  _typename: string;
  fName: string;
  fTitle: string;
  fEntries: number;
  fArray: ArrayLike<number>;
  fSumw2: ArrayLike<number>;
  fXaxis: JsAxis;
  fYaxis: JsAxis;
  fZaxis: JsAxis;
  fTsumw: number;
}
interface JsFile {
  fKeys: { fName: string; fClassName: string }[];
  readObject(name: string): Promise<unknown>;
}

async function open(path: string): Promise<JsFile> {
  const { openFile } = (await import('jsroot')) as { openFile(p: string): Promise<JsFile> };
  return openFile(path);
}

describe('histograms to ROOT files', () => {
  it('TH1D with weights: flow cells, fSumw2, axis title, statistics', async () => {
    const h = new Hist(new Regular(4, 0, 8, { name: 'pt', label: 'p_{T} [GeV]' }), { storage: new Weight() });
    // bins of width 2: -1 → underflow, 1 → bin 1, 3 and 3.5 → bin 2, 9 → overflow
    h.fill([-1, 1, 3, 3.5, 9], { weight: [2, 0.5, 1, 3, 4] });
    const path = join(dir, 'th1.root');
    expect(writeHistogramsROOT(path, new Map([['muon/pt', h]]))).toEqual([{ path: 'muon/pt', className: 'TH1D' }]);
    const f = await open(path);
    expect(f.fKeys.map((k) => [k.fName, k.fClassName])).toEqual([
      ['muon', 'TDirectory'],
      ['StreamerInfo', 'TList'],
    ]);
    const r = (await f.readObject('muon/pt')) as JsHist;
    expect(r._typename).toBe('TH1D');
    expect(r.fName).toBe('pt');
    expect(Array.from(r.fArray)).toEqual([2, 0.5, 4, 0, 0, 4]);
    expect(Array.from(r.fSumw2)).toEqual([4, 0.25, 10, 0, 0, 16]);
    expect([r.fXaxis.fNbins, r.fXaxis.fXmin, r.fXaxis.fXmax, r.fXaxis.fTitle]).toEqual([4, 0, 8, 'p_{T} [GeV]']);
    expect(r.fEntries).toBe(5);
    expect(r.fTsumw).toBe(4.5); // in-range weights only
  });

  it('TH2D with variable edges, TH3D, and a category-only histogram as labelled bins', async () => {
    const h2 = new Hist(new Variable([0, 1, 5], { name: 'x' }), new Regular(2, 0, 2, { name: 'y' }));
    h2.fill([0.5, 3, 3], [1.5, 0.5, 0.5]);
    const h3 = new Hist(new Regular(2, 0, 2), new Regular(2, 0, 2), new Regular(2, 0, 2));
    h3.fill([1.5], [0.5], [1.5]);
    const cut = new Hist(new StrCategory(['all', 'trigger', 'twoMuons'], { name: 'cut' }));
    cut.fill(['all', 'all', 'all', 'trigger', 'trigger', 'twoMuons']);
    const path = join(dir, 'multi.root');
    writeHistogramsROOT(
      path,
      new Map([
        ['h2', h2],
        ['h3', h3],
        ['cutflow', cut],
      ]),
      { compression: { codec: 'lz4', level: 4 } },
    );
    const f = await open(path);
    const r2 = (await f.readObject('h2')) as JsHist;
    expect(r2._typename).toBe('TH2D');
    expect(Array.from(r2.fXaxis.fXbins)).toEqual([0, 1, 5]);
    // cell = ix + (nx + 2) · iy with ix, iy from 1: (1, 2) ← (0.5, 1.5); (2, 1) ← (3, 0.5) twice
    const cells = new Array(16).fill(0);
    cells[1 + 4 * 2] = 1;
    cells[2 + 4 * 1] = 2;
    expect(Array.from(r2.fArray)).toEqual(cells);
    const r3 = (await f.readObject('h3')) as JsHist;
    expect(r3._typename).toBe('TH3D');
    const c3 = new Array(64).fill(0);
    c3[2 + 4 * 1 + 16 * 2] = 1;
    expect(Array.from(r3.fArray)).toEqual(c3);
    const rc = (await f.readObject('cutflow')) as JsHist;
    expect(rc.fXaxis.fLabels!.arr.map((s) => s.fString)).toEqual(['all', 'trigger', 'twoMuons']);
    expect(Array.from(rc.fArray).slice(1, 4)).toEqual([3, 2, 1]);
  });

  it('category axes are labelled bins by default (dataset × mass → TH2D)', async () => {
    const h = new Hist(new StrCategory(['DY', 'ttbar'], { name: 'dataset' }), new Regular(2, 0, 2, { name: 'm' }));
    h.fill(['DY', 'DY', 'ttbar'], [0.5, 1.5, 1.5]);
    const path = join(dir, 'labels.root');
    const written = writeHistogramsROOT(path, new Map([['mass', h]]));
    expect(written).toEqual([{ path: 'mass', className: 'TH2D' }]);
    const f = await open(path);
    const r = (await f.readObject('mass')) as JsHist;
    expect(r.fXaxis.fLabels!.arr.map((s) => s.fString)).toEqual(['DY', 'ttbar']);
    // TH2 cells: ix + (nx + 2) · iy with nx = 2 (bins 1..2, flow 0 and 3)
    const cells = Array.from(r.fArray);
    expect(cells[1 + 4 * 1]).toBe(1); // DY, m in [0, 1)
    expect(cells[1 + 4 * 2]).toBe(1); // DY, m in [1, 2)
    expect(cells[2 + 4 * 2]).toBe(1); // ttbar, m in [1, 2)
    expect(cells.reduce((a, b) => a + b, 0)).toBe(3);
    // four axes cannot be a TH3: split over the first category axis only
    const h4 = new Hist(
      new StrCategory(['DY'], { name: 'dataset' }),
      new StrCategory(['SR'], { name: 'region' }),
      new Regular(2, 0, 2, { name: 'x' }),
      new Regular(2, 0, 2, { name: 'y' }),
    );
    h4.fill(['DY'], ['SR'], [0.5], [1.5]);
    expect(writeHistogramsROOT(join(dir, 'four.root'), new Map([['h', h4]]))).toEqual([
      { path: 'h/DY', className: 'TH3D' },
    ]);
  });

  it("categories: 'split' writes a TDirectory with one histogram per category", async () => {
    const h = new Hist(
      new StrCategory(['DY', 'ttbar'], { name: 'dataset' }),
      new StrCategory(['SR', 'CR'], { name: 'region' }),
      new Regular(2, 0, 2, { name: 'm' }),
    );
    h.fill(['DY', 'DY', 'ttbar'], ['SR', 'CR', 'CR'], [0.5, 1.5, 1.5]);
    const path = join(dir, 'split.root');
    const written = writeHistogramsROOT(path, new Map([['mass', h]]), { categories: 'split' });
    expect(written.map((w) => w.path)).toEqual(['mass/DY/SR', 'mass/DY/CR', 'mass/ttbar/SR', 'mass/ttbar/CR']);
    const f = await open(path);
    expect(Array.from(((await f.readObject('mass/DY/SR')) as JsHist).fArray)).toEqual([0, 1, 0, 0]);
    expect(Array.from(((await f.readObject('mass/DY/CR')) as JsHist).fArray)).toEqual([0, 0, 1, 0]);
    expect(Array.from(((await f.readObject('mass/ttbar/SR')) as JsHist).fArray)).toEqual([0, 0, 0, 0]);
    const tc = (await f.readObject('mass/ttbar/CR')) as JsHist;
    expect(Array.from(tc.fArray)).toEqual([0, 0, 1, 0]);
    expect(tc.fEntries).toBe(1);
    expect(tc.fTitle).toBe('mass, dataset = ttbar, region = CR');
  });

  it('a histogram with no ROOT form throws before any file exists; run-analysis output skips it with a warning', async () => {
    const mean = new Hist(new Regular(2, 0, 2), { storage: new Mean() });
    const ok = new Hist(new Regular(2, 0, 2, { name: 'x' })).fill([0.5]);
    const path = join(dir, 'bad.root');
    expect(() =>
      writeHistogramsROOT(
        path,
        new Map([
          ['ok', ok],
          ['profile', mean],
        ]),
      ),
    ).toThrow(UnsupportedHistError);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('bad.root'))).toEqual([]);

    const out = join(dir, 'run');
    const w = await writeOutputs(
      { sel: { ok, profile: mean } },
      { events: 1, chunks: 1 } as unknown as RunMetrics,
      out,
      parseFormats('json,root'),
    );
    expect(w.files).toContain('histograms.root');
    expect(w.warnings).toEqual([expect.stringMatching(/^sel\/profile: no root output: mean storage/)]);
    const f = await open(join(out, 'histograms.root'));
    expect(Array.from(((await f.readObject('sel/ok')) as JsHist).fArray)).toEqual([0, 1, 0, 0]);
    expect(readFileSync(join(out, 'histograms.root')).subarray(0, 4).toString()).toBe('root');
  });

  it('large histograms are compressed (zlib and LZ4) and read back exactly', async () => {
    const h = new Hist(new Regular(20000, 0, 20000, { name: 'x' }));
    const values = Float64Array.from({ length: 50000 }, (_, i) => ((i * 7919) % 20000) + 0.5);
    h.fill(values);
    const expected = new Array(20002).fill(0);
    for (const v of values) expected[Math.floor(v) + 1]++;
    for (const codec of ['zlib', 'lz4', 'none'] as const) {
      const path = join(dir, `big-${codec}.root`);
      writeHistogramsROOT(path, new Map([['x', h]]), { compression: { codec, level: codec === 'none' ? 0 : 4 } });
      const size = readFileSync(path).length;
      if (codec === 'none') expect(size).toBeGreaterThan(20002 * 8);
      else expect(size).toBeLessThan(20002 * 8);
      const r = (await (await open(path)).readObject('x')) as JsHist;
      expect(Array.from(r.fArray)).toEqual(expected);
    }
  });
});
