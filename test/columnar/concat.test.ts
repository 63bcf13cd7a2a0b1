import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import { type Lists, expectSameLists, listsLike, toCollection, toLists, valueArb } from './naive.ts';

const caseArb = fc
  .tuple(fc.integer({ min: 0, max: 12 }), fc.constantFrom(0, 3))
  .chain(([n, base]) =>
    fc.tuple(
      fc.constant(base),
      fc.array(fc.array(valueArb('f32', { nan: true }), { maxLength: 4 }), { minLength: n, maxLength: n }),
      fc.array(fc.array(valueArb('f32', { nan: true }), { maxLength: 4 }), { minLength: n, maxLength: n }),
    ),
  )
  .chain(([base, ma, eb]) =>
    fc.record({
      base: fc.constant(base),
      muPt: fc.constant(ma),
      elPt: fc.constant(eb),
      muQ: listsLike(ma, fc.constantFrom(-1, 1)),
      elQ: listsLike(eb, fc.constantFrom(-1, 1)),
    }),
  );

function naiveConcat(a: Lists, b: Lists): Lists {
  return a.map((l, i) => [...l, ...b[i]]);
}

describe('concatenate', () => {
  it('lists a then b per event, keeps common fields, tags the origin', () => {
    fc.assert(
      fc.property(caseArb, ({ base, muPt, elPt, muQ, elQ }) => {
        const mu = toCollection(
          {
            pt: { lists: muPt, dtype: 'f32' },
            charge: { lists: muQ, dtype: 'i32' },
            iso: { lists: muQ, dtype: 'f32' },
          },
          base,
        );
        const el = toCollection({ pt: { lists: elPt, dtype: 'f32' }, charge: { lists: elQ, dtype: 'i8' } });
        const lep = ak.concatenate(mu, el, { tag: { name: 'flavour', a: 13, b: 11 } });
        expect(Object.keys(lep.fields)).toEqual(['pt', 'charge', 'flavour']);
        const at = (f: string) => toLists({ offsets: lep.offsets, content: lep.fields[f] });
        expectSameLists(
          at('pt'),
          naiveConcat(
            toLists({ offsets: mu.offsets, content: mu.fields.pt }),
            elPt.map((l) => l.map(Math.fround)),
          ),
        );
        expectSameLists(at('charge'), naiveConcat(muQ, elQ));
        expectSameLists(
          at('flavour'),
          muQ.map((l, i) => [...l.map(() => 13), ...elQ[i].map(() => 11)]),
        );
        expect(lep.fields.pt).toBeInstanceOf(Float32Array); // both Float32
        expect(lep.fields.charge).toBeInstanceOf(Float64Array); // Int32 ∪ Int8 → Float64
        expect(lep.fields.flavour).toBeInstanceOf(Int32Array);
      }),
      { numRuns: 150 },
    );
  });

  it('builds only the fields that are read', () => {
    let reads = 0;
    const fields = { pt: Float32Array.of(1) } as Record<string, Float32Array>;
    Object.defineProperty(fields, 'eta', { enumerable: true, get: () => (reads++, Float32Array.of(2)) });
    const a = { offsets: Int32Array.of(0, 1), fields };
    const c = ak.concatenate(a, a);
    expect(Object.keys(c.fields)).toEqual(['pt', 'eta']);
    expect(Array.from(c.fields.pt)).toEqual([1, 1]);
    expect(reads).toBe(0);
  });

  it('rejects different event counts, missing requested fields and a clashing tag', () => {
    const a = toCollection({ pt: { lists: [[1]], dtype: 'f32' } });
    const b = toCollection({ pt: { lists: [[1], [2]], dtype: 'f32' } });
    expect(() => ak.concatenate(a, b)).toThrowError(/second collection \(events\) has length 2, expected 1/);
    expect(() => ak.concatenate(a, a, { fields: ['pt', 'eta'] })).toThrowError(ak.FieldNotFoundError);
    expect(() => ak.concatenate(a, a, { tag: { name: 'pt', a: 1, b: 2 } })).toThrowError(/tag field 'pt'/);
  });

  it('empty chunk', () => {
    const e = toCollection({ pt: { lists: [], dtype: 'f32' } });
    const c = ak.concatenate(e, e);
    expect(Array.from(c.offsets)).toEqual([0]);
    expect(c.fields.pt.length).toBe(0);
  });
});
