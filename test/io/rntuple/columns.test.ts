/**
 * Unit tests of the RNTuple layers below the reader: XXH3 known answers, every column encoding on
 * hand-built pages, envelope checks, and fields-to-branches planning plus reading over a synthetic
 * two-cluster RNTuple held in memory (collections of records, bools, strings, several pages).
 */
import { describe, expect, it } from 'vitest';
import type { Jagged } from '../../../src/columnar/types.ts';
import type { ByteSource } from '../../../src/io/source.ts';
import { stringsOf, type DoublyJagged } from '../../../src/io/reader.ts';
import { COLUMN, decodePage, unsplit, unsupportedColumn } from '../../../src/io/rntuple/columns.ts';
import { Cursor, parseEnvelope } from '../../../src/io/rntuple/envelope.ts';
import { RNTupleChecksumError, RNTupleFormatError, RNTupleUnsupportedError } from '../../../src/io/rntuple/errors.ts';
import { planBranches } from '../../../src/io/rntuple/fields.ts';
import type { ClusterDesc, ColumnRange } from '../../../src/io/rntuple/pages.ts';
import { RNTupleReader } from '../../../src/io/rntuple/reader.ts';
import type { ColumnDesc, FieldDesc, Header, Schema } from '../../../src/io/rntuple/schema.ts';
import { xxh3, xxh3Hex } from '../../../src/io/rntuple/xxh3.ts';

describe('XXH3-64', () => {
  // Reference values from an independent XXH3 implementation, input byte i = (31 i + 7) mod 256.
  const known: [number, string][] = [
    [0, '2d06800538d394c2'],
    [1, '4c5cca45d0f4811f'],
    [3, '15f7093b173d005c'],
    [4, 'dca012f95811b6b9'],
    [8, 'dec6a9a43575982e'],
    [9, 'cbe393399f17ffbd'],
    [16, '7e484c18d74895d0'],
    [17, '208bde5ee2bed407'],
    [128, 'f92b70eaa21a6288'],
    [129, 'f8f76713f2bb60fa'],
    [240, 'ccc7375172c41f03'],
    [241, '0b3b630948ce4a00'],
    [1024, '23bc880ebf0d29c6'],
    [1025, 'c09fdfbc398c7d82'],
    [2048, '19f6f9c987331373'],
    [5000, '559fff92c2b7f8ee'],
  ];
  it.each(known)('length %i', (n, hex) => {
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = (i * 31 + 7) & 0xff;
    expect(xxh3Hex(d)).toBe(hex);
  });
});

const le = (bytes: number[]) => new Uint8Array(bytes);
/** Split a little-endian byte image of n elements of `width` bytes (the writer's transformation). */
function split(img: Uint8Array, n: number, width: number): Uint8Array {
  const out = new Uint8Array(n * width);
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) out[b * n + i] = img[i * width + b];
  return out;
}

