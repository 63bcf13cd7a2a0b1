import { describe, expect, it } from 'vitest';
import { Hist, Regular } from '../../src/hist/index.ts';

/** boost-histogram's regular-axis formula, written out independently: z = (x - lo) / (hi - lo), bin = floor(z * n). */
function boostBin(x: number, n: number, lo: number, hi: number): number {
  const z = (x - lo) / (hi - lo);
  if (z < 0) return -1;
  if (!(z < 1)) return n;
  return Math.floor(z * n);
}

describe('Regular axis binning on and next to bin edges', () => {
  // Axes where the one-multiply shortcut (x - lo) * (n / (hi - lo)) disagrees with the formula above
  // for some edge values (found by scanning float32 edges).
  const axes: Array<[number, number, number]> = [
    [100, 0, 2000],
    [100, 15, 40],
    [50, 0, 200],
    [100, 15, 60],
    [7, -1.3, 2.9],
  ];
  for (const [n, lo, hi] of axes) {
    it(`matches boost-histogram bin for bin at every edge of (${n}, ${lo}, ${hi})`, () => {
      const xs: number[] = [];
      const f32 = new Float32Array(1);
      for (let i = 0; i <= n; i++) {
        const e = lo + (i * (hi - lo)) / n;
        f32[0] = e;
        xs.push(e, f32[0], e + Number.EPSILON * Math.abs(e), e - Number.EPSILON * Math.abs(e));
      }
      const h = new Hist(new Regular(n, lo, hi));
      h.fill(Float64Array.from(xs));
      const want = new Float64Array(n + 2);
      for (const x of xs) want[boostBin(x, n, lo, hi) + 1] += 1;
      expect(Array.from(h.values({ flow: true }))).toEqual(Array.from(want));
      const axis = new Regular(n, lo, hi);
      for (const x of xs) expect(axis.bin(x)).toBe(boostBin(x, n, lo, hi));
    });
  }
});
