/**
 * Damaged bytes in the variable-size layouts (std::vector, vector<vector>, strings, leaf-list records):
 * every read either gives a column of the right number of entries or fails with a typed RootError —
 * never a RangeError/TypeError from running past a buffer. Uses hand-built, uncompressed kept baskets,
 * where nothing but the layout checks can catch the damage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeBranches } from '../../../src/io/root/branch-meta.ts';
import { RootError, RootReader } from '../../../src/io/root/index.ts';
import type { JsBranch, JsFile, JsLeaf, JsTree } from '../../../src/io/root/jsroot.ts';

const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const vec = (payload: number[]) => {
  const body = [0, 9, ...be32(payload.length / 4), ...payload];
  return [...be32((body.length | 0x40000000) >>> 0), ...body];
};
const vec2 = (inner: number[][]) => {
  const payload = inner.flatMap((v) => [...be32(v.length), ...v.flatMap(be32)]);
  const body = [0, 9, ...be32(inner.length), ...payload];
  return [...be32((body.length | 0x40000000) >>> 0), ...body];
};
const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

function branch(name: string, className: string | null, entries: number[][], leaves?: JsLeaf[]): JsBranch {
  const data = new Uint8Array(entries.flat());
  const offs: number[] = [];
  let p = 30;
  for (const e of entries) {
    offs.push(p);
    p += e.length;
  }
  return {
    _typename: className ? 'TBranchElement' : 'TBranch',
    fName: name,
    fTitle: name,
    fEntries: entries.length,
    fEntryOffsetLen: leaves && leaves.length > 1 ? 0 : 30,
    fWriteBasket: 0,
    fLeaves: {
      arr: leaves ?? [
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
    fBaskets: {
      arr: [
        {
          fKeylen: 30,
          fNevBuf: entries.length,
          fLast: 30 + data.length,
          fEntryOffset: offs,
          fBufferRef: { arr: new DataView(data.buffer) },
        },
      ],
    },
    fBasketBytes: [0],
    fBasketEntry: [0, entries.length],
    fBasketSeek: [0],
    ...(className ? { fClassName: className, fID: -1, fType: 0, fStreamerType: -1 } : {}),
  };
}

const leaf = (t: string, n: string, size: number): JsLeaf => ({
  _typename: t,
  fName: n,
  fTitle: n,
  fLen: 1,
  fLenType: size,
  fIsUnsigned: false,
  fLeafCount: null,
});

function tree(): JsTree {
  return {
    _typename: 'TTree',
    fName: 't',
    fEntries: 4,
    fBranches: {
      arr: [
        branch('v', 'vector<int>', [vec(be32(1)), vec([]), vec([...be32(2), ...be32(3)]), vec(be32(4))]),
        branch('vv', 'vector<vector<int> >', [vec2([[1], []]), vec2([]), vec2([[2, 3]]), vec2([[4], [5], [6]])]),
        branch('s', 'string', [str('a'), str(''), str('bcd'), str('e')]),
        branch(
          'll',
          null,
          [
            [0, 0, 0, 1, 2],
            [0, 0, 0, 3, 4],
            [0, 0, 0, 5, 6],
            [0, 0, 0, 7, 8],
          ],
          [leaf('TLeafI', 'x', 4), leaf('TLeafB', 'y', 1)],
        ),
      ],
    },
  };
}

describe('damaged bytes in variable-size layouts', () => {
  const names = ['v', 'vv', 's', 'll_x', 'll_y'];
  it('undamaged: the values written', async () => {
    const r = new RootReader(
      { name: 'm', size: 0, bytesRead: 0, read: async () => new Uint8Array(0), close: async () => {} },
      {} as JsFile,
      't',
      4,
      describeBranches(tree()),
      'basket',
    );
    expect(r.branches().map((b) => b.name)).toEqual(names);
    const got = await r.read(names, 0, 4);
    expect(Array.from(got.ll_x as Int32Array)).toEqual([1, 3, 5, 7]);
  });

  it('any flipped byte or changed offset: right-length column or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(4),
        fc.nat(200),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (which, at, xor, hitOffsets) => {
          const t = tree();
          const b = t.fBranches.arr[Math.min(which, 3)]!;
          const kept = b.fBaskets!.arr[0]! as unknown as { fBufferRef: { arr: DataView }; fEntryOffset: number[] };
          if (hitOffsets) kept.fEntryOffset[at % 4] = kept.fEntryOffset[at % 4] ^ xor;
          else {
            const dv = kept.fBufferRef.arr;
            const i = at % dv.byteLength;
            dv.setUint8(i, dv.getUint8(i) ^ xor);
          }
          const r = new RootReader(
            { name: 'm', size: 0, bytesRead: 0, read: async () => new Uint8Array(0), close: async () => {} },
            {} as JsFile,
            't',
            4,
            describeBranches(t),
            'basket',
          );
          for (const n of names) {
            try {
              const c = (await r.read([n], 0, 4))[n];
              expect('offsets' in c ? c.offsets.length - 1 : c.length).toBe(4);
            } catch (e) {
              if (!(e instanceof RootError)) throw e;
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
