import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  brazilSVG,
  contourBands,
  contourSegments,
  delaunay,
  massPlaneSVG,
  niceTicks,
  scanPlotSVG,
  writeScanPlot,
  type ScanRecord,
} from '../../src/fit/index.ts';
import { rng as seeded } from '../helpers/rng.ts';

/** Independent check: no point strictly inside any triangle's circumcircle (the Delaunay property). */
function inCircle(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
): number {
  const m = [
    [ax - dx, ay - dy, (ax - dx) ** 2 + (ay - dy) ** 2],
    [bx - dx, by - dy, (bx - dx) ** 2 + (by - dy) ** 2],
    [cx - dx, cy - dy, (cx - dx) ** 2 + (cy - dy) ** 2],
  ];
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const orient = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  return orient > 0 ? det : -det;
}

describe('Delaunay triangulation', () => {
  it('splits a square with its centre into 4 triangles', () => {
    const t = delaunay([0, 1, 1, 0, 0.5], [0, 0, 1, 1, 0.5]);
    expect(t.length / 3).toBe(4);
    for (let i = 0; i < t.length; i += 3) expect([t[i], t[i + 1], t[i + 2]]).toContain(4);
  });

  it('has empty circumcircles and covers the convex hull area on random points', () => {
    const rng = seeded(7);
    const n = 60;
    const xs = Array.from({ length: n }, () => rng() * 1000);
    const ys = Array.from({ length: n }, () => rng() * 300);
    const t = delaunay(xs, ys);
    // Euler: a triangulation of n points with h on the hull has 2n − 2 − h triangles.
    let hull = 0;
    for (let i = 0; i < n; i++) {
      // Count hull points independently: a point is on the hull if some direction has it extreme.
      let extreme = false;
      for (let k = 0; k < 360 && !extreme; k++) {
        const a = (k * Math.PI) / 180;
        const v = xs[i] * Math.cos(a) + ys[i] * Math.sin(a) * 3;
        extreme = xs.every((x, j) => x * Math.cos(a) + ys[j] * Math.sin(a) * 3 <= v);
      }
      if (extreme) hull++;
    }
    expect(t.length / 3).toBe(2 * n - 2 - hull);
    for (let k = 0; k < t.length; k += 3) {
      const [a, b, c] = [t[k], t[k + 1], t[k + 2]];
      for (let d = 0; d < n; d++) {
        if (d === a || d === b || d === c) continue;
        // Scaled to the unit box as the triangulation works there.
        expect(
          inCircle(
            xs[a] / 1000,
            ys[a] / 300,
            xs[b] / 1000,
            ys[b] / 300,
            xs[c] / 1000,
            ys[c] / 300,
            xs[d] / 1000,
            ys[d] / 300,
          ),
        ).toBeLessThan(1e-9);
      }
    }
  });
});

describe('contours', () => {
  it('follow x = 0.3 for the field v = x on a grid, with total length the grid height', () => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i <= 4; i++) for (let j = 0; j <= 4; j++) xs.push(i / 4), ys.push(j / 4);
    const segs = contourSegments(delaunay(xs, ys), xs, ys, xs, 0.3);
    let length = 0;
    for (const [x1, y1, x2, y2] of segs) {
      expect(x1).toBeCloseTo(0.3, 12);
      expect(x2).toBeCloseTo(0.3, 12);
      length += Math.hypot(x2 - x1, y2 - y1);
    }
    expect(length).toBeCloseTo(1, 12);
  });

  it('fill bands with the areas of the field v = x + y on the unit square, edges on the level lines', () => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i <= 4; i++) for (let j = 0; j <= 4; j++) xs.push(i / 4), ys.push(j / 4);
    const v = xs.map((x, i) => x + ys[i]);
    const pieces = contourBands(delaunay(xs, ys), xs, ys, v, [0, 0.5, 1, 1.5, 2]);
    const area = [0, 0, 0, 0];
    for (const { band, polygon } of pieces) {
      let a2 = 0;
      for (let k = 0; k < polygon.length; k += 2) {
        const m = (k + 2) % polygon.length;
        a2 += polygon[k] * polygon[m + 1] - polygon[m] * polygon[k + 1];
      }
      area[band] += Math.abs(a2) / 2;
      // Every vertex of a band-k piece has x + y within that band.
      for (let k = 0; k < polygon.length; k += 2) {
        expect(polygon[k] + polygon[k + 1]).toBeGreaterThanOrEqual(band * 0.5 - 1e-12);
        expect(polygon[k] + polygon[k + 1]).toBeLessThanOrEqual(band * 0.5 + 0.5 + 1e-12);
      }
    }
    // Area of {x + y ≤ t} in the unit square: t²/2 below t = 1, 1 − (2 − t)²/2 above.
    expect(area[0]).toBeCloseTo(0.125, 12);
    expect(area[1]).toBeCloseTo(0.375, 12);
    expect(area[2]).toBeCloseTo(0.375, 12);
    expect(area[3]).toBeCloseTo(0.125, 12);
  });

  it('skip triangles with a non-finite value', () => {
    expect(contourBands(Uint32Array.of(0, 1, 2), [0, 1, 0], [0, 0, 1], [0, NaN, 1], [0, 1])).toEqual([]);
    expect(contourSegments(Uint32Array.of(0, 1, 2), [0, 1, 0], [0, 0, 1], [0, NaN, 1], 0.5)).toEqual([]);
  });
});

