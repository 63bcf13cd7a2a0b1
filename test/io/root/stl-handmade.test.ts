/**
 * Top-level std::vector branches built by hand (jsroot-shaped objects, bytes as ROOT streams them:
 * byte count | 0x40000000, class version, size, values): vector<bool>, vector<vector<float>>, baskets
 * without an entry-offset table (entries found from the byte counts), and the typed refusals of
 * member-wise streamed collections and of inconsistent byte counts. Expected values are written out.
 */
import { describe, expect, it } from 'vitest';
import { describeBranches } from '../../../src/io/root/branch-meta.ts';
import { CorruptBasketError, RootReader, UnsupportedBranchError } from '../../../src/io/root/index.ts';
import type { JsBranch, JsEmbeddedBasket, JsFile, JsTree } from '../../../src/io/root/jsroot.ts';
import { caught } from '../../helpers/caught.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { plainOfColumn } from './corpus-reference.ts';

/** One std::vector entry: byte count, version, size, then the given payload bytes. */
function vectorEntry(size: number, payload: number[], version = 9): number[] {
  const body = [version >> 8, version & 0xff, ...be32(size), ...payload];
  return [...be32((body.length | 0x40000000) >>> 0), ...body];
}
function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
function f32(v: number): number[] {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return [dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3)];
}

function vectorBranch(name: string, className: string, entries: number[][], withOffsets: boolean): JsBranch {
  const data = new Uint8Array(entries.flat());
  const offs: number[] = [];
  let p = 40;
  for (const e of entries) {
    offs.push(p);
    p += e.length;
  }
  const kept: JsEmbeddedBasket = {
    fKeylen: 40,
    fNevBuf: entries.length,
    fLast: 40 + data.length,
    ...(withOffsets ? { fEntryOffset: offs } : {}),
    fBufferRef: { arr: new DataView(data.buffer) },
  };
  return {
    _typename: 'TBranchElement',
    fName: name,
    fTitle: name,
    fEntries: entries.length,
    fEntryOffsetLen: 40,
    fWriteBasket: 0,
    fLeaves: {
      arr: [
        {
          _typename: 'TLeafElement',
          fName: name,
          fTitle: name,
          fLen: 1,
          fLenType: 0,
          fIsUnsigned: false,
          fLeafCount: null,
        },
      ],
    },
    fBranches: { arr: [] },
    fBaskets: { arr: [kept] },
    fBasketBytes: [0],
    fBasketEntry: [0, entries.length],
    fBasketSeek: [0],
    fClassName: className,
    fID: -1,
    fType: 0,
    fStreamerType: -1,
  };
}

function readerOf(...branches: JsBranch[]): RootReader {
  const tree: JsTree = { _typename: 'TTree', fName: 't', fEntries: 3, fBranches: { arr: branches } };
  return new RootReader(
    { name: 'mem', size: 0, bytesRead: 0, read: async () => new Uint8Array(0), close: async () => {} },
    { fKeys: [], readObject: async () => null, findStreamerInfo: () => null } as unknown as JsFile,
    't',
    3,
    describeBranches(tree),
    'basket',
  );
}

describe('std::vector branches, hand-built', () => {
  const bools = [vectorEntry(3, [1, 0, 1]), vectorEntry(0, []), vectorEntry(1, [1])];
  const vv = [
    vectorEntry(2, [...be32(2), ...f32(1.5), ...f32(-2), ...be32(0)]),
    vectorEntry(0, []),
    vectorEntry(1, [...be32(1), ...f32(0.25)]),
  ];

  for (const withOffsets of [true, false]) {
    it(`vector<bool> and vector<vector<float> > ${withOffsets ? 'with' : 'without'} an entry-offset table`, async () => {
      const reader = readerOf(
        vectorBranch('flags', 'vector<bool>', bools, withOffsets),
        vectorBranch('vv', 'std::vector<std::vector<float> >', vv, withOffsets),
      );
      expect(reader.branches()).toEqual([
        { name: 'flags', kind: 'jagged', dtype: 'bool' },
        { name: 'vv', kind: 'jagged2', dtype: 'float32' },
      ]);
      const got = await reader.read(['flags', 'vv'], 0, 3);
      expect(columnEvents(got.flags)).toEqual([[1, 0, 1], [], [1]]);
      expect(plainOfColumn(got.vv)).toEqual([[[1.5, -2], []], [], [[0.25]]]);
      expect(plainOfColumn((await reader.read(['vv'], 1, 3)).vv)).toEqual([[], [[0.25]]]);
    });
  }

  it('member-wise streamed collections are refused with UnsupportedBranchError', async () => {
    const reader = readerOf(
      vectorBranch('mw', 'vector<int>', [vectorEntry(0, [], 9 | 0x4000), vectorEntry(0, []), vectorEntry(0, [])], true),
    );
    const e = await caught(reader.read(['mw'], 0, 3));
    expect(e).toBeInstanceOf(UnsupportedBranchError);
    expect(e.message).toMatch(/member-wise/);
  });

  it('a byte count that disagrees with the size is an error, never shifted values', async () => {
    const bad = vectorEntry(2, [0, 0, 0, 1, 0, 0, 0, 2]);
    bad[9] = 3; // size 3, but only 2 ints follow
    const reader = readerOf(vectorBranch('v', 'vector<int>', [bad, vectorEntry(0, []), vectorEntry(0, [])], true));
    expect(await caught(reader.read(['v'], 0, 3))).toBeInstanceOf(CorruptBasketError);
  });

  it('maps, sets and vectors of strings or objects stay refused, naming the type', async () => {
    const reader = readerOf(
      vectorBranch('m', 'map<int,short>', [], false),
      vectorBranch('o', 'vector<MyHit>', [], false),
    );
    expect(reader.branches()).toEqual([]);
    expect((await caught(reader.read(['m'], 0, 0))).message).toMatch(/map<int,short>/);
    expect((await caught(reader.read(['o'], 0, 0))).message).toMatch(/vector<MyHit>/);
  });
});
