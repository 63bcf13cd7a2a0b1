import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { binaryDecoder } from '../../src/accumulate/protocol.ts';
import {
  BooleanAxis,
  Double,
  Hist,
  Int64,
  IntCategory,
  Integer,
  Mean,
  Regular,
  StrCategory,
  Variable,
  Weight,
  WeightedMean,
  fromUHI,
  fromUHIDocument,
  parseUHI,
  stringifyUHI,
  toUHI,
  uhiDocument,
  type Storage,
} from '../../src/hist/index.ts';
import { sharedPath } from '../shared.ts';

const schemaDir = sharedPath('schemas', 'uhi');
const schema = JSON.parse(readFileSync(join(schemaDir, 'histogram.schema.json'), 'utf8'));
// the schema puts `minItems` on number items (harmless); strict mode would only log about it
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

function valid(doc: unknown): boolean {
  const ok = validate(doc);
  if (!ok) console.error(JSON.stringify(validate.errors?.slice(0, 5), null, 1));
  return ok;
}

const axes = () => ({
  regular: new Regular(4, 0, 2, { name: 'x', label: 'x [cm]' }),
  log: new Regular(5, 1, 100, { name: 'e', transform: 'log', underflow: false }),
  variable: new Variable([0, 1, 5, 10], { name: 'v', overflow: false }),
  integer: new Integer(-1, 3, { name: 'n' }),
  intcat: new IntCategory([11, 13], { name: 'pdg' }),
  strcat: new StrCategory(['a', 'b'], { name: 's', growth: true }),
  boolean: new BooleanAxis({ name: 'ok', metadata: { note: 'tight id' } }),
});

const storages: Record<string, () => Storage> = {
  double: () => new Double(),
  int64: () => new Int64(),
  weight: () => new Weight(),
  mean: () => new Mean(),
  weighted_mean: () => new WeightedMean(),
};

function filled(axisKind: keyof ReturnType<typeof axes>, storage: string): Hist {
  const a = axes()[axisKind];
  const second = new Regular(3, 0, 3, { name: 'y' });
  const h = new Hist(a, second, {
    storage: storages[storage](),
    name: `${axisKind}_${storage}`,
    label: 'test',
    metadata: { year: 2012 },
  });
  const n = 50;
  const first =
    a.kind === 'str_category'
      ? Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3])
      : Array.from({ length: n }, (_, i) => (a.kind === 'int_category' ? [11, 13, 22][i % 3] : ((i * 7.3) % 12) - 1.5));
  const y = Array.from({ length: n }, (_, i) => ((i * 1.7) % 4) - 0.5);
  const opts: { weight?: number[]; sample?: number[] } = {};
  if (storage !== 'int64') opts.weight = y.map((_, i) => 1 + (i % 4));
  if (storage === 'mean' || storage === 'weighted_mean') opts.sample = y.map((_, i) => (i % 5) * 1.5);
  h.fill(first as number[] | string[], y, opts);
  return h;
}

describe('UHI JSON validates against the shared schema', () => {
  it('the validator accepts the schema examples and rejects the invalid ones', () => {
    for (const f of readdirSync(join(schemaDir, 'valid')))
      expect(valid(parseUHI(readFileSync(join(schemaDir, 'valid', f), 'utf8')))).toBe(true);
    for (const f of readdirSync(join(schemaDir, 'invalid')))
      expect(validate(JSON.parse(readFileSync(join(schemaDir, 'invalid', f), 'utf8')))).toBe(false);
  });

  for (const axisKind of Object.keys(axes()) as (keyof ReturnType<typeof axes>)[])
    for (const storage of Object.keys(storages))
      it(`${axisKind} axis × ${storage} storage`, () => {
        const h = filled(axisKind, storage);
        const doc = uhiDocument({ h });
        expect(valid(doc)).toBe(true);
        // through text too (NaN variances become Python-style tokens)
        const back = fromUHIDocument(parseUHI(stringifyUHI(doc)))['h'];
        expect(back.axes.map((a) => [a.kind, a.name, a.label, a.size, a.underflow, a.overflow])).toEqual(
          h.axes.map((a) => [a.kind, a.name, a.label, a.size, a.underflow, a.overflow]),
        );
        expect(back.incompatibility(h)).toBeNull();
        expect(back.storage.kind).toBe(storage);
        expect(back.entries).toBe(h.entries);
        expect(back.metadata).toEqual({ year: 2012 });
        expect([back.name, back.label]).toEqual([h.name, h.label]);
        for (const f of h.storage.fields) {
          const a = h.field(f);
          const b = back.field(f);
          // profiles rebuild Σ(x-mean)² from the variance: equal up to rounding
          const exact = !f.includes('deltas');
          a.forEach((v, i) =>
            exact
              ? expect(b[i]).toBe(v)
              : expect(Math.abs(b[i] - v)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v))),
          );
        }
      });
});

