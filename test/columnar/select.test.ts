import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import type { Collection, Jagged } from '../../src/columnar/types.ts';
import {
  type Lists,
  expectSameLists,
  expectSameValues,
  flatArb,
  listsArb,
  listsLike,
  maskLike,
  toCollection,
  toFlat,
  toJagged,
  toLists,
  valueArb,
} from './naive.ts';

const eventCase = listsArb(valueArb('f32', { nan: true })).chain((pt) =>
  fc.record({
    pt: fc.constant(pt),
    charge: listsLike(pt, fc.constantFrom(-1, 1)),
    met: flatArb(pt.length, valueArb('f64', { nan: true })),
    mask: flatArb(pt.length, fc.integer({ min: 0, max: 2 })),
    objMask: maskLike(pt),
    base: fc.constantFrom(0, 4),
  }),
);

function keepEvents<T>(xs: T[], mask: number[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < xs.length; i++) if (mask[i] !== 0) out.push(xs[i]);
  return out;
}

function keepObjects(lists: Lists, mask: Lists): Lists {
  const out: Lists = [];
  for (let i = 0; i < lists.length; i++) {
    const l: number[] = [];
    for (let j = 0; j < lists[i].length; j++) if (mask[i][j] !== 0) l.push(lists[i][j]);
    out.push(l);
  }
  return out;
}

describe('filterEvents', () => {
  it('keeps the masked events of flat, jagged, collection, combinations and whole chunks', () => {
    fc.assert(
      fc.property(eventCase, ({ pt, charge, met, mask, base }) => {
        const m = toFlat(mask, 'u8');
        const jpt = toJagged(pt, 'f32', base);
        const PT = toLists(jpt);
        const flat = toFlat(met, 'f64');
        const coll = toCollection({ pt: { lists: pt, dtype: 'f32' }, charge: { lists: charge, dtype: 'i8' } }, base);

        const f = ak.filterEvents(flat, m);
        expect(f).toBeInstanceOf(Float64Array);
        expectSameValues(f, keepEvents(met, mask));

        const fj = ak.filterEvents(jpt, m);
        expect(fj.content).toBeInstanceOf(Float32Array);
        expectSameLists(toLists(fj), keepEvents(PT, mask));

        const fc_ = ak.filterEvents(coll, m);
        expectSameLists(toLists({ offsets: fc_.offsets, content: fc_.fields.pt }), keepEvents(PT, mask));
        expect(fc_.fields.charge).toBeInstanceOf(Int8Array);
        expectSameLists(toLists({ offsets: fc_.offsets, content: fc_.fields.charge }), keepEvents(charge, mask));

        const chunk = ak.filterEvents({ MET: flat, pt: jpt, Muon: coll }, m);
        expect(Object.keys(chunk)).toEqual(['MET', 'pt', 'Muon']);
        expectSameValues(chunk.MET, keepEvents(met, mask));
        expectSameLists(toLists(chunk.pt), keepEvents(PT, mask));
        expectSameLists(toLists({ offsets: chunk.Muon.offsets, content: chunk.Muon.fields.pt }), keepEvents(PT, mask));

        // Combinations keep global indices into the unfiltered content.
        const pairs = ak.combinations(coll, 2);
        const fp = ak.filterEvents(pairs, m);
        const naivePairs: Lists = [];
        for (let e = 0; e < pt.length; e++) {
          if (mask[e] === 0) continue;
          const l: number[] = [];
          for (let a = 0; a < pt[e].length; a++) for (let b = a + 1; b < pt[e].length; b++) l.push(coll.offsets[e] + a);
          naivePairs.push(l);
        }
        expectSameLists(toLists({ offsets: fp.offsets, content: fp.i0 }), naivePairs);
      }),
      { numRuns: 150 },
    );
  });

  it('does not read a chunk column or a collection field until it is accessed', () => {
    const reads: string[] = [];
    const pt = toJagged([[1, 2], [3]], 'f32');
    const fields = {} as Record<string, Float32Array>;
    Object.defineProperty(fields, 'pt', { enumerable: true, get: () => (reads.push('Muon.pt'), pt.content) });
    Object.defineProperty(fields, 'eta', { enumerable: true, get: () => (reads.push('Muon.eta'), pt.content) });
    const chunk = {} as { Muon: Collection; MET: Float32Array };
    Object.defineProperty(chunk, 'Muon', {
      enumerable: true,
      get: () => (reads.push('Muon'), { offsets: pt.offsets, fields }),
    });
    Object.defineProperty(chunk, 'MET', { enumerable: true, get: () => (reads.push('MET'), Float32Array.of(5, 6)) });

    const sel = ak.filterEvents(chunk, Uint8Array.of(0, 1));
    expect(reads).toEqual([]);
    const muons = sel.Muon;
    expect(reads).toEqual(['Muon']);
    expectSameValues(muons.fields.pt, [3]);
    expect(reads).toEqual(['Muon', 'Muon.pt']);
    expectSameValues(muons.fields.pt, [3]); // memoized
    expect(reads).toEqual(['Muon', 'Muon.pt']);
  });

  it('handles 0 events, all-false and all-true masks', () => {
    const empty = toJagged([], 'f32');
    const r = ak.filterEvents(empty, new Uint8Array(0));
    expectSameValues(r.offsets, [0]);
    const j = toJagged([[1], [], [2, 3]], 'f32');
    expectSameValues(ak.filterEvents(j, Uint8Array.of(0, 0, 0)).offsets, [0]);
    expectSameLists(toLists(ak.filterEvents(j, Uint8Array.of(1, 1, 1))), [[1], [], [2, 3]]);
  });

  it('rejects masks of another length, jagged masks and non-columns', () => {
    const j = toJagged([[1], [2]], 'f32');
    expect(() => ak.filterEvents(j, Uint8Array.of(1))).toThrowError(ak.LengthMismatchError);
    expect(() => ak.filterEvents(Float32Array.of(1, 2, 3), Uint8Array.of(1))).toThrowError(/length 3, expected 1/);
    const jm = toJagged([[1], [0]], 'u8');
    expect(() => ak.filterEvents(j, jm as unknown as Uint8Array)).toThrowError(/use selectObjects/);
    const chunk = ak.filterEvents({ x: Float32Array.of(1, 2), y: Float32Array.of(1) }, Uint8Array.of(1, 0));
    expectSameValues(chunk.x, [1]);
    expect(() => chunk.y).toThrowError(/y \(events\) has length 1, expected 2/);
    const weird = ak.filterEvents({ z: 'nope' as unknown as Float32Array }, Uint8Array.of(1));
    expect(() => weird.z).toThrowError(ak.InvalidArgumentError);
  });
});

