/**
 * Double32_t and Float16_t members of split objects, on hand-built branches (jsroot-shaped objects,
 * bytes written here with ROOT's storage rules): without range (float), with a [min, max, nbits] range
 * (integer × step + min), and with truncated mantissas (Float16_t default, 12 bits). Expected values
 * are worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { describeBranches, type StreamerLookup } from '../../../src/io/root/branch-meta.ts';
import { RootReader } from '../../../src/io/root/index.ts';
import type {
  JsBranch,
  JsEmbeddedBasket,
  JsFile,
  JsLeaf,
  JsStreamerElement,
  JsTree,
} from '../../../src/io/root/jsroot.ts';
import { columnEvents } from '../../helpers/columns.ts';

const bytes = (n: number, fill: (dv: DataView) => void): Uint8Array => {
  const b = new Uint8Array(n);
  fill(new DataView(b.buffer));
  return b;
};
const basket = (nev: number, data: Uint8Array, entryBytes?: number[]): JsEmbeddedBasket => ({
  fKeylen: 50,
  fNevBuf: nev,
  fLast: 50 + data.length,
  ...(entryBytes
    ? { fEntryOffset: entryBytes.reduce<number[]>((a, x) => [...a, a[a.length - 1] + x], [50]).slice(0, nev) }
    : {}),
  fBufferRef: { arr: new DataView(data.buffer) },
});

/** ROOT's Float16/Double32 truncated-mantissa writing (TBufferFile::WriteFloat16 without range). */
function float16Bytes(values: number[], nbits: number): Uint8Array {
  const out = new Uint8Array(3 * values.length);
  const dv = new DataView(out.buffer);
  const f = new DataView(new ArrayBuffer(4));
  values.forEach((v, i) => {
    f.setFloat32(0, v);
    const bits = f.getInt32(0);
    const exp = 0xff & ((bits << 1) >>> 24);
    let man = ((1 << (nbits + 1)) - 1) & (bits >> (23 - nbits - 1));
    man = (man + 1) >> 1;
    if (man & (1 << nbits)) man = (1 << nbits) - 1;
    if (v < 0) man |= 1 << (nbits + 1);
    out[3 * i] = exp;
    dv.setUint16(3 * i + 1, man);
  });
  return out;
}

const element = (name: string, type: number, extra: Partial<JsStreamerElement> = {}): JsStreamerElement => ({
  fName: name,
  fTitle: '',
  fType: type,
  fTypeName: 'Double32_t',
  fArrayLength: 0,
  fXmin: 0,
  fXmax: 0,
  fFactor: 0,
  ...extra,
});
const ELEMENTS: JsStreamerElement[] = [
  element('n', 6),
  element('d32', 9), // Double32_t d32;            float on disk
  element('d32r', 9, { fXmin: -1, fXmax: 3, fFactor: 16 / 4 }), // Double32_t d32r; //[-1, 3, 4]
  element('f16', 19), // Float16_t f16;             12-bit mantissa
  element('f16a', 39, { fArrayLength: 2 }), // Float16_t f16a[2];
  element('d32p', 49, { fXmin: -1, fXmax: 3, fFactor: 4 }), // Double32_t* d32p; //[n] [-1, 3, 4]
];
const lookup: StreamerLookup = (cls, _v, _c, id) => (cls === 'Ev' ? (ELEMENTS[id] ?? null) : null);

const leafEl = (name: string, extra: Partial<JsLeaf> = {}): JsLeaf => ({
  _typename: 'TLeafElement',
  fName: name,
  fTitle: name,
  fLen: 1,
  fLenType: 0,
  fIsUnsigned: false,
  fLeafCount: null,
  ...extra,
});
function member(id: number, leaf: JsLeaf, kept: JsEmbeddedBasket, offsets = false): JsBranch {
  const el = ELEMENTS[id];
  return {
    _typename: 'TBranchElement',
    fName: el.fName,
    fTitle: el.fName,
    fEntries: 3,
    fEntryOffsetLen: offsets ? 40 : 0,
    fWriteBasket: 0,
    fLeaves: { arr: [leaf] },
    fBranches: { arr: [] },
    fBaskets: { arr: [kept] },
    fBasketBytes: [0],
    fBasketEntry: [0, 3],
    fBasketSeek: [0],
    fClassName: 'Ev',
    fClassVersion: 1,
    fID: id,
    fType: 0,
    fStreamerType: el.fType,
  };
}

