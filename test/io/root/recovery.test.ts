/**
 * Trees as ROOT leaves them after a crash or with unusual metadata, built by hand (jsroot-shaped
 * objects + hand-written basket bytes): baskets kept inside the branch object (several per branch,
 * mixed with baskets on disk, some with 0 data bytes), repeated branch names, and leaves whose class
 * streamer info the file lacks. Expected values are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { describeBranches } from '../../../src/io/root/branch-meta.ts';
import { MissingStreamerError, RootReader, UnsupportedBranchError } from '../../../src/io/root/index.ts';
import type { JsBranch, JsEmbeddedBasket, JsFile, JsLeaf, JsTree } from '../../../src/io/root/jsroot.ts';
import type { ByteSource } from '../../../src/io/source.ts';
import { caught } from '../../helpers/caught.ts';
import { columnEvents } from '../../helpers/columns.ts';

const SIZES: Record<string, number> = { TLeafI: 4, TLeafF: 4 };
const leaf = (typename: string, name: string, extra: Partial<JsLeaf> = {}): JsLeaf => ({
  _typename: typename,
  fName: name,
  fTitle: name,
  fLen: 1,
  fLenType: SIZES[typename] ?? 0,
  fIsUnsigned: false,
  fLeafCount: null,
  ...extra,
});

function be(values: number[], type: 'i4' | 'f4'): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => (type === 'i4' ? dv.setInt32(4 * i, v) : dv.setFloat32(4 * i, v)));
  return out;
}

/** An embedded basket as jsroot presents it: data after the key, offsets counted from the key start. */
function embedded(nev: number, data: Uint8Array, entryBytes?: number[]): JsEmbeddedBasket {
  const keylen = 60;
  const offs = entryBytes
    ? entryBytes.reduce<number[]>((a, b) => [...a, a[a.length - 1] + b], [keylen]).slice(0, nev)
    : undefined;
  return {
    fKeylen: keylen,
    fNevBuf: nev,
    fLast: keylen + data.length,
    ...(offs ? { fEntryOffset: offs } : {}),
    ...(data.length ? { fBufferRef: { arr: new DataView(data.buffer, data.byteOffset, data.byteLength) } } : {}),
  };
}

/** A complete uncompressed TBasket key as ROOT writes it, with an entry-offset table when given. */
function diskBasket(branch: string, nev: number, data: Uint8Array, entryBytes?: number[]): Uint8Array {
  const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const strings = [...str('TBasket'), ...str(branch), ...str('t')];
  const keylen = 26 + strings.length + 2 + 4 + 4 + 4 + 4 + 1;
  const table = entryBytes
    ? [nev + 1, ...entryBytes.reduce<number[]>((a, b) => [...a, a[a.length - 1] + b], [keylen]).slice(0, nev), 0]
    : [];
  const objlen = data.length + table.length * 4;
  const out = new Uint8Array(keylen + objlen);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, out.length);
  dv.setInt16(4, 4);
  dv.setInt32(6, objlen);
  dv.setInt16(14, keylen);
  out.set(strings, 26);
  let p = 26 + strings.length;
  dv.setInt16(p, 3);
  dv.setInt32(p + 2, 32000);
  dv.setInt32(p + 6, entryBytes ? 8 : 4);
  dv.setInt32(p + 10, nev);
  dv.setInt32(p + 14, keylen + data.length);
  out[p + 18] = 0;
  p = keylen;
  out.set(data, p);
  table.forEach((v, i) => dv.setInt32(keylen + data.length + 4 * i, v));
  return out;
}

function memorySource(bytes: Uint8Array): ByteSource {
  return {
    name: 'memory.root',
    size: bytes.length,
    bytesRead: 0,
    read: async (a, b) => bytes.slice(a, b),
    close: async () => {},
  };
}

const fakeFile = { fKeys: [], readObject: async () => null, findStreamerInfo: () => null } as unknown as JsFile;

