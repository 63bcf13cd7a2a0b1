import {
  Bool,
  Field,
  Float32,
  Int32,
  Int64,
  List,
  RecordBatch,
  Schema,
  Struct,
  type Vector,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  Table,
  vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import type { Collection, Jagged } from '../../src/columnar/types.ts';
import {
  type Dtype,
  expectSameLists,
  listsArb,
  listsLike,
  toCollection,
  toJagged,
  toLists,
  valueArb,
} from './naive.ts';

/** Same memory: the same object, or (Arrow re-wraps Uint8Array) a view of the same bytes. */
function expectSameMemory(a: ArrayBufferView, b: ArrayBufferView): void {
  if (b instanceof Uint8Array) {
    expect(a.buffer).toBe(b.buffer);
    expect([a.byteOffset, a.byteLength]).toEqual([b.byteOffset, b.byteLength]);
  } else expect(a).toBe(b);
}

/** Lists as Arrow itself reads them back (its own accessors, not our conversion). */
function arrowLists(v: Vector): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < v.length; i++) out.push(Array.from(v.get(i) as Iterable<number>));
  return out;
}

describe('Arrow conversion is zero-copy', () => {
  it('jagged ↔ List<T> shares the very same offsets and content arrays', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom<Dtype>('f64', 'f32', 'i32', 'u8', 'i8', 'u16')
          .chain((d) => fc.tuple(fc.constant(d), listsArb(valueArb(d, { nan: true })))),
        ([dtype, lists]) => {
          const j = toJagged(lists, dtype);
          const v = ak.jaggedToArrow(j);
          expect(v.data[0].valueOffsets).toBe(j.offsets);
          expectSameMemory(v.data[0].children[0].values, j.content);
          expectSameLists(
            arrowLists(v),
            lists.map((l) => Array.from(j.content.constructor === Float32Array ? l.map(Math.fround) : l)),
          );
          const back = ak.fromArrow(v) as Jagged;
          expect(back.offsets).toBe(j.offsets);
          expectSameMemory(back.content, j.content);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('collection ↔ List<Struct> shares every field array', () => {
    fc.assert(
      fc.property(
        listsArb(valueArb('f32')).chain((pt) => fc.tuple(fc.constant(pt), listsLike(pt, fc.constantFrom(-1, 1)))),
        ([pt, q]) => {
          const c = toCollection({ pt: { lists: pt, dtype: 'f32' }, charge: { lists: q, dtype: 'i32' } });
          const v = ak.collectionToArrow(c);
          expect(String(v.type)).toBe('List<Struct<{pt:Float32, charge:Int32}>>');
          expect(v.data[0].valueOffsets).toBe(c.offsets);
          expect(v.data[0].children[0].children[0].values).toBe(c.fields.pt);
          expect(v.data[0].children[0].children[1].values).toBe(c.fields.charge);
          for (let i = 0; i < pt.length; i++) {
            const rows = v.get(i)!.toArray() as { pt: number; charge: number }[];
            expect(rows.map((r) => r.pt)).toEqual(pt[i].map(Math.fround));
            expect(rows.map((r) => r.charge)).toEqual(q[i]);
          }
          const back = ak.fromArrow(v) as Collection;
          expect(back.offsets).toBe(c.offsets);
          expect(back.fields.pt).toBe(c.fields.pt);
          expect(back.fields.charge).toBe(c.fields.charge);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('flat ↔ primitive vector, and the generic toArrow', () => {
    const met = Float32Array.of(1, 2, 3);
    const v = ak.toArrow(met);
    expect(v.data[0].values).toBe(met);
    expect(ak.fromArrow(v)).toBe(met);
    const j = toJagged([[1], []], 'f64');
    expect(ak.toArrow(j).data[0].valueOffsets).toBe(j.offsets);
  });

  it('survives an IPC round trip (views into the IPC buffer)', () => {
    const c = toCollection({
      pt: { lists: [[1, 2], [], [3]], dtype: 'f32' },
      q: { lists: [[1, -1], [], [1]], dtype: 'i8' },
    });
    const table = new Table({ Muon: ak.collectionToArrow(c), MET: ak.flatToArrow(Float64Array.of(5, 6, 7)) });
    const read = tableFromIPC(tableToIPC(table, 'file'));
    const chunk = ak.fromArrowBatch(read.batches[0]);
    const mu = chunk.Muon as Collection;
    expect(Array.from(mu.offsets)).toEqual([0, 2, 2, 3]);
    expect(Array.from(mu.fields.pt)).toEqual([1, 2, 3]);
    // Views into the IPC bytes, not copies.
    expect(mu.fields.pt.buffer).toBe(mu.fields.q.buffer);
    expect(mu.fields.q).toBeInstanceOf(Int8Array);
    expect(Array.from(chunk.MET as Float64Array)).toEqual([5, 6, 7]);
  });

  it('reads sliced vectors (offsets relative to the slice, content untouched)', () => {
    const j = toJagged([[1], [2, 3], [], [4, 5, 6]], 'f32');
    const sliced = ak.jaggedToArrow(j).slice(1, 3);
    const back = ak.fromArrow(sliced) as Jagged;
    expect(toLists(back)).toEqual([[2, 3], []]);
    expect(back.content).toBe(j.content);
    const flat = ak.fromArrow(makeVector(Float32Array.of(1, 2, 3, 4)).slice(2)) as Float32Array;
    expect(Array.from(flat)).toEqual([3, 4]);
  });
});

describe('Arrow conversion: copies and refusals', () => {
  it('unpacks Bool and converts Int64 (copies, documented)', () => {
    const b = vectorFromArray([true, false, true, true, false, false, false, false, true], new Bool());
    expect(Array.from(ak.fromArrow(b) as Uint8Array)).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1]);
    expect(Array.from(ak.fromArrow(b.slice(3)) as Uint8Array)).toEqual([1, 0, 0, 0, 0, 1]);
    const i64 = makeVector(BigInt64Array.of(1n, -2n, 2n ** 40n));
    expect(i64.type).toBeInstanceOf(Int64);
    expect(Array.from(ak.fromArrow(i64) as Float64Array)).toEqual([1, -2, 2 ** 40]);
  });

  it('rejects nulls, several chunks, bare structs and strings, saying what to do', () => {
    const withNull = vectorFromArray([1, null, 3], new Float32());
    expect(() => ak.fromArrow(withNull)).toThrowError(ak.ArrowConversionError);
    expect(() => ak.fromArrow(withNull)).toThrowError(/1 nulls/);
    const child = makeData({ type: new Int32(), length: 2, nullCount: 0, data: Int32Array.of(1, 2) });
    const nullList = makeData({
      type: new List(new Field('item', new Int32(), false)),
      length: 2,
      nullCount: 1,
      nullBitmap: Uint8Array.of(0b01),
      valueOffsets: Int32Array.of(0, 2, 2),
      child,
    });
    expect(() => ak.fromArrow(nullList)).toThrowError(/nulls/);
    const two = makeVector(Float32Array.of(1)).concat(makeVector(Float32Array.of(2)));
    expect(() => ak.fromArrow(two)).toThrowError(/2 chunks/);
    const struct = makeData({
      type: new Struct([new Field('a', new Int32())]),
      length: 2,
      nullCount: 0,
      children: [child],
    });
    expect(() => ak.fromArrow(struct)).toThrowError(/Struct without a List/);
    expect(() => ak.fromArrow(vectorFromArray(['a', 'b']))).toThrowError(/has no Ristretto column equivalent/);
  });

  it('fromArrowBatch names the failing column', () => {
    const batch = new RecordBatch(
      new Schema([new Field('s', vectorFromArray(['x']).type)]),
      makeData({
        type: new Struct([new Field('s', vectorFromArray(['x']).type)]),
        length: 1,
        nullCount: 0,
        children: [vectorFromArray(['x']).data[0]],
      }),
    );
    expect(() => ak.fromArrowBatch(batch)).toThrowError(/fromArrow: s has Arrow type Dictionary/);
  });
});
