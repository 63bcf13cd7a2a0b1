import fc from 'fast-check';
import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  ColumnAccumulator,
  UnknownBinaryTypeError,
  WeightStatistics,
  accumulate,
  decode,
  encode,
} from '../../src/accumulate/index.ts';
import { normalize } from './fixtures/arbitraries.ts';
import { TestHist } from './fixtures/test-hist.ts';

const typedArb = fc.oneof(
  fc.int8Array(),
  fc.uint8Array(),
  fc.uint8ClampedArray(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.int32Array(),
  fc.uint32Array(),
  fc.float32Array(),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.bigUint64Array(),
);

/** Any encodable value: every number (NaN, ±Infinity, -0), odd strings, "__proto__" keys, every kind. */
const { anything } = fc.letrec((tie) => ({
  anything: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, Number.MIN_VALUE),
    fc.bigInt(),
    fc.string({ unit: 'binary' }),
    fc.boolean(),
    fc.constantFrom(null, undefined),
    typedArb,
    typedArb.filter((t) => !(t instanceof Uint8ClampedArray)).map((t) => ColumnAccumulator.from(t as Float64Array)),
    fc.float64Array({ maxLength: 6 }).map((c) => new TestHist('τ', c)),
    fc.array(tie('anything'), { maxLength: 4 }),
    fc
      .uniqueArray(fc.tuple(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '')), tie('anything')), {
        selector: (t) => t[0],
        maxLength: 4,
      })
      .map((entries) => {
        const o: Record<string, unknown> = {};
        for (const [k, v] of entries)
          Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        return o;
      }),
    fc
      .array(fc.tuple(fc.oneof(fc.string(), fc.double(), fc.bigInt(), fc.constant(null)), tie('anything')), {
        maxLength: 4,
      })
      .map((e) => new Map(e)),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(NaN)), { maxLength: 4 }).map((e) => new Set(e)),
  ),
}));

