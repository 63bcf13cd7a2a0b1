/**
 * The "×10^k" multiplier of large counts lies inside the figure (probe F10: without a label line it was
 * drawn 8 px from the top edge with a raised exponent, its top cut off). Checked on the SVG's numbers:
 * the text's box is bounded conservatively (every glyph at most one em high above its baseline and one
 * em wide), so a box inside the figure means the drawn text is.
 */
import { describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory, Weight } from '../../src/hist/index.ts';
import { figureSVG } from '../../src/hist/render.ts';

interface Box {
  left: number;
  top: number;
  right: number;
  baseline: number;
}

/** The multiplier's conservative box, from its x, y, font sizes and the exponent's shift. */
function multiplierBox(svg: string): Box {
  const m =
    /<text x="([\d.]+)" y="([\d.-]+)" font-size="([\d.]+)" text-anchor="end">×10<tspan dy="([\d.-]+)" font-size="([\d.]+)">(\d+)<\/tspan><\/text>/.exec(
      svg,
    );
  if (!m) throw new Error('no ×10^k multiplier in the SVG');
  const [x, y, size, dy, expSize] = m.slice(1, 6).map(Number);
  const digits = m[6].length;
  return {
    left: x - 3 * size - digits * expSize, // anchor end: the text ends at x
    right: x,
    top: Math.min(y - size, y + dy - expSize),
    baseline: y,
  };
}

function figureSize(svg: string): { width: number; height: number } {
  const m = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg);
  return { width: Number(m?.[1]), height: Number(m?.[2]) };
}

/** The main panel's frame (the first black-stroked rectangle). */
function frameTop(svg: string): number {
  const m = /<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="[\d.]+" fill="none" stroke="black"/.exec(svg);
  return Number(m?.[1]);
}

/** A Drell–Yan-like peak of about 5·10^4 per bin, weighted (the probe's case: a ×10^5 axis). */
function weightedPeak(h: Hist, ...cat: string[]): void {
  const x = Float64Array.from({ length: 3000 }, (_, i) => 60 + ((i * 37) % 60) + 0.5);
  h.fill(...cat, x, { weight: new Float64Array(x.length).fill(1000) });
}

describe('the ×10^k multiplier', () => {
  const cases: Array<[string, () => Hist, Parameters<typeof figureSVG>[1]]> = [
    [
      '1-D, no label line',
      () => {
        const h = new Hist(new Regular(30, 60, 120, { name: 'mass' }), { storage: new Weight() });
        weightedPeak(h);
        return h;
      },
      {},
    ],
    [
      '(dataset × mass) with a ratio panel, no label line',
      () => {
        const h = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(30, 60, 120), {
          storage: new Weight(),
        });
        weightedPeak(h, 'DY');
        weightedPeak(h, 'SingleMu');
        return h;
      },
      { data: ['SingleMu'] },
    ],
    [
      '1-D with the label line',
      () => {
        const h = new Hist(new Regular(30, 60, 120, { name: 'mass' }), { storage: new Weight() });
        weightedPeak(h);
        return h;
      },
      { label: 'CMS Open Data', lumi: 11.6, sqrts: 8 },
    ],
  ];
  for (const [name, make, opts] of cases)
    it(`${name}: the text's box lies inside the figure, above the frame`, () => {
      const svg = figureSVG(make(), opts);
      const box = multiplierBox(svg);
      const { width, height } = figureSize(svg);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.right).toBeLessThanOrEqual(width);
      expect(box.baseline).toBeLessThanOrEqual(height);
      expect(box.baseline).toBeLessThan(frameTop(svg));
    });
});
