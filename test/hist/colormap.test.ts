/** 2-D colour maps in the figures' style (src/hist/colormap.ts), checked on the SVG's numbers. */
import { describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory } from '../../src/hist/index.ts';
import { colormapSVG, figureSVG } from '../../src/hist/render.ts';

function frame(svg: string): { x0: number; y0: number; x1: number; y1: number } {
  const m = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none" stroke="black"/.exec(svg);
  const [x, y, w, h] = (m ?? []).slice(1, 5).map(Number);
  return { x0: x, y0: y, x1: x + w, y1: y + h };
}
function cells(svg: string): Array<{ x: number; y: number; w: number; h: number; fill: string; value: number }> {
  return [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="(#[0-9a-f]{6})" data-value="([\d.e+-]+)"/g,
    ),
  ].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    w: Number(m[3]),
    h: Number(m[4]),
    fill: m[5],
    value: Number(m[6]),
  }));
}

describe('colour maps', () => {
  // 4 × 2 bins; 3 entries at (2.5, 0.5): third column, lower row; 1 entry at (0.5, 1.5): first column, upper row
  const h = new Hist(new Regular(4, 0, 4, { name: 'x', label: 'p_{T} [GeV]' }), new Regular(2, 0, 2, { name: 'y' }));
  h.fill(Float64Array.of(2.5, 2.5, 2.5, 0.5), Float64Array.of(0.5, 0.5, 0.5, 1.5));

  it('puts each filled bin where its edges are (axis 0 along x, axis 1 up), empty bins left white', () => {
    const svg = colormapSVG(h);
    const f = frame(svg);
    const c = cells(svg);
    expect(c.map((x) => x.value).sort()).toEqual([1, 3]);
    const three = c.find((x) => x.value === 3)!;
    const one = c.find((x) => x.value === 1)!;
    const w = (f.x1 - f.x0) / 4;
    const hh = (f.y1 - f.y0) / 2;
    expect(three.x).toBeCloseTo(f.x0 + 2 * w, 1);
    expect(three.w).toBeCloseTo(w, 1);
    expect(three.y).toBeCloseTo(f.y0 + hh, 1); // the lower row: from the middle down
    expect(three.h).toBeCloseTo(hh, 1);
    expect(one.x).toBeCloseTo(f.x0, 1);
    expect(one.y).toBeCloseTo(f.y0, 1);
    // the largest value has the top colour of viridis, the smaller one a darker colour
    expect(three.fill).toBe('#fde725');
    expect(one.fill).not.toBe('#fde725');
  });

  it('carries the label line, the axis titles and one font, like the 1-D figures', () => {
    const opts = { label: 'CMS Open Data', lumi: 0.01, sqrts: 8 };
    const svg = figureSVG(h, opts); // figureSVG hands two continuous axes to the colour map
    expect(svg).toContain('<tspan font-weight="bold">CMS</tspan>');
    expect(svg).toMatch(/>0\.01 fb<tspan[^>]*>−1<\/tspan>.*\(8 TeV\)</);
    expect(svg).toMatch(/>p<tspan[^>]*>T<\/tspan><tspan[^>]*> \[GeV\]<\/tspan><\/text>/);
    expect(svg).toMatch(/>Events<\/text>/);
    const oneD = figureSVG(h.project(0), opts);
    const fonts = (s: string) => new Set([...s.matchAll(/font-family="([^"]+)"/g)].map((m) => m[1]));
    expect(fonts(svg)).toEqual(fonts(oneD));
    // without the options, no label line: the frame starts higher
    expect(frame(figureSVG(h)).y0).toBeLessThan(frame(svg).y0);
  });

  it('refuses a category axis (that is a stack, not a map)', () => {
    const c = new Hist(new StrCategory(['a']), new Regular(2, 0, 2));
    expect(() => colormapSVG(c)).toThrow(/two continuous axes/);
  });
});
