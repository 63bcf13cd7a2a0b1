import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import {
  expectSameLists,
  expectSameValues,
  flatArb,
  listsArb,
  listsLike,
  toCollection,
  toFlat,
  toJagged,
  toLists,
  valueArb,
} from './naive.ts';

const caseArb = listsArb(valueArb('f32', { nan: true })).chain((l) =>
  fc.record({
    lists: fc.constant(l),
    eta: listsLike(l, valueArb('f64')),
    idx: flatArb(l.length, fc.integer({ min: -2, max: 6 })),
    perEvent: flatArb(l.length, valueArb('i32')),
    base: fc.constantFrom(0, 3),
  }),
);

describe('structure kernels', () => {
  it('counts, flatten, localIndex, broadcast and field agree with naive loops', () => {
    fc.assert(
      fc.property(caseArb, ({ lists, perEvent, base }) => {
        const j = toJagged(lists, 'f32', base);
        const L = toLists(j);
        expectSameValues(
          ak.counts(j),
          L.map((l) => l.length),
        );
        expectSameValues(ak.flatten(j), L.flat());
        expectSameLists(
          toLists(ak.localIndex(j)),
          L.map((l) => l.map((_, k) => k)),
        );
        const b = ak.broadcast(toFlat(perEvent, 'i32'), j);
        expect(b.content).toBeInstanceOf(Int32Array);
        expect(b.offsets).toBe(j.offsets);
        expectSameLists(
          toLists(b),
          L.map((l, i) => l.map(() => perEvent[i])),
        );
        const c = { offsets: j.offsets, fields: { pt: j.content } };
        expect(ak.field(c, 'pt').content).toBe(j.content);
      }),
      { numRuns: 150 },
    );
  });

  it('flatten is a view of the content (same buffer, no copy)', () => {
    const j = toJagged([[1, 2], [], [3]], 'f32', 2);
    const flat = ak.flatten(j);
    expect(flat.buffer).toBe(j.content.buffer);
    expectSameValues(flat, [1, 2, 3]);
  });

  it('field names the closest fields when one is missing', () => {
    const c = toCollection({ pt: { lists: [[1]], dtype: 'f32' }, eta: { lists: [[1]], dtype: 'f32' } });
    expect(() => ak.field(c, 'Pt')).toThrowError(ak.FieldNotFoundError);
    expect(() => ak.field(c, 'Pt')).toThrowError(/closest: pt\)/);
    expect(() => ak.field(c, 'Pt')).toThrowError(/Available fields: pt, eta/);
  });

  it('broadcast checks the number of events', () => {
    expect(() => ak.broadcast(Float32Array.of(1), toJagged([[1], [2]], 'f32'))).toThrowError(/length 1, expected 2/);
  });
});

describe('take, firsts, takeFields', () => {
  it('pick the element at a local index per event; out-of-range and -1 are missing', () => {
    fc.assert(
      fc.property(caseArb, ({ lists, eta, idx, base }) => {
        const j = toJagged(lists, 'f32', base);
        const L = toLists(j);
        const r = ak.take(j, toFlat(idx, 'i32'));
        const ok = L.map((l, i) => idx[i] >= 0 && idx[i] < l.length);
        expectSameValues(
          r.valid,
          ok.map((v) => (v ? 1 : 0)),
        );
        expectSameValues(
          r.values,
          L.map((l, i) => (ok[i] ? l[idx[i]] : NaN)),
        );

        const f = ak.firsts(j);
        expectSameValues(
          f.values,
          L.map((l) => (l.length > 0 ? l[0] : NaN)),
        );
        expectSameValues(
          f.valid,
          L.map((l) => (l.length > 0 ? 1 : 0)),
        );

        const second = ak.take(j, 1);
        expectSameValues(
          second.values,
          L.map((l) => (l.length > 1 ? l[1] : NaN)),
        );

        const c = toCollection({ pt: { lists, dtype: 'f32' }, eta: { lists: eta, dtype: 'f64' } }, base);
        const t = ak.takeFields(c, toFlat(idx, 'i32'));
        expectSameValues(t.valid, Array.from(r.valid));
        expectSameValues(t.fields.pt, Array.from(r.values));
        expectSameValues(
          t.fields.eta,
          eta.map((l, i) => (ok[i] ? l[idx[i]] : NaN)),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('takes what argmax chose (the leading object), with -1 for empty events', () => {
    const pt = toJagged([[10, 30, 20], [], [5]], 'f32');
    const eta = toJagged([[0.1, 0.2, 0.3], [], [0.5]], 'f64');
    const lead = ak.take(eta, ak.argmax(pt));
    expectSameValues(lead.values, [0.2, NaN, 0.5]);
    expectSameValues(lead.valid, [1, 0, 1]);
  });

  it('rejects index arrays of another length and non-integer indices', () => {
    const j = toJagged([[1], [2]], 'f32');
    expect(() => ak.take(j, Int32Array.of(0))).toThrowError(ak.LengthMismatchError);
    expect(() => ak.take(j, 0.5)).toThrowError(/not an integer/);
  });

  it('empty chunk', () => {
    const r = ak.firsts(toJagged([], 'f32'));
    expect(r.values.length).toBe(0);
    expect(r.valid.length).toBe(0);
  });
});
