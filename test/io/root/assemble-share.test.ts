/**
 * `assembleJagged` with another field's offsets (`shareWith`): a field of the same collection takes them
 * after checking only where each basket slice starts and ends (ROOT sizes every `x[n]` field by the same
 * counter), whole baskets and cut ones; a slice whose element count differs, or a stored position outside
 * the data, sends it through the per-entry loop, which builds its own offsets or reports the damage.
 * Baskets are built here by hand: big-endian values and ROOT's entry-offset table (positions counted from
 * the start of the key).
 */
import { describe, expect, it } from 'vitest';
import { assembleJagged, type BasketSlice } from '../../../src/io/root/assemble.ts';
import { BasketFormatError, type BasketData } from '../../../src/io/root/basket.ts';

const KEYLEN = 77;

/** A basket of float32 entries with `counts[i]` values each, the values counting up from `first`. */
function basket(counts: number[], first: number, table?: (pos: number[]) => number[]): BasketData {
  const total = counts.reduce((a, b) => a + b, 0);
  const data = new Uint8Array(4 * total);
  const dv = new DataView(data.buffer);
  for (let k = 0; k < total; k++) dv.setFloat32(4 * k, first + k);
  let at = 0;
  let pos = counts.map((c) => {
    const p = KEYLEN + at;
    at += 4 * c;
    return p;
  });
  if (table) pos = table(pos);
  const bytes = new Uint8Array(4 * counts.length);
  pos.forEach((p, i) => new DataView(bytes.buffer).setInt32(4 * i, p));
  return { data, entries: counts.length, offsets: null, table: { bytes, keylen: KEYLEN } };
}

const A = [2, 0, 3, 1];
const B = [1, 2, 4];

function slices(a: BasketData, b: BasketData, cut: boolean): BasketSlice[] {
  return cut
    ? [
        { basket: a, from: 1, to: 4 },
        { basket: b, from: 0, to: 2 },
      ]
    : [
        { basket: a, from: 0, to: 4 },
        { basket: b, from: 0, to: 3 },
      ];
}

/** Offsets and values expected by hand for the slices of `counts` (first value of basket A: 0, of B: 100). */
function expected(cut: boolean): { offsets: number[]; values: number[] } {
  const parts = cut
    ? [
        [A.slice(1, 4), 2],
        [B.slice(0, 2), 100],
      ]
    : [
        [A, 0],
        [B, 100],
      ];
  const offsets = [0];
  const values: number[] = [];
  for (const [counts, first] of parts as [number[], number][]) {
    for (let i = 0, v = first; i < counts.length; v += counts[i], i++) {
      offsets.push(offsets[offsets.length - 1] + counts[i]);
      for (let k = 0; k < counts[i]; k++) values.push(v + k);
    }
  }
  return { offsets, values };
}

describe('assembleJagged with a sibling field’s offsets', () => {
  for (const cut of [false, true]) {
    const n = cut ? 5 : 7;
    it(`${cut ? 'cut' : 'whole'} baskets: the same counts give the same array, and the field’s own values`, () => {
      const first = assembleJagged('float32', 4, slices(basket(A, 0), basket(B, 100), cut), n);
      const want = expected(cut);
      expect(Array.from(first.offsets)).toEqual(want.offsets);
      const second = assembleJagged('float32', 4, slices(basket(A, 0), basket(B, 100), cut), n, first.offsets);
      expect(second.offsets).toBe(first.offsets);
      expect(Array.from(second.content)).toEqual(want.values);
    });
  }

  it('a slice with other element counts builds its own offsets', () => {
    const first = assembleJagged('float32', 4, slices(basket(A, 0), basket(B, 100), false), 7);
    const other = [2, 1, 3, 1]; // one more value in basket A
    const got = assembleJagged('float32', 4, slices(basket(other, 0), basket(B, 100), false), 7, first.offsets);
    expect(got.offsets).not.toBe(first.offsets);
    expect(Array.from(got.offsets)).toEqual([0, 2, 3, 6, 7, 8, 10, 14]);
  });

  it('a stored position outside the data is reported, not shared', () => {
    const first = assembleJagged('float32', 4, slices(basket(A, 0), basket(B, 100), true), 5);
    // The cut at entry 1 of basket A points past its data.
    const damaged = basket(A, 0, (pos) => pos.map((p, i) => (i === 1 ? p + 4000 : p)));
    expect(() => assembleJagged('float32', 4, slices(damaged, basket(B, 100), true), 5, first.offsets)).toThrow(
      BasketFormatError,
    );
  });
});