describe('column decoding', () => {
  it('bit-packed booleans, least significant bit first', () => {
    expect(Array.from(decodePage(COLUMN.Bit, le([0b10100101, 0b1]), 9))).toEqual([1, 0, 1, 0, 0, 1, 0, 1, 1]);
  });

  it('plain little-endian integers and floats', () => {
    expect(Array.from(decodePage(COLUMN.Int8, le([0xff, 0x02]), 2))).toEqual([-1, 2]);
    expect(Array.from(decodePage(COLUMN.UInt16, le([0x01, 0x02]), 1))).toEqual([0x0201]);
    expect(Array.from(decodePage(COLUMN.Int32, new Uint8Array(new Int32Array([-5, 7]).buffer), 2))).toEqual([-5, 7]);
    expect(Array.from(decodePage(COLUMN.Int64, new Uint8Array(new BigInt64Array([-3n, 1n << 40n]).buffer), 2))).toEqual(
      [-3, 2 ** 40],
    );
    expect(Array.from(decodePage(COLUMN.Real64, new Uint8Array(new Float64Array([1.5, -2.25]).buffer), 2))).toEqual([
      1.5, -2.25,
    ]);
    expect(Array.from(decodePage(COLUMN.Index32, new Uint8Array(new Uint32Array([2, 2, 5]).buffer), 3))).toEqual([
      2, 2, 5,
    ]);
  });

  it('IEEE half floats, plain and split', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7c00, 0x0001]);
    const want = [1, -2, 0.5, Infinity, 2 ** -24];
    const img = new Uint8Array(halves.buffer);
    expect(Array.from(decodePage(COLUMN.Real16, img, 5))).toEqual(want);
    expect(Array.from(decodePage(COLUMN.SplitReal16, split(img, 5, 2), 5))).toEqual(want);
  });

  it('byte-split unsigned and real columns', () => {
    const u32 = new Uint32Array([1, 0x01020304, 0xffffffff]);
    expect(Array.from(decodePage(COLUMN.SplitUInt32, split(new Uint8Array(u32.buffer), 3, 4), 3))).toEqual(
      Array.from(u32),
    );
    const f32 = new Float32Array([3.5, -1e-3, 1e30]);
    expect(Array.from(decodePage(COLUMN.SplitReal32, split(new Uint8Array(f32.buffer), 3, 4), 3))).toEqual(
      Array.from(f32),
    );
    const f64 = new Float64Array([Math.PI, -0]);
    expect(Array.from(decodePage(COLUMN.SplitReal64, split(new Uint8Array(f64.buffer), 2, 8), 2))).toEqual([
      Math.PI,
      -0,
    ]);
    expect(Array.from(unsplit(le([1, 2, 3, 4, 5, 6]), 3, 2))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('zigzag + split signed integers of 16, 32 and 64 bits', () => {
    const zz = (v: number) => (v >= 0 ? 2 * v : -2 * v - 1);
    const vals = [0, -1, 1, -2, 2, -300, 300];
    const z16 = new Uint16Array(vals.map(zz));
    expect(
      Array.from(decodePage(COLUMN.SplitInt16, split(new Uint8Array(z16.buffer), vals.length, 2), vals.length)),
    ).toEqual(vals);
    const z32 = new Uint32Array([...vals, -2147483648].map(zz));
    expect(Array.from(decodePage(COLUMN.SplitInt32, split(new Uint8Array(z32.buffer), 8, 4), 8))).toEqual([
      ...vals,
      -2147483648,
    ]);
    const z64 = new BigUint64Array([...vals, -(2 ** 40)].map((v) => BigInt(zz(v))));
    expect(Array.from(decodePage(COLUMN.SplitInt64, split(new Uint8Array(z64.buffer), 8, 8), 8))).toEqual([
      ...vals,
      -(2 ** 40),
    ]);
  });

  it('delta + split index columns (delta restarts on every page)', () => {
    const d32 = new Uint32Array([3, 0, 2, 1]);
    expect(Array.from(decodePage(COLUMN.SplitIndex32, split(new Uint8Array(d32.buffer), 4, 4), 4))).toEqual([
      3, 3, 5, 6,
    ]);
    const d64 = new BigUint64Array([7n, 1n, 0n]);
    expect(Array.from(decodePage(COLUMN.SplitIndex64, split(new Uint8Array(d64.buffer), 3, 8), 3))).toEqual([7, 8, 8]);
  });

  it('names the column types it does not implement', () => {
    expect(unsupportedColumn(COLUMN.Real32Trunc, 20)).toMatch(/Real32Trunc/);
    expect(unsupportedColumn(COLUMN.Real32Quant, 12)).toMatch(/Real32Quant/);
    expect(unsupportedColumn(COLUMN.Switch, 96)).toMatch(/Switch/);
    expect(unsupportedColumn(0x40, 8)).toMatch(/unknown/);
    expect(unsupportedColumn(COLUMN.Real32, 32)).toBeUndefined();
    expect(unsupportedColumn(COLUMN.Real32, 16)).toMatch(/bits on storage/);
    expect(() => decodePage(COLUMN.Real32Quant, new Uint8Array(4), 1)).toThrow(RNTupleUnsupportedError);
  });
});

describe('envelopes and frames', () => {
  const where = { file: 'mem', what: 'test envelope' };
  function envelope(type: number, payload: number[]): Uint8Array {
    const len = 8 + payload.length + 8;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, (BigInt(len) << 16n) | BigInt(type), true);
    b.set(payload, 8);
    dv.setBigUint64(len - 8, xxh3(b.subarray(0, len - 8)), true);
    return b;
  }

  it('accepts a well-formed envelope and refuses a wrong checksum or type', () => {
    const env = envelope(2, [1, 2, 3, 4]);
    expect(parseEnvelope(env, 2, where).payload.u32()).toBe(0x04030201);
    expect(() => parseEnvelope(env, 1, where)).toThrow(RNTupleFormatError);
    const bad = env.slice();
    bad[9] ^= 1;
    expect(() => parseEnvelope(bad, 2, where)).toThrow(RNTupleChecksumError);
  });

  it('a frame that claims more bytes than its parent is a format error', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigInt64(0, -100n, true); // list frame of 100 bytes in 16
    expect(() => new Cursor(b, where).list((c) => c.u8())).toThrow(RNTupleFormatError);
    new DataView(b.buffer).setBigInt64(0, -12n, true);
    new DataView(b.buffer).setUint32(8, 1000, true); // 1000 items in 0 bytes
    expect(() => new Cursor(b, where).list((c) => c.u8())).toThrow(RNTupleFormatError);
  });
});