describe('UHI shape and conventions', () => {
  it('dense values carry flow bins, nested per axis, first axis outermost', () => {
    const h = new Hist(
      new Regular(2, 0, 2, { name: 'x' }),
      new StrCategory(['a', 'b', 'c'], { name: 'c', overflow: false }),
    );
    h.fill([-1, 0.5, 0.5, 1.5, 3], ['a', 'b', 'b', 'c', 'a']);
    const u = toUHI(h);
    expect(u.storage).toEqual({
      type: 'double',
      values: [
        [1, 0, 0],
        [0, 2, 0],
        [0, 0, 1],
        [1, 0, 0],
      ],
    });
    expect(u.axes[0]).toEqual({
      type: 'regular',
      lower: 0,
      upper: 2,
      bins: 2,
      underflow: true,
      overflow: true,
      circular: false,
      metadata: { name: 'x' },
    });
    expect(u.axes[1]).toEqual({
      type: 'category_str',
      categories: ['a', 'b', 'c'],
      flow: false,
      metadata: { name: 'c' },
    });
  });

  it('Integer and log axes carry boost-histogram writer_info; weights map to weighted/values/variances', () => {
    const h = new Hist(new Integer(0, 3), new Regular(2, 1, 100, { transform: 'log' }), { storage: new Weight() });
    h.fill(1, 20, { weight: 3 });
    const u = toUHI(h);
    expect(u.axes[0]).toMatchObject({
      type: 'regular',
      lower: 0,
      upper: 3,
      bins: 3,
      writer_info: { 'boost-histogram': { orig_type: 'Integer' } },
    });
    expect(u.axes[1]).toMatchObject({
      type: 'variable',
      writer_info: { 'boost-histogram': { transform: 'log', bins: 2, lower: 1, upper: 100 } },
    });
    expect(u.storage.type).toBe('weighted');
    const s = u.storage as { values: number[][]; variances: number[][] };
    expect(s.values[2][2]).toBe(3); // x=1 → local 2 (underflow first); 20 → second bin, local 2
    expect(s.variances[2][2]).toBe(9);
    expect(u.metadata).toMatchObject({ _variance_known: true });
  });

  it('reads the schema examples written by boost-histogram (dense, sparse, empty, 0-D, mean)', () => {
    const read = (f: string) => fromUHIDocument(parseUHI(readFileSync(join(schemaDir, 'valid', f), 'utf8')));
    const two = read('2d.json')['main'];
    expect(two.shape({ flow: true })).toEqual([4, 3]);
    expect(Array.from(two.values({ flow: true }))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(two.values())).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const sparse = read('sparse.json')['first'];
    expect(Array.from(sparse.values({ flow: true }))).toEqual([0, 3, 5, 0, 0]);
    expect(sparse.axes[0].name).toBe('');
    expect(sparse.axes[0].metadata).toEqual({ simple: 1 });
    const reg = read('reg.json');
    expect(reg['one'].storage.kind).toBe('int64');
    expect(Array.from(reg['two'].values({ flow: true }))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const empty = read('empty_storage.json');
    expect(Object.values(empty).map((h) => h.storage.kind)).toEqual([
      'int64',
      'double',
      'weight',
      'mean',
      'weighted_mean',
    ]);
    expect(empty['empty_weighted'].sum({ flow: true }).value).toBe(0);
    expect(read('noaxes.json')['one'].sum().value).toBe(1);
    const mean = read('mean.json');
    const m = mean['mean'];
    expect(Array.from(m.counts({ flow: true }))).toEqual([0, 3.9000000000000004, 0.6, 0, 0, 0]);
    expect(m.values({ flow: true })[1]).toBe(5.6923076923076925);
    expect(m.sampleVariances({ flow: true })[1]).toBeCloseTo(0.28647214854111386, 14);
    const wm = mean['weighted_mean'];
    expect(wm.sampleVariances({ flow: true })[1]).toBeCloseTo(0.4999999999999996, 13);
  });

  it('stringifyUHI writes NaN/Infinity as Python does and parseUHI reads them back, strings untouched', () => {
    const text = stringifyUHI({ a: [NaN, Infinity, -Infinity, 1], s: 'NaN Infinity "x"' });
    expect(text).toBe('{"a":[NaN,Infinity,-Infinity,1],"s":"NaN Infinity \\"x\\""}');
    expect(parseUHI(text)).toEqual({ a: [NaN, Infinity, -Infinity, 1], s: 'NaN Infinity "x"' });
  });

  it('rejects what it cannot rebuild, saying what to do', () => {
    expect(() => fromUHI({ axes: [], storage: { type: 'bogus' } })).toThrow(/unknown UHI storage type "bogus"/);
    expect(() =>
      fromUHI({
        axes: [{ type: 'regular', lower: 0, upper: 1, bins: 2, underflow: true, overflow: true, circular: true }],
        storage: { type: 'double' },
      }),
    ).toThrow(/circular axes are not supported/);
    expect(() =>
      fromUHI({
        axes: [{ type: 'regular', lower: 0, upper: 1, bins: 2, underflow: true, overflow: true, circular: false }],
        storage: { type: 'double', values: [1, 2] },
      }),
    ).toThrow("storage 'values': axis 0 has 2 entries, expected 4 (flow bins included)");
    expect(() => fromUHI({ one: {} })).toThrow(/fromUHIDocument/);
  });
});

describe('binary form', () => {
  it('round-trips every storage bit for bit through the registered decoder', () => {
    for (const axisKind of Object.keys(axes()) as (keyof ReturnType<typeof axes>)[])
      for (const storage of Object.keys(storages)) {
        const h = filled(axisKind, storage);
        const { header, buffers } = h.toBinaryParts();
        // what a transport does: JSON header, bytes copied into a fresh unaligned buffer
        const moved = buffers.map((b) => {
          const raw = new Uint8Array(b.byteLength + 1);
          raw.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), 1);
          return raw.subarray(1);
        });
        const back = binaryDecoder(h.binaryTag)(JSON.parse(JSON.stringify(header)), moved) as Hist;
        expect(back).toBeInstanceOf(Hist);
        expect(back.incompatibility(h)).toBeNull();
        expect([back.entries, back.varianceKnown, back.name, back.label, back.metadata]).toEqual([
          h.entries,
          h.varianceKnown,
          h.name,
          h.label,
          h.metadata,
        ]);
        for (const f of h.storage.fields)
          expect(Buffer.from(back.field(f).buffer).equals(Buffer.from(h.field(f).buffer))).toBe(true);
        // the decoded histogram merges with the original
        expect(back.add(h).sum({ flow: true }).count).toBeGreaterThan(0);
      }
  });

  it('refuses buffers of the wrong size', () => {
    const h = new Hist(new Regular(3, 0, 1));
    const { header } = h.toBinaryParts();
    expect(() => Hist.fromBinaryParts(header, [new Float64Array(4)])).toThrow(
      'buffer 0 has 32 bytes, expected 40 (5 bins)',
    );
  });
});
