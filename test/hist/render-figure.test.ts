/** Slide-ready figures (src/hist/publication.ts, lines.ts): checked on the SVG geometry, not pixels. */
import { describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory, Variable, Weight } from '../../src/hist/index.ts';
import { UnsupportedHistError } from '../../src/hist/errors.ts';
import { figurePNG, figureSVG, linePlotSVG, svgToPNGBundled } from '../../src/hist/render.ts';

/** Vertical bars `M x,y0 V y1` inside the group with this class. */
function bars(svg: string, cls: string): Array<{ x: number; top: number; bottom: number }> {
  const g = new RegExp(`<g class="${cls}"[^>]*><path d="([^"]*)"`).exec(svg);
  if (!g) throw new Error(`no group ${cls}`);
  return [...g[1].matchAll(/M([\d.]+),([\d.]+)V([\d.]+)/g)].map((m) => ({
    x: Number(m[1]),
    top: Number(m[2]),
    bottom: Number(m[3]),
  }));
}
function circles(svg: string, cls: string): Array<{ x: number; y: number }> {
  const g = new RegExp(`<g class="${cls}"[^>]*>(.*?)</g>`, 's').exec(svg);
  return [...(g?.[1] ?? '').matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
  }));
}
const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, ''));

describe('figureSVG', () => {
  it('error bars are √N for counts: half-lengths 2 and 3 for bins with 4 and 9 entries', () => {
    const h = new Hist(new Regular(3, 0, 3, { name: 'x' }));
    h.fill(Float64Array.from([...Array(4).fill(0.5), ...Array(9).fill(1.5)]));
    const b = bars(figureSVG(h), 'errors');
    expect(b).toHaveLength(2); // the empty bin has no bar
    const half = b.map((x) => (x.bottom - x.top) / 2);
    expect(half[1] / half[0]).toBeCloseTo(3 / 2, 2);
  });

  it('error bars are √Σw² for weighted fills', () => {
    const h = new Hist(new Regular(2, 0, 2, { name: 'x' }), { storage: new Weight() });
    // bin 0: weights 1 and 2 (Σw = 3, Σw² = 5); bin 1: one weight 3 (Σw = 3, Σw² = 9)
    h.fill(Float64Array.of(0.5, 0.5, 1.5), { weight: Float64Array.of(1, 2, 3) });
    const b = bars(figureSVG(h), 'errors');
    const half = b.map((x) => (x.bottom - x.top) / 2);
    expect(half[1] / half[0]).toBeCloseTo(3 / Math.sqrt(5), 2);
    // same value in both bins: the bars are centred on the same height
    expect((b[0].top + b[0].bottom) / 2).toBeCloseTo((b[1].top + b[1].bottom) / 2, 0);
  });

  const stackHist = () => {
    const h = new Hist(
      new StrCategory([], { name: 'dataset', growth: true }),
      new Regular(2, 80, 100, { name: 'mll', label: 'm_{#mu#mu} [GeV]' }),
    );
    h.fill('DY', Float64Array.from([...Array(6).fill(85), ...Array(8).fill(95)]));
    h.fill('t#bar{t}', Float64Array.from([...Array(4).fill(85), ...Array(2).fill(95)]));
    h.fill('data', Float64Array.from([...Array(10).fill(85), ...Array(20).fill(95)]));
    return h;
  };

  it('stacks simulation under data points, with a ratio panel whose points sit at data / simulation', () => {
    const svg = figureSVG(stackHist(), { data: ['data'], label: 'CMS Open Data', lumi: 11.6, sqrts: 8 });
    // simulation totals 10 and 10; data 10 and 20 → ratios 1 and 2
    const r = circles(svg, 'ratio');
    expect(r).toHaveLength(2);
    const one = Number(/<path d="M[\d.]+,([\d.]+)H[\d.]+" stroke="#666" stroke-dasharray/.exec(svg)![1]);
    expect(r[0].y).toBeCloseTo(one, 0);
    const zero = 2 * one - r[1].y; // the ratio axis is linear: y(0) = 2·y(1) − y(2)
    expect(zero).toBeGreaterThan(one);
    // relative error of the data: 1/√10 and 1/√20 of the value → half-bars (1/√10)·1 and (1/√20)·2 in ratio units
    const rb = bars(svg, 'ratio');
    const unit = zero - one;
    expect((rb[0].bottom - rb[0].top) / 2 / unit).toBeCloseTo(1 / Math.sqrt(10), 2);
    // legend: data first, then the stack from the top layer down, then the band
    const t = texts(svg);
    const ttbar = t.indexOf('tt\u0305');
    expect(ttbar).toBeGreaterThan(t.indexOf('data'));
    expect(ttbar).toBeLessThan(t.indexOf('DY'));
    expect(t).toEqual(
      expect.arrayContaining([
        'data',
        'DY',
        'Stat. unc.',
        'CMS Open Data',
        '11.6 fb−1 (8 TeV)',
        'Events / 10 GeV',
        'Data / Sim.',
      ]),
    );
    expect(svg).toContain('<tspan font-weight="bold">CMS</tspan><tspan font-style="italic"');
    expect(t.some((x) => x.includes('t\u0305'))).toBe(true); // #bar{t}
  });

  it("writes each category's legend text (a dataset's metadata.label) in place of its name", () => {
    const svg = figureSVG(stackHist(), { data: ['data'], legend: { DY: 'Z/#gamma*#rightarrow#mu#mu', data: 'Data' } });
    const t = texts(svg);
    expect(t).toEqual(expect.arrayContaining(['Data', 'Z/γ*→μμ']));
    expect(t).not.toContain('DY');
    expect(t).not.toContain('data');
    // The data category is still drawn as points (found by its name, not its legend text).
    expect(circles(svg, 'data').length).toBeGreaterThan(0);
  });

  it('names the one category of a data-only figure in a legend; a plain 1-D histogram gets none', () => {
    const h = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(4, 0, 40, { name: 'pt' }));
    h.fill('SingleMu', Float64Array.of(5, 15, 15, 35));
    const svg = figureSVG(h, { data: ['SingleMu'], legend: { SingleMu: 'Data 2012' } });
    expect(texts(svg)).toContain('Data 2012');
    const one = new Hist(new Regular(4, 0, 40, { name: 'pt' })).fill(Float64Array.of(5, 15));
    expect(texts(figureSVG(one))).not.toContain('histogram'); // the series' own name, had it a legend
  });

  it('keeps the data below the legend and leaves no title band without labels', () => {
    const svg = figureSVG(stackHist(), { data: ['data'] });
    const legendRows = [
      ...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" font-size="15">(data|DY|t̄t|Stat\. unc\.)<\/text>/gu),
    ].map((m) => Number(m[1]));
    const legendBottom = Math.max(...legendRows);
    for (const p of circles(svg, 'data')) expect(p.y - 3.2).toBeGreaterThan(legendBottom);
    const frame = /<rect x="92" y="([\d.]+)"/.exec(svg);
    expect(Number(frame![1])).toBe(16);
    expect(figureSVG(stackHist(), { data: ['data'], ratio: false })).not.toContain('class="ratio"');
  });

  it('labels the value axis per bin width, or per unit for variable bins (drawn as densities)', () => {
    const uni = new Hist(new Regular(10, 0, 50, { name: 'pt', label: 'p_{T} [GeV]' }));
    expect(texts(figureSVG(uni))).toContain('Events / 5 GeV');
    const noUnit = new Hist(new Regular(10, 0, 50, { name: 'n' }));
    expect(texts(figureSVG(noUnit))).toContain('Events');
    const v = new Hist(new Variable([0, 10, 50], { name: 'met', label: 'MET [GeV]' }));
    v.fill(Float64Array.of(5, 20, 30, 40, 45)); // 1 in a 10 GeV bin, 4 in a 40 GeV bin: both 0.1 per GeV
    const svg = figureSVG(v);
    expect(texts(svg)).toContain('Events / GeV');
    const b = bars(svg, 'errors');
    expect((b[0].top + b[0].bottom) / 2).toBeCloseTo((b[1].top + b[1].bottom) / 2, 0);
  });

  it('puts integer ticks on small counts and 10^k ticks on log axes', () => {
    const h = new Hist(new Regular(4, 0, 4, { name: 'n' }));
    h.fill(Float64Array.of(1, 2, 2, 3, 3, 3));
    const yLabels = [
      ...figureSVG(h).matchAll(/<text x="86\.0" y="[\d.]+" font-size="15" text-anchor="end">([^<]*)<\/text>/g),
    ].map((m) => m[1]);
    expect(yLabels.length).toBeGreaterThan(2);
    for (const l of yLabels) expect(l).toMatch(/^\d+$/);
    const big = new Hist(new Regular(2, 0, 2, { name: 'x' }));
    big.fill(Float64Array.from({ length: 20000 }, (_, i) => (i < 19990 ? 0.5 : 1.5)));
    const log = figureSVG(big, { logy: true });
    expect(log).toMatch(/>10<tspan dy="[-\d.]+" font-size="[\d.]+">4<\/tspan>/);
  });

  it('refuses what it cannot draw, saying what to do', () => {
    const three = new Hist(
      new Regular(2, 0, 1, { name: 'a' }),
      new Regular(2, 0, 1, { name: 'b' }),
      new Regular(2, 0, 1, { name: 'c' }),
    );
    expect(() => figureSVG(three)).toThrow(UnsupportedHistError);
    expect(() => figureSVG(three)).toThrow(/project onto one axis/);
    const cats = new Hist(new StrCategory(['a'], { name: 'c' }), new StrCategory(['u'], { name: 'd' }));
    expect(() => figureSVG(cats)).toThrow(/figures need a continuous axis/);
  });

  it('renders PNGs with the bundled fonts only, the same bytes every time', () => {
    const h = stackHist();
    const a = figurePNG(h, { data: ['data'], label: 'CMS Open Data' });
    const b = figurePNG(h, { data: ['data'], label: 'CMS Open Data' });
    expect(Array.from(a.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // text is drawn (the fonts loaded): a text-only SVG differs from an empty one
    const withText = svgToPNGBundled(
      '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20"><text x="2" y="15" font-family="DejaVu Sans" font-size="14">CMS</text></svg>',
    );
    const empty = svgToPNGBundled('<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20"></svg>');
    expect(Buffer.from(withText).equals(Buffer.from(empty))).toBe(false);
  });
});

describe('linePlotSVG', () => {
  it('draws log-log series with a dashed ideal line and a legend clear of every point', () => {
    const w = [1, 2, 4, 8, 16];
    // rising curve: top-right and bottom-left are occupied
    const svg = linePlotSVG(
      [
        { label: 'throughput', x: w, y: [10, 20, 39, 75, 140], ey: [1, 1, 2, 3, 5] },
        { label: 'ideal', x: [1, 16], y: [10, 160], reference: true },
      ],
      { xlabel: 'workers', ylabel: 'events/s', logx: true, logy: true },
    );
    expect(svg).toContain('stroke-dasharray="6 4"');
    const xLabels = [...svg.matchAll(/text-anchor="middle">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(xLabels).toEqual(['1', '2', '4', '8', '16']);
    const g = /<g class="legend">(.*?)<\/g>/s.exec(svg)![1];
    const ys = [...g.matchAll(/y="([\d.]+)"/g)].map((m) => Number(m[1]));
    const xs = [...g.matchAll(/x="([\d.]+)"/g)].map((m) => Number(m[1]));
    const box = { x0: Math.min(...xs), x1: Math.max(...xs) + 100, y0: Math.min(...ys) - 10, y1: Math.max(...ys) + 10 };
    const plotted = svg.replace(/<g class="legend">.*?<\/g>/s, '');
    expect(plotted.match(/<circle/g)).toHaveLength(5);
    for (const c of [...plotted.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]))
      expect(c[0] >= box.x0 && c[0] <= box.x1 && c[1] >= box.y0 && c[1] <= box.y1).toBe(false);
  });
});