// ---- a synthetic RNTuple in memory --------------------------------------------------------------

function field(
  id: number,
  parentId: number,
  role: number,
  name: string,
  typeName: string,
  flags = 0,
  extra: Partial<FieldDesc> = {},
): FieldDesc {
  return {
    id,
    fieldVersion: 0,
    typeVersion: 0,
    parentId,
    role,
    flags,
    name,
    typeName,
    typeAlias: '',
    description: '',
    ...extra,
  };
}
function column(id: number, fieldId: number, type: number, bits: number): ColumnDesc {
  return { id, type, bitsOnStorage: bits, fieldId, flags: 0, representationIndex: 0 };
}

/**
 * Event model: `Muon` = std::vector<MuonRec{pt: float, good: bool}>, `run` uint32, `tag` std::string,
 * `MET` record {pt: double}, `bad` float stored as Real32Quant. Two clusters of 2 and 3 entries;
 * Muon.pt of cluster 1 spans two pages.
 */
function syntheticReader(): RNTupleReader {
  const fields = [
    field(0, 0, 1, 'Muon', 'std::vector<MuonRec>'),
    field(1, 0, 2, '_0', 'MuonRec'),
    field(2, 1, 0, 'pt', 'float'),
    field(3, 1, 0, 'good', 'bool'),
    field(4, 4, 0, 'run', 'std::uint32_t'),
    field(5, 5, 0, 'tag', 'std::string'),
    field(6, 6, 2, 'MET', 'METRec'),
    field(7, 6, 0, 'pt', 'double'),
    field(8, 8, 0, 'bad', 'float'),
    field(9, 9, 1, 'vv', 'std::vector<std::vector<float>>'),
    field(10, 9, 1, '_0', 'std::vector<float>'),
    field(11, 10, 0, '_0', 'float'),
    field(12, 12, 0, 'arr', 'std::array<std::int16_t,3>', 1, { arraySize: 3 }),
    field(13, 12, 0, '_0', 'std::int16_t'),
    field(14, 14, 0, 'bits', 'std::bitset<4>', 1, { arraySize: 4 }),
    field(15, 15, 0, 'flag', 'std::atomic<bool>'),
    field(16, 15, 0, '_0', 'bool'),
  ];
  const columns = [
    column(0, 0, COLUMN.SplitIndex64, 64),
    column(1, 2, COLUMN.SplitReal32, 32),
    column(2, 3, COLUMN.Bit, 1),
    column(3, 4, COLUMN.SplitUInt32, 32),
    column(4, 5, COLUMN.Index32, 32),
    column(5, 5, COLUMN.Char, 8),
    column(6, 7, COLUMN.Real64, 64),
    { ...column(7, 8, COLUMN.Real32Quant, 12), flags: 2, min: 0, max: 1 },
    column(8, 9, COLUMN.SplitIndex32, 32),
    column(9, 10, COLUMN.Index64, 64),
    column(10, 11, COLUMN.Real32, 32),
    column(11, 13, COLUMN.SplitInt16, 16),
    column(12, 14, COLUMN.Bit, 1),
    column(13, 16, COLUMN.Bit, 1),
  ];
  const schema: Schema = { fields, columns, aliases: [] };
  const header: Header = {
    fields,
    columns,
    aliases: [],
    featureFlags: [],
    name: 'Events',
    description: '',
    writer: 'test',
  };

  const blob: number[] = [];
  const put = (bytes: Uint8Array) => {
    const offset = blob.length;
    blob.push(...bytes);
    return { offset, nbytes: bytes.length };
  };
  const page = (bytes: Uint8Array, n: number) => ({ numElements: n, hasChecksum: false, locator: put(bytes) });
  const f32 = (v: number[]) => split(new Uint8Array(new Float32Array(v).buffer), v.length, 4);
  const idx64 = (deltas: number[]) =>
    split(new Uint8Array(new BigUint64Array(deltas.map(BigInt)).buffer), deltas.length, 8);
  const u32 = (v: number[]) => split(new Uint8Array(new Uint32Array(v).buffer), v.length, 4);
  const range = (firstElement: number, pages: ColumnRange['pages']): ColumnRange => ({
    firstElement,
    suppressed: false,
    compression: 0,
    pages,
    numElements: pages.reduce((s, p) => s + p.numElements, 0),
  });
  const text = (s: string) => new TextEncoder().encode(s);
  const idx32 = (deltas: number[]) => split(new Uint8Array(new Uint32Array(deltas).buffer), deltas.length, 4);
  const plain64 = (v: number[]) => new Uint8Array(new BigUint64Array(v.map(BigInt)).buffer);
  const plainF32 = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);
  const zz16 = (v: number[]) =>
    split(new Uint8Array(new Uint16Array(v.map((x) => (x >= 0 ? 2 * x : -2 * x - 1))).buffer), v.length, 2);

  // cluster 0: Muon = [[1, 2], []], good = [1, 0]; run = [7, 7]; tag = ['ab', '']; MET = [0.5, 1.5]
  // cluster 1: Muon = [[3], [4, 5, 6], []], good = [0, 1, 1, 0]; run = [8, 9, 9]; tag = ['x', 'yz', 'é']
  const c0: ColumnRange[] = [
    range(0, [page(idx64([2, 0]), 2)]),
    range(0, [page(f32([1, 2]), 2)]),
    range(0, [page(le([0b01]), 2)]),
    range(0, [page(u32([7, 7]), 2)]),
    range(0, [page(new Uint8Array(new Uint32Array([2, 2]).buffer), 2)]),
    range(0, [page(text('ab'), 2)]),
    range(0, [page(new Uint8Array(new Float64Array([0.5, 1.5]).buffer), 2)]),
    range(0, [page(new Uint8Array(3), 2)]),
    // vv = [[[1], [2, 3]], []]; arr = [[1, -2, 3], [4, 5, -6]]; bits = [1010, 0111]; flag = [1, 0]
    range(0, [page(idx32([2, 0]), 2)]),
    range(0, [page(plain64([1, 3]), 2)]),
    range(0, [page(plainF32([1, 2, 3]), 3)]),
    range(0, [page(zz16([1, -2, 3, 4, 5, -6]), 6)]),
    range(0, [page(le([0b11100101]), 8)]),
    range(0, [page(le([0b01]), 2)]),
  ];
  const c1: ColumnRange[] = [
    range(2, [page(idx64([1, 3]), 2), page(idx64([4]), 1)]),
    range(2, [page(f32([3, 4]), 2), page(f32([5, 6]), 2)]),
    range(2, [page(le([0b0110]), 4)]),
    range(2, [page(u32([8, 9, 9]), 3)]),
    range(2, [page(new Uint8Array(new Uint32Array([1, 3, 5]).buffer), 3)]),
    range(2, [page(text('xyzé'), 5)]),
    range(2, [page(new Uint8Array(new Float64Array([2.5, 3.5, 4.5]).buffer), 3)]),
    range(2, [page(new Uint8Array(5), 3)]),
    // vv = [[[]], [[4]], [[5, 6], [7]]]; arr = [[7, 8, 9], [0, 0, 0], [-1, -1, -1]]; bits = [1111, 0000, 1000]; flag = [0, 0, 1]
    range(2, [page(idx32([1, 1, 2]), 3)]),
    range(2, [page(plain64([0, 1]), 2), page(plain64([3, 4]), 2)]),
    range(3, [page(plainF32([4, 5, 6, 7]), 4)]),
    range(6, [page(zz16([7, 8, 9, 0, 0, 0, -1, -1, -1]), 9)]),
    range(8, [page(le([0x0f, 0x01]), 12)]),
    range(2, [page(le([0b100]), 3)]),
  ];
  const clusters: ClusterDesc[] = [
    { id: 0, firstEntry: 0, numEntries: 2, columns: c0 },
    { id: 1, firstEntry: 2, numEntries: 3, columns: c1 },
  ];
  const bytes = new Uint8Array(blob);
  const src: ByteSource = {
    name: 'memory.root',
    size: bytes.length,
    bytesRead: 0,
    async read(start, end) {
      return bytes.slice(start, end);
    },
    async close() {},
  };
  return new RNTupleReader(src, 'Events', header, schema, clusters, planBranches(schema));
}