describe('Double32_t and Float16_t members', () => {
  const nLeaf = leafEl('n');
  const top: JsBranch = {
    ...member(0, leafEl('ev'), basket(3, new Uint8Array(0))),
    fName: 'ev',
    fID: -2,
    fStreamerType: -1,
    fLeaves: { arr: [] },
    fBranches: { arr: [] },
  };
  const members = [
    member(
      0,
      nLeaf,
      basket(
        3,
        bytes(12, (dv) => [2, 0, 1].forEach((v, i) => dv.setInt32(4 * i, v))),
      ),
    ),
    member(
      1,
      leafEl('d32'),
      basket(
        3,
        bytes(12, (dv) => [1.5, -2.25, 1e-3].forEach((v, i) => dv.setFloat32(4 * i, v))),
      ),
    ),
    member(
      2,
      leafEl('d32r'),
      basket(
        3,
        bytes(12, (dv) => [0, 6, 16].forEach((v, i) => dv.setUint32(4 * i, v))),
      ),
    ),
    member(3, leafEl('f16'), basket(3, float16Bytes([1.5, -1.5, 0.1], 12))),
    member(4, leafEl('f16a', { fLen: 2 }), basket(3, float16Bytes([1, 2, -3, 4, 0.5, -0.25], 12))),
    member(
      5,
      leafEl('d32p', { fLeafCount: nLeaf }),
      basket(3, new Uint8Array([1, ...[0, 0, 0, 1, 0, 0, 0, 2], 0, 1, 0, 0, 0, 4]), [9, 1, 5]),
      true,
    ),
  ];
  (top.fBranches as { arr: JsBranch[] }).arr = members;
  const tree: JsTree = { _typename: 'TTree', fName: 't', fEntries: 3, fBranches: { arr: [top] } };
  const reader = new RootReader(
    { name: 'mem', size: 0, bytesRead: 0, read: async () => new Uint8Array(0), close: async () => {} },
    { fKeys: [], readObject: async () => null, findStreamerInfo: () => null } as unknown as JsFile,
    't',
    3,
    describeBranches(tree, lookup),
    'basket',
  );

  it('are listed with their decoded types', () => {
    const byName = new Map(reader.branches().map((b) => [b.name, b]));
    expect(byName.get('d32')).toEqual({ name: 'd32', kind: 'flat', dtype: 'float32' });
    expect(byName.get('d32r')).toEqual({ name: 'd32r', kind: 'flat', dtype: 'float64' });
    expect(byName.get('f16')).toEqual({ name: 'f16', kind: 'flat', dtype: 'float32' });
    expect(byName.get('f16a')).toEqual({ name: 'f16a', kind: 'jagged', dtype: 'float32' });
    expect(byName.get('d32p')).toEqual({ name: 'd32p', kind: 'jagged', dtype: 'float64', countBranch: 'n' });
  });

  it('decode to the values ROOT wrote', async () => {
    const got = await reader.read(['d32', 'd32r', 'f16', 'f16a', 'd32p'], 0, 3);
    expect(Array.from(got.d32 as Float32Array)).toEqual([1.5, -2.25, Math.fround(1e-3)]);
    // [-1, 3] in 2^4 steps of 0.25: u = 0, 6, 16 → -1, 0.5, 3
    expect(Array.from(got.d32r as Float64Array)).toEqual([-1, 0.5, 3]);
    // 0.1 = 1.6 × 2^-4; 12 mantissa bits: round(0.6 × 4096) = 2458 → (1 + 2458/4096) / 16
    expect(Array.from(got.f16 as Float32Array)).toEqual([1.5, -1.5, (1 + 2458 / 4096) / 16]);
    expect(columnEvents(got.f16a)).toEqual([
      [1, 2],
      [-3, 4],
      [0.5, -0.25],
    ]);
    // n = 2, 0, 1: u = (1, 2), (), (4) → (-0.75, -0.5), (), (0)
    expect(columnEvents(got.d32p)).toEqual([[-0.75, -0.5], [], [0]]);
  });
});

