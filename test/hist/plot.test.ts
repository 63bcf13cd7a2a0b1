import { describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory, Weight } from '../../src/hist/index.ts';
import { plotPNG, plotSVG, stackSVG, svgToPNG } from '../../src/hist/render.ts';
import { rng } from './naive.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function sample(n: number, scale: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => -Math.log(1 - r()) * scale);
}

describe('plots through jsroot', () => {
  it('1-D SVG has the axis title and a PNG with a PNG signature', async () => {
    const h = new Hist(new Regular(50, 0, 200, { name: 'met', label: 'missing E_{T} [GeV]' }), {
      storage: new Weight(),
    });
    h.fill(sample(2000, 40, 1), { weight: 0.5 });
    const svg = await plotSVG(h, { width: 600, height: 400, valueTitle: 'Events / 4 GeV' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('missing E');
    expect(svg).toContain('Events / 4 GeV');
    const png = await svgToPNG(svg);
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    expect(png.length).toBeGreaterThan(1000);
  });

  it('2-D colour map shows both axis titles', async () => {
    const h = new Hist(
      new Regular(20, 0, 100, { name: 'a', label: 'leading p_{T}' }),
      new Regular(20, 0, 100, { name: 'b', label: 'subleading p_{T}' }),
    );
    h.fill(sample(3000, 30, 2), sample(3000, 20, 3));
    const svg = await plotSVG(h);
    expect(svg).toContain('leading p');
    expect(svg).toContain('subleading p');
    const png = await plotPNG(h);
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
  });

  it('stacked plot over a category axis has one legend entry per category', async () => {
    const h = new Hist(
      new StrCategory([], { name: 'process', growth: true }),
      new Regular(30, 0, 150, { name: 'mll', label: 'm_{#mu#mu} [GeV]' }),
    );
    h.fill('Drell-Yan', sample(3000, 30, 4))
      .fill('ttbar', sample(1000, 50, 5))
      .fill('diboson', sample(300, 60, 6));
    const svg = await stackSVG(h, 'process', { valueTitle: 'Events' });
    for (const text of ['Drell-Yan', 'ttbar', 'diboson', 'Events', '[GeV]']) expect(svg).toContain(text);
    await expect(stackSVG(new Hist(new Regular(2, 0, 1), new Regular(2, 0, 1)), 0)).rejects.toThrow(
      /stacked plots need a 2-D histogram with a category axis/,
    );
  });

  it('data categories are drawn as points with error bars over the stacked simulation', async () => {
    const h = new Hist(
      new StrCategory([], { name: 'dataset', growth: true }),
      new Regular(20, 0, 100, { name: 'm', label: 'm [GeV]' }),
    );
    h.fill('DY', sample(3000, 20, 7))
      .fill('ttbar', sample(1000, 30, 8))
      .fill('Data', sample(4000, 22, 9));
    const stacked = await stackSVG(h, 'dataset');
    const withData = await stackSVG(h, 'dataset', { data: ['Data'] });
    for (const text of ['DY', 'ttbar', 'Data']) expect(withData).toContain(text);
    // Points are drawn as markers (paths with the marker's shape), which the plain stack has none of;
    // the stack then holds only the two simulated layers.
    expect((withData.match(/<path/g) ?? []).length).toBeGreaterThan((stacked.match(/<path/g) ?? []).length);
    expect(withData).not.toEqual(stacked);
  });
});