describe('encode/decode', () => {
  it('round-trips every supported value exactly (structure and bytes)', () => {
    fc.assert(
      fc.property(anything, (x) => {
        const bytes = encode(x);
        const back = decode(bytes);
        expect(normalizeForCodec(back)).toEqual(normalizeForCodec(x));
        expect(encode(back)).toEqual(bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps NaN, ±Infinity and -0 as numbers, Map keys and object prototypes', () => {
    const x = {
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      nz: -0,
      big: -(2n ** 100n),
      m: new Map<unknown, unknown>([
        [-Infinity, 1],
        [NaN, 2],
        [10n, 3],
      ]),
    };
    const back = decode(encode(x)) as typeof x;
    expect(Object.is(back.nz, -0)).toBe(true);
    expect(back).toEqual(x);
    const bare = Object.assign(Object.create(null), { a: 1 });
    expect(Object.getPrototypeOf(decode(encode(bare)))).toBeNull();
    const proto = JSON.parse('{"__proto__": 5}');
    const backProto = decode(encode(proto)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(backProto)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(backProto, '__proto__')?.value).toBe(5);
  });

  it('lays arrays out 8-byte aligned and decodes them as zero-copy views', () => {
    const base = new Uint8Array(64).map((_, i) => i);
    const x = { a: base.subarray(3, 8), b: new Float64Array(base.buffer, 8, 3), c: Int16Array.of(-1, 2, 3) };
    const bytes = encode(x);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    const back = decode(bytes) as Record<string, ArrayBufferView>;
    for (const v of Object.values(back)) {
      expect(v.buffer).toBe(bytes.buffer);
      expect(v.byteOffset % 8).toBe(0);
    }
    expect(back.a).toEqual(Uint8Array.of(3, 4, 5, 6, 7));
    expect(back.b).toEqual(x.b);
    const copied = decode(bytes, { copy: true }) as Record<string, ArrayBufferView>;
    expect(copied.c.buffer).not.toBe(bytes.buffer);
    expect(copied).toEqual(back);
  });

  it('writes zero padding (deterministic output, no stale memory)', () => {
    for (let i = 0; i < 20; i++) {
      const bytes = encode({ a: Uint8Array.of(0xaa), b: Uint8Array.of(0xbb), s: 'x'.repeat(i) });
      const back = decode(bytes) as { a: Uint8Array; b: Uint8Array };
      const jsonEnd = 24 + new DataView(bytes.buffer).getUint32(8, true);
      const nonZero = [...bytes.keys()].filter((j) => j >= jsonEnd && bytes[j] !== 0);
      expect(nonZero).toEqual([back.a.byteOffset, back.b.byteOffset]);
      expect(bytes.length - back.b.byteOffset).toBe(8);
    }
  });

  it('decodes bytes that sit at an unaligned offset of a larger buffer', () => {
    const bytes = encode({ t: Float64Array.of(1.5, -2), n: 3 });
    const host = new Uint8Array(bytes.length + 5);
    host.set(bytes, 3);
    expect(decode(host.subarray(3, 3 + bytes.length))).toEqual({ t: Float64Array.of(1.5, -2), n: 3 });
  });

  it('rebuilds registered types through their decoders, and merging the result works', () => {
    const acc = {
      h: TestHist.of('mass', 1, 2, 3),
      stats: new WeightStatistics().fill([0.5, 2]),
      col: ColumnAccumulator.from(Float32Array.of(4)),
    };
    const back = decode(encode(acc)) as typeof acc;
    expect(back.h).toBeInstanceOf(TestHist);
    expect(back.stats).toBeInstanceOf(WeightStatistics);
    expect(back.stats.max).toBe(2);
    const total = accumulate(back, acc);
    expect(Array.from(total.h.counts)).toEqual([2, 4, 6]);
    expect(total.col.toArray()).toEqual(Float32Array.of(4, 4));
    expect(Array.from(acc.h.counts)).toEqual([1, 2, 3]);
  });

  it('refuses values it cannot encode, naming the key path', () => {
    expect(() => encode({ a: { when: new Date(0) } })).toThrow(/at "a\/when": cannot encode Date/);
    expect(() => encode({ f: () => 1 })).toThrow(CodecError);
    expect(() => encode([Symbol('x')])).toThrow(/at "0": cannot encode symbol/);
  });

  it('reports bad magic, truncation, a newer version and an unknown tag clearly', () => {
    const bytes = encode({ t: Float64Array.of(1, 2, 3) });
    expect(() => decode(new TextEncoder().encode('{"not": "ours"}....................'))).toThrow(
      /not an encoded Ristretto accumulator/,
    );
    expect(() => decode(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
    const future = bytes.slice();
    future[4] = 9;
    expect(() => decode(future)).toThrow(/version 9 is not supported/);
    const garbled = bytes.slice();
    garbled[24] = 0xff;
    expect(() => decode(garbled)).toThrow(/structure is not valid JSON/);

    class Unregistered {
      readonly binaryTag = 'test.NeverRegistered';
      toBinaryParts() {
        return { header: 1, buffers: [] };
      }
    }
    const err = (() => {
      try {
        decode(encode({ u: new Unregistered() }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UnknownBinaryTypeError);
    expect((err as Error).message).toMatch(/no binary decoder registered for type "test\.NeverRegistered"/);
    expect((err as Error).message).toMatch(/closest known: .*test\./);
  });

  it('can be transferred through a MessagePort without copying', async () => {
    const bytes = encode({ h: TestHist.of('h', 5, 6) });
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<Uint8Array>((resolve) => port2.once('message', resolve));
    port1.postMessage(bytes, [bytes.buffer]);
    const got = await received;
    port1.close();
    expect(bytes.byteLength).toBe(0); // detached: the buffer moved
    expect(Array.from((decode(got) as { h: TestHist }).h.counts)).toEqual([5, 6]);
  });

  it('carries accumulators built and encoded in real worker threads', async () => {
    const workerUrl = new URL('./fixtures/encode-worker.mjs', import.meta.url);
    const run = (seed: number) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const w = new Worker(workerUrl, { workerData: { seed } });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      });
    const results = await Promise.all([run(1), run(2)]);
    let total: unknown = null;
    for (const bytes of results) total = accumulate(total, decode(bytes));
    // The same values computed here, independently of the workers' encode path.
    const expected = { n: 1 + 2, h: TestHist.of('w', 1 + 2, 2 + 4, 3 + 6), ids: Int32Array.of(1, 10, 2, 20) };
    expect(normalize(total)).toEqual(normalize(expected));
  });
});

/** Sets and Maps with NaN compare fine; columns and hists become plain data. */
function normalizeForCodec(v: unknown): unknown {
  if (v instanceof ColumnAccumulator) return { column: v.kind, values: v.toArray() };
  if (v instanceof TestHist) return { hist: v.label, counts: v.counts };
  if (Array.isArray(v)) return v.map(normalizeForCodec);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, normalizeForCodec(x)]));
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof Set)) {
    const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(v));
    for (const k of Object.keys(v))
      Object.defineProperty(out, k, { value: normalizeForCodec((v as Record<string, unknown>)[k]), enumerable: true });
    return out;
  }
  return v;
}