function branch(
  name: string,
  title: string,
  leaves: JsLeaf[],
  baskets: {
    entries: number[];
    seeks?: number[];
    bytes?: number[];
    kept: (JsEmbeddedBasket | null)[];
    writeBasket: number;
    offsets?: boolean;
  },
): JsBranch {
  const n = baskets.entries[baskets.entries.length - 1];
  return {
    _typename: 'TBranch',
    fName: name,
    fTitle: title,
    fEntries: n,
    fEntryOffsetLen: baskets.offsets ? 10 : 0,
    fWriteBasket: baskets.writeBasket,
    fLeaves: { arr: leaves },
    fBranches: { arr: [] },
    fBaskets: { arr: baskets.kept },
    fBasketBytes: baskets.bytes ?? baskets.entries.map(() => 0),
    fBasketEntry: baskets.entries,
    fBasketSeek: baskets.seeks ?? baskets.entries.map(() => 0),
  };
}

describe('baskets kept in the branch object', () => {
  // Five entries: n = [2, 0, 1, 3, 1]; x[n] = [[1,2], [], [3], [4,5,6], [7]]; z[m] with m = 0 everywhere.
  const nLeaf = leaf('TLeafI', 'n');
  const mLeaf = leaf('TLeafI', 'm');
  const xDisk = diskBasket('x', 2, be([1, 2], 'f4'), [8, 0]);
  const seekX = 100;
  const file = new Uint8Array(seekX + xDisk.length);
  file.set(xDisk, seekX);
  const tree: JsTree = {
    _typename: 'TTree',
    fName: 't',
    fEntries: 5,
    fBranches: {
      arr: [
        // n: three embedded baskets, two of them in slots below fWriteBasket (recovered), one in the last slot.
        branch('n', 'n/I', [nLeaf], {
          entries: [0, 2, 4, 5],
          kept: [embedded(2, be([2, 0], 'i4')), embedded(2, be([1, 3], 'i4')), embedded(1, be([1], 'i4'))],
          writeBasket: 2,
        }),
        // x: one basket on disk, then two embedded ones.
        branch('x', 'x[n]/F', [leaf('TLeafF', 'x', { fLeafCount: nLeaf })], {
          entries: [0, 2, 4, 5],
          seeks: [seekX, 0, 0, 0],
          bytes: [xDisk.length, 0, 0, 0],
          kept: [null, embedded(2, be([3, 4, 5, 6], 'f4'), [4, 12]), embedded(1, be([7], 'f4'), [4])],
          writeBasket: 2,
          offsets: true,
        }),
        // y: kept baskets in the slot being filled and one beyond it (entries follow on from fNevBuf).
        {
          ...branch('y', 'y/I', [leaf('TLeafI', 'y')], {
            entries: [0, 2],
            kept: [embedded(2, be([10, 11], 'i4')), embedded(2, be([12, 13], 'i4')), embedded(1, be([14], 'i4'))],
            writeBasket: 1,
          }),
          fEntries: 5,
        },
        branch('m', 'm/I', [mLeaf], {
          entries: [0, 5],
          kept: [embedded(5, be([0, 0, 0, 0, 0], 'i4'))],
          writeBasket: 0,
        }),
        // z: a jagged branch whose counter is 0 everywhere: its embedded basket has no data bytes at all.
        branch('z', 'z[m]/F', [leaf('TLeafF', 'z', { fLeafCount: mLeaf })], {
          entries: [0, 5],
          kept: [embedded(5, new Uint8Array(0))],
          writeBasket: 0,
          offsets: true,
        }),
      ],
    },
  };
  const reader = new RootReader(memorySource(file), fakeFile, 't', 5, describeBranches(tree), 'basket');

  it('reads every embedded basket, in entry order, together with the ones on disk', async () => {
    const got = await reader.read(['n', 'x'], 0, 5);
    expect(Array.from(got.n as Int32Array)).toEqual([2, 0, 1, 3, 1]);
    expect(columnEvents(got.x)).toEqual([[1, 2], [], [3], [4, 5, 6], [7]]);
    const mid = await reader.read(['x'], 1, 4);
    expect(columnEvents(mid.x)).toEqual([[], [3], [4, 5, 6]]);
    expect(reader.boundaries()).toEqual([0, 2, 4, 5]);
    expect(Array.from((await reader.read(['y'], 0, 5)).y as Int32Array)).toEqual([10, 11, 12, 13, 14]);
    expect(Array.from((await reader.read(['y'], 3, 5)).y as Int32Array)).toEqual([13, 14]);
  });

  it('an embedded basket with 0 data bytes reads as empty lists, not as damage', async () => {
    const got = await reader.read(['z', 'm'], 0, 5);
    expect(columnEvents(got.z)).toEqual([[], [], [], [], []]);
    const counted = new RootReader(memorySource(file), fakeFile, 't', 5, describeBranches(tree), 'count-branch');
    expect(columnEvents((await counted.read(['z', 'x'], 0, 5)).z)).toEqual([[], [], [], [], []]);
  });
});

