/**
 * The small pieces of the ROOT reader on their own: LZ4 block decoding, XXH64 against a BigInt
 * transcription of the specification, and branch classification for layouts the shared files lack
 * (fixed-size arrays, strings, leaf lists, objects).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containerLayout, describeBranches } from '../../../src/io/root/branch-meta.ts';
import type { JsBranch, JsLeaf, JsTree } from '../../../src/io/root/jsroot.ts';
import { lz4DecodeBlock, Lz4FormatError } from '../../../src/io/root/lz4.ts';
import { loadXxh64, xxh64, xxh64Equals } from '../../../src/io/root/xxhash64.ts';

describe('LZ4 block decoder', () => {
  const decode = (block: number[], size: number): string => {
    const out = new Uint8Array(size);
    const n = lz4DecodeBlock(Uint8Array.from(block), out);
    return Buffer.from(out.subarray(0, n)).toString('latin1');
  };
  const bytes = (s: string): number[] => [...Buffer.from(s, 'latin1')];

  it('literal-only block', () => {
    expect(decode([0x50, ...bytes('hello')], 5)).toBe('hello');
  });
  it('overlapping match repeats the last byte', () => {
    // 1 literal 'a', then a match of 4 + 6 bytes at offset 1, then an empty final sequence.
    expect(decode([0x16, ...bytes('a'), 1, 0, 0x00], 11)).toBe('a'.repeat(11));
  });
  it('extended literal and match lengths', () => {
    const lit = 'x'.repeat(15 + 5) + 'abcd';
    // 24 literals (15 + 9), then match of 4 + 15 + 40 bytes at offset 4 ("abcd" repeated), then 'z'.
    const block = [0xff, 9, ...bytes(lit), 4, 0, 40, 0x10, ...bytes('z')];
    expect(decode(block, 24 + 59 + 1)).toBe(lit + 'abcd'.repeat(15).slice(0, 59) + 'z');
  });
  it('literal runs on both sides of the copy-loop cut (63, 64 and 300 bytes)', () => {
    for (const n of [63, 64, 300]) {
      const lit = Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join('');
      // Token 0xf0: 15 + extra literal length bytes (255s, then the rest), literals only (last sequence).
      const extra: number[] = [];
      for (let r = n - 15; ; r -= 255) {
        extra.push(Math.min(r, 255));
        if (r < 255) break;
      }
      expect(decode([0xf0, ...extra, ...bytes(lit)], n)).toBe(lit);
    }
  });
  it('rejects offsets before the output start, truncation and overflow', () => {
    expect(() => decode([0x10, ...bytes('a'), 0, 0, 0x00], 10)).toThrow(Lz4FormatError);
    expect(() => decode([0x12, ...bytes('a'), 2, 0, 0x00], 10)).toThrow(Lz4FormatError);
    expect(() => decode([0x50, ...bytes('hel')], 5)).toThrow(Lz4FormatError);
    expect(() => decode([0x50, ...bytes('hello')], 4)).toThrow(Lz4FormatError);
  });
});

describe('XXH64', () => {
  const M = (1n << 64n) - 1n;
  const [P1, P2, P3, P4, P5] = [
    0x9e3779b185ebca87n,
    0xc2b2ae3d27d4eb4fn,
    0x165667b19e3779f9n,
    0x85ebca77c2b2ae63n,
    0x27d4eb2f165667c5n,
  ];
  const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
  const round = (acc: bigint, x: bigint): bigint => (rotl((acc + x * P2) & M, 31n) * P1) & M;
  function reference(d: Uint8Array): bigint {
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    let p = 0;
    let h: bigint;
    if (d.length >= 32) {
      const v = [(P1 + P2) & M, P2, 0n, -P1 & M];
      for (; p + 32 <= d.length; p += 32)
        for (let i = 0; i < 4; i++) v[i] = round(v[i], dv.getBigUint64(p + 8 * i, true));
      h = (rotl(v[0], 1n) + rotl(v[1], 7n) + rotl(v[2], 12n) + rotl(v[3], 18n)) & M;
      for (const x of v) h = ((h ^ round(0n, x)) * P1 + P4) & M;
    } else h = P5;
    h = (h + BigInt(d.length)) & M;
    for (; p + 8 <= d.length; p += 8) h = (rotl(h ^ round(0n, dv.getBigUint64(p, true)), 27n) * P1 + P4) & M;
    if (p + 4 <= d.length) {
      h = (rotl(h ^ ((BigInt(dv.getUint32(p, true)) * P1) & M), 23n) * P2 + P3) & M;
      p += 4;
    }
    for (; p < d.length; p++) h = (rotl(h ^ ((BigInt(d[p]) * P5) & M), 11n) * P1) & M;
    h = ((h ^ (h >> 33n)) * P2) & M;
    h = ((h ^ (h >> 29n)) * P3) & M;
    return h ^ (h >> 32n);
  }
  const asBig = ([hi, lo]: [number, number]): bigint => (BigInt(hi) << 32n) | BigInt(lo);

  it('published value for the empty input', () => {
    expect(asBig(xxh64(new Uint8Array(0))).toString(16)).toBe('ef46db3751d8e999');
  });
  it('agrees with the BigInt transcription on random inputs of every tail length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (d) => asBig(xxh64(d)) === reference(d)),
      { numRuns: 300 },
    );
  });
  it('xxh64Equals: the JS hash before the wasm one loads, the wasm one after, the same answers', async () => {
    const split = (h: bigint): [number, number] => [Number(h >> 32n), Number(h & 0xffffffffn)];
    const check = (d: Uint8Array): boolean => {
      const [hi, lo] = split(reference(d));
      // The right value matches; the value with one bit changed (high or low half) does not.
      return xxh64Equals(d, hi, lo) && !xxh64Equals(d, hi ^ 1, lo) && !xxh64Equals(d, hi, (lo ^ 0x80000000) >>> 0);
    };
    const inputs = fc.uint8Array({ maxLength: 300 });
    fc.assert(fc.property(inputs, check), { numRuns: 50 }); // JS path (wasm not loaded in this file yet)
    await loadXxh64();
    fc.assert(fc.property(inputs, check), { numRuns: 300 });
    // A view into a larger buffer (byteOffset > 0) and an input larger than wasm memory's first page.
    const big = Uint8Array.from({ length: 200_003 }, (_, i) => (i * 2654435761) >>> 24);
    expect(check(big.subarray(7, 150_010))).toBe(true);
    expect(check(big)).toBe(true);
  });
});

describe('branch classification', () => {
  const sizes: Record<string, number> = {
    TLeafO: 1,
    TLeafB: 1,
    TLeafS: 2,
    TLeafI: 4,
    TLeafL: 8,
    TLeafF: 4,
    TLeafD: 8,
    TLeafC: 1,
  };
  const leaf = (typename: string, name: string, extra: Partial<JsLeaf> = {}): JsLeaf => ({
    _typename: typename,
    fName: name,
    fTitle: name,
    fLen: 1,
    fLenType: sizes[typename] ?? 0,
    fIsUnsigned: false,
    fLeafCount: null,
    ...extra,
  });
  const branch = (name: string, title: string, leaves: JsLeaf[], typename = 'TBranch'): JsBranch => ({
    _typename: typename,
    fName: name,
    fTitle: title,
    fEntries: 10,
    fEntryOffsetLen: 0,
    fWriteBasket: 1,
    fLeaves: { arr: leaves },
    fBranches: { arr: [] },
    fBasketBytes: [100, 0],
    fBasketEntry: [0, 10],
    fBasketSeek: [1000, 0],
  });
  const n = leaf('TLeafI', 'n');
  const tree: JsTree = {
    _typename: 'TTree',
    fName: 't',
    fEntries: 10,
    fBranches: {
      arr: [
        branch('n', 'n/I', [n]),
        branch('x', 'x[n]/F', [leaf('TLeafF', 'x', { fLeafCount: n })]),
        branch('v3', 'v3[3]/D', [leaf('TLeafD', 'v3', { fLen: 3 })]),
        branch('u', 'u/s', [leaf('TLeafS', 'u', { fIsUnsigned: true })]),
        branch('s', 's/C', [leaf('TLeafC', 's')]),
        branch('xy', 'x/F:y/F', [leaf('TLeafF', 'x'), leaf('TLeafF', 'y')]),
        {
          ...branch('obj', 'obj', [leaf('TLeafElement', 'obj')], 'TBranchElement'),
          fClassName: 'MyClass',
          fID: -1,
          fType: 0,
          fStreamerType: -1,
        },
        branch('m', 'm[n][2]/F', [leaf('TLeafF', 'm', { fLeafCount: n, fLen: 2 })]),
      ],
    },
  };
  const metas = new Map(describeBranches(tree).map((m) => [m.name, m]));

  it('numeric, jagged and fixed-array branches are readable', () => {
    expect(metas.get('n')!.info).toEqual({ name: 'n', kind: 'flat', dtype: 'int32' });
    expect(metas.get('x')!.info).toEqual({ name: 'x', kind: 'jagged', dtype: 'float32', countBranch: 'n' });
    expect(metas.get('v3')!.info).toEqual({ name: 'v3', kind: 'jagged', dtype: 'float64' });
    expect(metas.get('v3')!.layout).toEqual({ kind: 'fixed', itemSize: 8, perEntry: 3 });
    expect(metas.get('u')!.info).toEqual({ name: 'u', kind: 'flat', dtype: 'uint16' });
  });
  it('leaf lists become one column per leaf, named branch_leaf', () => {
    expect(metas.get('xy_x')!.info).toEqual({ name: 'xy_x', kind: 'flat', dtype: 'float32' });
    expect(metas.get('xy_y')!.layout).toEqual({ kind: 'field', itemSize: 4, perEntry: 1, recordBytes: 8, offset: 4 });
    expect(metas.get('xy_y')!.branchName).toBe('xy');
  });
  it('char* strings are a string column', () => {
    expect(metas.get('s')!.info).toEqual({ name: 's', kind: 'string', dtype: 'uint8' });
    expect(metas.get('s')!.layout).toEqual({ kind: 'string', header: 0 });
  });
  it('objects and arrays of arrays are named as unsupported', () => {
    expect(metas.get('obj')!.unsupported).toMatch(/objects of type MyClass/);
    expect(metas.get('m')!.unsupported).toMatch(/fixed arrays/);
    for (const k of ['obj', 'm']) expect(metas.get(k)!.info).toBeUndefined();
  });
});

describe('container type names', () => {
  it('vectors, sets, lists and RVecs of numbers, one or two levels deep', () => {
    expect(containerLayout('vector<float>')).toEqual({
      layout: { kind: 'vector', itemSize: 4 },
      dtype: 'float32',
      depth: 1,
    });
    expect(containerLayout('std::vector<unsigned long long>')).toMatchObject({ dtype: 'uint64', depth: 1 });
    expect(containerLayout('vector<vector<double> >')).toEqual({
      layout: { kind: 'vector2', itemSize: 8 },
      dtype: 'float64',
      depth: 2,
    });
    expect(containerLayout('set<int>')).toMatchObject({ dtype: 'int32', depth: 1 });
    expect(containerLayout('ROOT::VecOps::RVec<bool>')).toMatchObject({ dtype: 'bool', depth: 1 });
    expect(containerLayout('vector<set<short> >')).toMatchObject({ dtype: 'int16', depth: 2 });
  });
  it('anything else is not a container the reader decodes', () => {
    for (const t of [
      'vector<string>',
      'map<int,short>',
      'vector<Double32_t>',
      'vector<vector<vector<int> > >',
      'vector<MyHit>',
      'TClonesArray',
    ]) {
      expect(containerLayout(t), t).toBeUndefined();
    }
  });
});