describe('selectObjects', () => {
  it('keeps the masked objects of jagged columns, collections and combinations', () => {
    fc.assert(
      fc.property(eventCase, ({ pt, charge, objMask, base }) => {
        const jpt = toJagged(pt, 'f32', base);
        const PT = toLists(jpt);
        const mask = toJagged(objMask, 'u8', base);
        const sel = ak.selectObjects(jpt, mask);
        expect(sel.content).toBeInstanceOf(Float32Array);
        expectSameLists(toLists(sel), keepObjects(PT, objMask));

        const coll = toCollection({ pt: { lists: pt, dtype: 'f32' }, charge: { lists: charge, dtype: 'i32' } }, base);
        const sc = ak.selectObjects(coll, { offsets: coll.offsets, content: mask.content });
        expectSameLists(toLists({ offsets: sc.offsets, content: sc.fields.pt }), keepObjects(PT, objMask));
        expectSameLists(toLists({ offsets: sc.offsets, content: sc.fields.charge }), keepObjects(charge, objMask));
      }),
      { numRuns: 150 },
    );
  });

  it('selects pairs by a pair mask (indices unchanged)', () => {
    const coll = toCollection({ q: { lists: [[1, -1, 1], [1], [-1, 1]], dtype: 'i32' } });
    const pairs = ak.combinations(coll, 2);
    const q0 = ak.combinationField(pairs, 0, coll.fields.q);
    const q1 = ak.combinationField(pairs, 1, coll.fields.q);
    const os = ak.selectObjects(pairs, ak.ne(q0, q1));
    expectSameLists(toLists({ offsets: os.offsets, content: os.i0 }), [[0, 1], [], [4]]);
    expectSameLists(toLists({ offsets: os.offsets, content: os.i1 }), [[1, 2], [], [5]]);
  });

  it('rejects a flat mask and a mask of another structure', () => {
    const j = toJagged([[1, 2], [3]], 'f32');
    expect(() => ak.selectObjects(j, Uint8Array.of(1, 0) as unknown as Jagged<Uint8Array>)).toThrowError(
      /must be jagged/,
    );
    expect(() => ak.selectObjects(j, toJagged([[1], [1, 0]], 'u8'))).toThrowError(ak.OffsetsMismatchError);
  });
});
