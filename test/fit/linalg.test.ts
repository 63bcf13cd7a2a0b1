import { describe, expect, it } from 'vitest';
import { invert } from '../../src/fit/linalg.ts';
import { rng } from '../helpers/rng.ts';

describe('invert', () => {
  it('inverts a 3×3 matrix to its inverse worked out by hand', () => {
    // det = 4·(18−5) − 7·(9−2) + 2·(15−12) = 9; the inverse is the adjugate over 9.
    const inv = invert([
      [4, 7, 2],
      [3, 6, 1],
      [2, 5, 3],
    ])!;
    const expected = [
      [13 / 9, -11 / 9, -5 / 9],
      [-7 / 9, 8 / 9, 2 / 9],
      [3 / 9, -6 / 9, 3 / 9],
    ];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(inv[i][j]).toBeCloseTo(expected[i][j], 13);
  });

  it('gives A·A⁻¹ = I for a random symmetric positive-definite 40×40 matrix (pivoting needed)', () => {
    const r = rng(3);
    const n = 40;
    const b = Array.from({ length: n }, () => Array.from({ length: n }, () => r() - 0.5));
    const a = b.map((_, i) => b.map((_, j) => b[i].reduce((s, x, k) => s + x * b[j][k], 0) + (i === j ? 0.1 : 0)));
    const inv = invert(a)!;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const v = a[i].reduce((s, x, k) => s + x * inv[k][j], 0);
        expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(1e-9);
      }
  });

  it('returns undefined for a singular matrix', () => {
    expect(
      invert([
        [1, 2],
        [2, 4],
      ]),
    ).toBeUndefined();
    expect(invert([[0]])).toBeUndefined();
  });
});