describe('repeated branch names', () => {
  const tree: JsTree = {
    _typename: 'TTree',
    fName: 't',
    fEntries: 2,
    fBranches: {
      arr: [
        branch('a', 'a/I', [leaf('TLeafI', 'a')], {
          entries: [0, 2],
          kept: [embedded(2, be([1, 2], 'i4'))],
          writeBasket: 0,
        }),
        branch('a', 'a/I', [leaf('TLeafI', 'a')], {
          entries: [0, 2],
          kept: [embedded(2, be([7, 8], 'i4'))],
          writeBasket: 0,
        }),
        branch('b', 'b/I', [leaf('TLeafI', 'b')], {
          entries: [0, 2],
          kept: [embedded(2, be([5, 6], 'i4'))],
          writeBasket: 0,
        }),
      ],
    },
  };
  const reader = new RootReader(memorySource(new Uint8Array(10)), fakeFile, 't', 2, describeBranches(tree), 'basket');

  it('the first branch of a name wins, like TTree::GetBranch', async () => {
    expect(Array.from((await reader.read(['a'], 0, 2)).a as Int32Array)).toEqual([1, 2]);
  });
  it('the ambiguity is visible in branches(), describe() and duplicateNames()', () => {
    expect(reader.branches().map((b) => b.name)).toEqual(['a', 'b']);
    expect(reader.branches()[0]).toMatchObject({ name: 'a', duplicate: true });
    expect(reader.branches()[1].duplicate).toBeUndefined();
    expect(reader.describe().map((d) => [d.name, d.duplicate ?? false, d.shadowed ?? false])).toEqual([
      ['a', true, false],
      ['a', true, true],
      ['b', false, false],
    ]);
    expect(reader.duplicateNames()).toEqual(['a']);
  });
});

describe('leaves without streamer information', () => {
  // jsroot skips an object whose class streamer is missing: the leaf keeps only its name and class.
  const bare = { _typename: 'TLeafF', fName: 'x', fTitle: 'x' } as unknown as JsLeaf;
  const tree: JsTree = {
    _typename: 'TTree',
    fName: 't',
    fEntries: 2,
    fBranches: {
      arr: [branch('x', 'x[n]/F', [bare], { entries: [0, 2], kept: [embedded(2, be([1, 2], 'f4'))], writeBasket: 0 })],
    },
  };
  it('are refused with MissingStreamerError (an UnsupportedBranchError), not read as scalars', async () => {
    const reader = new RootReader(memorySource(new Uint8Array(10)), fakeFile, 't', 2, describeBranches(tree), 'basket');
    expect(reader.branches()).toEqual([]);
    expect(reader.describe()[0]).toMatchObject({ name: 'x', unsupportedKind: 'streamer' });
    const e = await caught(reader.read(['x'], 0, 2));
    expect(e).toBeInstanceOf(MissingStreamerError);
    expect(e).toBeInstanceOf(UnsupportedBranchError);
    expect(e.message).toMatch(/streamer information of leaf class TLeafF/);
  });
});