describe('fields to branches, read over clusters and pages', () => {
  it('plans NanoAOD-flat branches with synthesized counts and records', () => {
    const r = syntheticReader();
    expect(r.branches()).toEqual([
      { name: 'nMuon', kind: 'flat', dtype: 'uint32' },
      { name: 'Muon_pt', kind: 'jagged', dtype: 'float32', countBranch: 'nMuon' },
      { name: 'Muon_good', kind: 'jagged', dtype: 'bool', countBranch: 'nMuon' },
      { name: 'run', kind: 'flat', dtype: 'uint32' },
      { name: 'tag', kind: 'string', dtype: 'uint8' },
      { name: 'MET_pt', kind: 'flat', dtype: 'float64' },
      { name: 'vv', kind: 'jagged2', dtype: 'float32' },
      { name: 'arr', kind: 'jagged', dtype: 'int16' },
      { name: 'bits', kind: 'jagged', dtype: 'bool' },
      { name: 'flag', kind: 'flat', dtype: 'bool' },
    ]);
    expect(r.describe().find((d) => d.name === 'bad')?.unsupported).toMatch(/Real32Quant/);
    expect(r.boundaries()).toEqual([0, 2, 5]);
  });

  it('reads across two clusters and several pages, any entry range', async () => {
    const r = syntheticReader();
    const all = await r.read(['nMuon', 'Muon_pt', 'Muon_good', 'run', 'tag', 'MET_pt'], 0, 5);
    expect(Array.from(all.nMuon as Uint32Array)).toEqual([2, 0, 1, 3, 0]);
    const pt = all.Muon_pt as Jagged;
    expect(Array.from(pt.offsets)).toEqual([0, 2, 2, 3, 6, 6]);
    expect(Array.from(pt.content)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from((all.Muon_good as Jagged).content)).toEqual([1, 0, 0, 1, 1, 0]);
    expect(Array.from(all.run as Uint32Array)).toEqual([7, 7, 8, 9, 9]);
    expect(stringsOf(all.tag as Jagged)).toEqual(['ab', '', 'x', 'yz', 'é']);
    expect(Array.from(all.MET_pt as Float64Array)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);

    const mid = await r.read(['Muon_pt', 'nMuon', 'tag'], 1, 4);
    expect(Array.from((mid.Muon_pt as Jagged).offsets)).toEqual([0, 0, 1, 4]);
    expect(Array.from((mid.Muon_pt as Jagged).content)).toEqual([3, 4, 5, 6]);
    expect(Array.from(mid.nMuon as Uint32Array)).toEqual([0, 1, 3]);
    expect(stringsOf(mid.tag as Jagged)).toEqual(['', 'x', 'yz']);
    const one = await r.read(['Muon_pt'], 3, 4);
    expect(Array.from((one.Muon_pt as Jagged).content)).toEqual([4, 5, 6]);
  });

  it('reads nested vectors, fixed-size arrays, bitsets and atomics', async () => {
    const r = syntheticReader();
    const all = await r.read(['vv', 'arr', 'bits', 'flag'], 0, 5);
    const vv = all.vv as unknown as DoublyJagged;
    expect(Array.from(vv.offsets)).toEqual([0, 2, 2, 3, 4, 6]);
    expect(Array.from(vv.content.offsets)).toEqual([0, 1, 3, 3, 4, 6, 7]);
    expect(Array.from(vv.content.content)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const arr = all.arr as Jagged;
    expect(Array.from(arr.offsets)).toEqual([0, 3, 6, 9, 12, 15]);
    expect(Array.from(arr.content)).toEqual([1, -2, 3, 4, 5, -6, 7, 8, 9, 0, 0, 0, -1, -1, -1]);
    expect(Array.from((all.bits as Jagged).content)).toEqual([
      1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0,
    ]);
    expect(Array.from(all.flag as Uint8Array)).toEqual([1, 0, 0, 0, 1]);

    const mid = await r.read(['vv', 'arr'], 1, 4);
    const mv = mid.vv as unknown as DoublyJagged;
    expect(Array.from(mv.offsets)).toEqual([0, 0, 1, 2]);
    expect(Array.from(mv.content.offsets)).toEqual([0, 0, 1]);
    expect(Array.from(mv.content.content)).toEqual([4]);
    expect(Array.from((mid.arr as Jagged).content)).toEqual([4, 5, -6, 7, 8, 9, 0, 0, 0]);
    const last = await r.read(['vv'], 4, 5);
    const lv = last.vv as unknown as DoublyJagged;
    expect([Array.from(lv.offsets), Array.from(lv.content.offsets), Array.from(lv.content.content)]).toEqual([
      [0, 2],
      [0, 2, 3],
      [5, 6, 7],
    ]);
  });

  it('lists what it cannot read inside collections with the reason', () => {
    const fields = [
      field(0, 0, 1, 'Jet', 'std::vector<JetRec>'),
      field(1, 0, 2, '_0', 'JetRec'),
      field(2, 1, 0, 'p4', 'std::array<float,4>', 1, { arraySize: 4 }),
      field(3, 2, 0, '_0', 'float'),
      field(4, 1, 1, 'tracks', 'std::vector<float>'),
      field(5, 4, 0, '_0', 'float'),
      field(6, 1, 0, 'pt', 'float'),
    ];
    const columns = [
      column(0, 0, COLUMN.SplitIndex64, 64),
      column(1, 3, COLUMN.SplitReal32, 32),
      column(2, 4, COLUMN.SplitIndex64, 64),
      column(3, 5, COLUMN.SplitReal32, 32),
      column(4, 6, COLUMN.SplitReal32, 32),
    ];
    const plan = planBranches({ fields, columns, aliases: [] });
    const by = Object.fromEntries(plan.map((e) => [e.name, e]));
    expect(by.Jet_p4?.plan).toBeUndefined();
    expect(by.Jet_p4?.unsupported).toMatch(/fixed-size arrays inside a collection/);
    expect(by.Jet_tracks?.plan).toBeUndefined();
    expect(by.Jet_tracks?.unsupported).toMatch(/nested collections/);
    expect(by.Jet_pt?.info).toEqual({ name: 'Jet_pt', kind: 'jagged', dtype: 'float32', countBranch: 'nJet' });
  });

  it('refuses an unsupported encoding by name, with a typed error', async () => {
    const r = syntheticReader();
    await expect(r.read(['bad'], 0, 5)).rejects.toBeInstanceOf(RNTupleUnsupportedError);
    await expect(r.read(['bad'], 0, 5)).rejects.toThrow(/Real32Quant/);
  });
});
