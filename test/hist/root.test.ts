/// <reference path="../../src/types/jsroot-vendor.d.ts" />
import { describe, expect, it } from 'vitest';
import { parse } from '#jsroot/core';
import { Hist, Mean, Regular, StrCategory, Variable, Weight, UnsupportedHistError } from '../../src/hist/index.ts';
import { toROOT, toROOTJSON } from '../../src/hist/render.ts';
import { linspace, naiveBin, rng } from './naive.ts';

/** ROOT's cell numbering, written out: 0 underflow, 1..n bins, n+1 overflow; x fastest. */
function rootCell(b: number | 'under' | 'over', n: number): number {
  return b === 'under' ? 0 : b === 'over' ? n + 1 : b + 1;
}

describe('ROOT histogram objects', () => {
  it('TH1D: flow cells in place, fSumw2 for Weight storage, entries, titles', () => {
    const r = rng(21);
    const x = Float64Array.from({ length: 5000 }, () => -20 + 240 * r());
    x[3] = NaN;
    const w = Float64Array.from(x, () => 0.5 + r());
    const h = new Hist(new Regular(100, 0, 200, { name: 'pt', label: 'p_{T} [GeV]' }), {
      storage: new Weight(),
      name: 'jet_pt',
      label: 'Jet p_{T}',
    });
    h.fill(x, { weight: w });
    const th = toROOT(h, { valueTitle: 'Jets' });
    expect(th._typename).toBe('TH1D');
    expect([th.fName, th.fTitle, th.fXaxis.fTitle, th.fYaxis.fTitle]).toEqual([
      'jet_pt',
      'Jet p_{T}',
      'p_{T} [GeV]',
      'Jets',
    ]);
    expect([th.fXaxis.fNbins, th.fXaxis.fXmin, th.fXaxis.fXmax, th.fXaxis.fXbins.length]).toEqual([100, 0, 200, 0]);
    const sumw = new Array<number>(102).fill(0);
    const sumw2 = new Array<number>(102).fill(0);
    const edges = linspace(100, 0, 200);
    x.forEach((v, i) => {
      const c = rootCell(naiveBin(v, edges), 100);
      sumw[c] += w[i];
      sumw2[c] += w[i] * w[i];
    });
    Array.from(th.fArray).forEach((v, i) => expect(v).toBeCloseTo(sumw[i], 9));
    th.fSumw2.forEach((v, i) => expect(v).toBeCloseTo(sumw2[i], 9));
    expect(th.fEntries).toBe(5000);
    // fTsumw excludes the flow cells, as ROOT's
    expect(th.fTsumw).toBeCloseTo(
      sumw.slice(1, 101).reduce((a, b) => a + b, 0),
      8,
    );
  });

  it('TH2D with variable edges (fXbins), axes without underflow, labelled category bins', () => {
    const h = new Hist(
      new Variable([0, 1, 3, 10], { name: 'm', label: 'm [GeV]', underflow: false }),
      new StrCategory(['e', 'mu'], { name: 'flavour' }),
    );
    const m = [0.5, 2, 2, 50, -1, 5];
    const f = ['e', 'mu', 'mu', 'e', 'e', 'tau'];
    h.fill(m, f);
    const th = toROOT(h);
    expect(th._typename).toBe('TH2D');
    expect(th.fXaxis.fXbins).toEqual([0, 1, 3, 10]);
    expect(th.fYaxis.fLabels!.arr.map((s) => (s as { fString: string }).fString)).toEqual(['e', 'mu']);
    expect(th.fYaxis.fTitle).toBe('flavour');
    const nx = 3;
    const ny = 2;
    const expected = new Array<number>((nx + 2) * (ny + 2)).fill(0);
    m.forEach((v, i) => {
      const bx = naiveBin(v, [0, 1, 3, 10]);
      if (bx === 'under') return; // no underflow bin on this axis: dropped at fill
      const by = f[i] === 'e' ? 0 : f[i] === 'mu' ? 1 : 'over';
      expected[rootCell(bx, nx) + (nx + 2) * rootCell(by, ny)] += 1;
    });
    expect(Array.from(th.fArray)).toEqual(expected);
    expect(th.fSumw2).toEqual([]);
  });

  it('ROOT JSON reads back through jsroot with the same bins', () => {
    const h = new Hist(
      new Regular(4, 0, 4, { name: 'x' }),
      new Regular(2, 0, 2, { name: 'y' }),
      new Regular(2, 0, 2, { name: 'z' }),
      { storage: new Weight() },
    );
    h.fill([0.5, 3.5, 5], [1.5, 0.5, 0.5], [0.5, 1.5, 1.5], { weight: [1, 2, 3] });
    const json = toROOTJSON(h);
    const back = parse(json) as { _typename: string; fArray: number[]; fSumw2: number[]; fEntries: number };
    expect(back._typename).toBe('TH3D');
    expect(back.fEntries).toBe(3);
    const cell = (ix: number, iy: number, iz: number) => ix + 6 * (iy + 4 * iz);
    expect(back.fArray[cell(1, 2, 1)]).toBe(1);
    expect(back.fArray[cell(4, 1, 2)]).toBe(2);
    expect(back.fArray[cell(5, 1, 2)]).toBe(3);
    expect(back.fSumw2[cell(5, 1, 2)]).toBe(9);
    expect(back.fArray.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('refuses what ROOT histograms cannot hold', () => {
    expect(() => toROOT(new Hist(new Regular(2, 0, 1), { storage: new Mean() }))).toThrow(UnsupportedHistError);
    const four = new Hist(new Regular(2, 0, 1), new Regular(2, 0, 1), new Regular(2, 0, 1), new Regular(2, 0, 1));
    expect(() => toROOT(four)).toThrow(
      'ROOT histograms have 1 to 3 axes, this one has 4 — project onto at most three axes first',
    );
  });
});