describe('TLeafD32 and TLeafF16 leaves (x/d, x/f)', () => {
  const leaf = (typename: string, name: string, title: string, extra: Partial<JsLeaf> = {}): JsLeaf => ({
    _typename: typename,
    fName: name,
    fTitle: title,
    fLen: 1,
    fLenType: typename === 'TLeafI' ? 4 : 8,
    fIsUnsigned: false,
    fLeafCount: null,
    ...extra,
  });
  const plain = (name: string, title: string, l: JsLeaf, kept: JsEmbeddedBasket, offsets = false): JsBranch => ({
    _typename: 'TBranch',
    fName: name,
    fTitle: title,
    fEntries: 3,
    fEntryOffsetLen: offsets ? 40 : 0,
    fWriteBasket: 0,
    fLeaves: { arr: [l] },
    fBranches: { arr: [] },
    fBaskets: { arr: [kept] },
    fBasketBytes: [0],
    fBasketEntry: [0, 3],
    fBasketSeek: [0],
  });
  const nLeaf = leaf('TLeafI', 'n', 'n');
  const u32 = (vs: number[]) => bytes(4 * vs.length, (dv) => vs.forEach((v, i) => dv.setUint32(4 * i, v)));
  const tree: JsTree = {
    _typename: 'TTree',
    fName: 't',
    fEntries: 3,
    fBranches: {
      arr: [
        plain('n', 'n/I', nLeaf, basket(3, u32([2, 0, 1]))),
        plain(
          'a',
          'a/d',
          leaf('TLeafD32', 'a', 'a'),
          basket(
            3,
            bytes(12, (dv) => [1.5, -2.25, 3].forEach((v, i) => dv.setFloat32(4 * i, v))),
          ),
        ),
        plain('b', 'b/d[0,4,4]', leaf('TLeafD32', 'b', 'd[0,4,4]'), basket(3, u32([0, 2, 16]))),
        plain('c', 'c/f', leaf('TLeafF16', 'c', 'c'), basket(3, float16Bytes([1.5, -1.5, 0.1], 12))),
        plain(
          'e',
          'e[n]/d[-1,3,4]',
          leaf('TLeafD32', 'e', 'd[-1,3,4]', { fLeafCount: nLeaf }),
          basket(3, u32([1, 2, 4]), [8, 0, 4]),
          true,
        ),
        plain('g', 'g/d[lo,1,10]', leaf('TLeafD32', 'g', 'd[lo,1,10]'), basket(3, u32([0, 0, 0]))),
      ],
    },
  };
  const reader = new RootReader(
    { name: 'mem', size: 0, bytesRead: 0, read: async () => new Uint8Array(0), close: async () => {} },
    { fKeys: [], readObject: async () => null, findStreamerInfo: () => null } as unknown as JsFile,
    't',
    3,
    describeBranches(tree),
    'basket',
  );

  it('decode with the storage their title names', async () => {
    const got = await reader.read(['a', 'b', 'c', 'e'], 0, 3);
    expect(Array.from(got.a as Float32Array)).toEqual([1.5, -2.25, 3]);
    // [0, 4] in 2^4 steps of 0.25: u = 0, 2, 16 → 0, 0.5, 4
    expect(Array.from(got.b as Float64Array)).toEqual([0, 0.5, 4]);
    expect(Array.from(got.c as Float32Array)).toEqual([1.5, -1.5, (1 + 2458 / 4096) / 16]);
    expect(columnEvents(got.e)).toEqual([[-0.75, -0.5], [], [0]]);
    expect(reader.branches().find((b) => b.name === 'e')).toEqual({
      name: 'e',
      kind: 'jagged',
      dtype: 'float64',
      countBranch: 'n',
    });
  });

  it('a range that cannot be parsed is refused, not guessed', () => {
    expect(reader.describe().find((d) => d.name === 'g')!.unsupported).toMatch(/cannot parse the Double32_t range/);
  });
});
