import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import { perDtype } from '../../src/columnar/specialize.ts';
import type { NumericArray } from '../../src/columnar/types.ts';

const CTORS = [
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
] as const;

describe('perDtype', () => {
  it('hands out one compiled copy per combination of constructors, computing what the loop computes', () => {
    const total = perDtype(function total(a: ArrayLike<number>, b: ArrayLike<number>): number {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * b[i];
      return s;
    });
    const f32 = Float32Array.of(1.5, 2);
    const i8 = Int8Array.of(-3, 4);
    const copy = total(f32, i8);
    expect(total(Float32Array.of(0), Int8Array.of(0))).toBe(copy);
    expect(total(i8, f32)).not.toBe(copy);
    expect(total(f32, f32)).not.toBe(copy);
    expect(copy(f32, i8)).toBe(1.5 * -3 + 2 * 4);
    expect(total(i8, f32)(i8, f32)).toBe(-3 * 1.5 + 4 * 2);
  });
});

describe('kernels after every dtype went through them', () => {
  it('select, gather, reduce and compare each dtype exactly as a naive loop does', () => {
    const offsets = Int32Array.of(0, 3, 3, 5);
    const raw = [5, -1, 0, 7, 2];
    // Interleave dtypes twice so later calls run on copies warmed up by earlier ones.
    for (let round = 0; round < 2; round++) {
      for (const C of CTORS) {
        const content = C.from(raw) as NumericArray;
        const stored = Array.from(content);
        const mask = ak.gt({ offsets, content }, 0);
        expect(Array.from(mask.content)).toEqual(stored.map((v) => (v > 0 ? 1 : 0)));
        const sel = ak.selectObjects({ offsets, content }, mask);
        expect(sel.content).toBeInstanceOf(C);
        const kept: number[] = [0];
        for (let e = 0; e < 3; e++)
          kept.push(kept[e] + stored.slice(offsets[e], offsets[e + 1]).filter((v) => v > 0).length);
        expect(Array.from(sel.offsets)).toEqual(kept);
        expect(Array.from(sel.content)).toEqual(stored.filter((v) => v > 0));
        const coll = ak.selectObjects({ offsets, fields: { x: content } }, mask);
        expect(Array.from(coll.fields.x)).toEqual(stored.filter((v) => v > 0));
        expect(Array.from(ak.gather(content, Int32Array.of(4, 0)))).toEqual([stored[4], stored[0]]);
        expect(() => ak.gather(content, Int32Array.of(0, 5))).toThrow(/index 5 at position 1/);
        expect(Array.from(ak.sum({ offsets, content }))).toEqual([
          stored[0] + stored[1] + stored[2],
          0,
          stored[3] + stored[4],
        ]);
        expect(Array.from(ak.any(mask))).toEqual([1, 0, 1]);
      }
    }
  });
});