describe('scan plots', () => {
  const ok = (values: number[], clsObs: number, clsExp: number[]): ScanRecord => ({
    name: values.join('_'),
    values,
    ok: true,
    clsObs,
    clsExp,
    muHat: 0,
    seconds: 0,
  });

  it('niceTicks gives round values covering the range', () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(230, 1640)).toEqual([250, 500, 750, 1000, 1250, 1500]);
  });

  it('mass plane: the observed 0.05 contour sits where log-linear CLs crosses 0.05', () => {
    // CLs = 10^(−2.6·x/1000) on a 1000 × 1000 grid: crosses 0.05 at x = 1000·log10(20)/2.6 = 500.4.
    const results: ScanRecord[] = [];
    for (let i = 0; i <= 10; i++)
      for (let j = 0; j <= 10; j++) {
        const x = i * 100,
          y = j * 100,
          c = 10 ** ((-2.6 * x) / 1000);
        results.push(ok([x, y, 60], c, [c / 4, c / 2, c, c * 2, c * 4]));
      }
    results.push({ name: 'bad', values: [1, 2, 60], ok: false, error: 'x', seconds: 0 });
    const svg = massPlaneSVG(results, { labels: ['m(b)', 'm(χ)'] });
    const obs = [...svg.matchAll(/<line class="obs" x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/g)];
    expect(obs.length).toBeGreaterThan(5);
    // Pixel x of data x = 500.4: the frame maps [−40, 1040] onto [80, 570].
    const px = 80 + ((500.4 + 40) / 1080) * 490;
    for (const m of obs) {
      expect(Number(m[1])).toBeCloseTo(px, 0);
      expect(Number(m[2])).toBeCloseTo(px, 0);
    }
    // The expected median (c itself) crosses at the same x; the ±1σ contours (c/2, 2c) to either side.
    expect([...svg.matchAll(/<line class="exp" x1="([\d.]+)"/g)].every((m) => Math.abs(Number(m[1]) - px) < 0.5)).toBe(
      true,
    );
    // The same results in another order (as threads finish) draw the same SVG.
    expect(massPlaneSVG([...results].reverse(), { labels: ['m(b)', 'm(χ)'] })).toBe(svg);
    expect(svg).toContain('m3 = 60');
    expect(svg).toContain('m(χ)');
    // Filled bands: log10 CLs from −2.6 to 0 → half-decade bands from 1e−3; the band holding 0.05
    // (log10 −1.30, band [−1.5, −1]) lies between x = 1000·1/2.6 = 384.6 and 1000·1.5/2.6 = 576.9.
    expect(svg).toContain('≤ 1e-3');
    const px2x = (p: number) => ((p - 80) / 490) * 1080 - 40;
    const band = [...svg.matchAll(/<polygon points="([^"]+)" fill="([^"]+)"/g)];
    const fills = new Map<string, number[]>();
    for (const m of band)
      for (const xy of m[1].split(' ')) {
        const x = px2x(Number(xy.split(',')[0]));
        const r = fills.get(m[2]) ?? [Infinity, -Infinity];
        fills.set(m[2], [Math.min(r[0], x), Math.max(r[1], x)]);
      }
    expect(fills.size).toBe(6);
    const ranges = [...fills.values()].sort((a, b) => a[0] - b[0]);
    // Sorted by position: bands [0, −0.5], [−0.5, −1], [−1, −1.5], ... as x grows; the third from the left is [−1, −1.5].
    expect(ranges[2][0]).toBeCloseTo(384.6, 0);
    expect(ranges[2][1]).toBeCloseTo(576.9, 0);
  });

  it('one parameter: a Brazil-band plot; too few points: no plot, nothing written', async () => {
    const results = [100, 200, 300, 400].map((m) => ok([m], 10 ** (-m / 100), [0.01, 0.02, 0.05, 0.1, 0.2]));
    const svg = brazilSVG(results);
    expect(svg).toContain('fill="#ffe000"');
    expect(svg).toContain('fill="#00c000"');
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-fit-plot-'));
    try {
      expect(await writeScanPlot(results.slice(0, 1), dir, 'svg')).toBeUndefined();
      const file = await writeScanPlot(results, dir, 'svg');
      expect(readFileSync(file!, 'utf8')).toBe(svg);
      const png = await writeScanPlot(results, dir, 'png');
      expect([...readFileSync(png!).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('every patch failed: no plot, and the reason is the failures, not missing parameter values', () => {
    const failed: ScanRecord = {
      name: 'sbottom_1000_131_1',
      values: [1000, 131, 1],
      ok: false,
      error: 'bins',
      seconds: 0,
    };
    expect(() => scanPlotSVG([failed, { ...failed, name: 'sbottom_900_131_1', values: [900, 131, 1] }])).toThrow(
      /no patch succeeded/,
    );
    expect(() => scanPlotSVG([ok([], 0.1, [0.1, 0.1, 0.1, 0.1, 0.1])])).toThrow(/no parameter values/);
  });
});
