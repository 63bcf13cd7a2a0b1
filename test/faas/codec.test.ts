import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CodecError,
  decodeFrame,
  encodeFrame,
  fromTagged,
  packTagged,
  packValue,
  packedToTaggedJson,
  stringifyTagged,
  unpackValue,
} from '../../src/faas/codec.ts';
import { registerBinaryType } from '../../src/accumulate/protocol.ts';

describe('FaaS value codec', () => {
  const sample = () => ({
    f64: new Float64Array([1.5, -2, 1e300]),
    f32: new Float32Array([0.25, 3]),
    i32: Int32Array.from([0, -7, 2 ** 31 - 1]),
    bytes: Buffer.from('hello'),
    nested: [{ u8: new Uint8Array([1, 2, 3]) }, null, 'x'],
    map: new Map<string, unknown>([
      ['a', 1],
      ['b', new Set([1, 2])],
    ]),
    weird: [NaN, Infinity, -Infinity, 12345678901234567890n],
    user: { $type: 'mine', $$type: 'also mine', plain: 1 },
  });

  function expectSample(v: any): void {
    expect(v.f64).toBeInstanceOf(Float64Array);
    expect([...v.f64]).toEqual([1.5, -2, 1e300]);
    expect([...v.f32]).toEqual([0.25, 3]);
    expect(v.i32).toBeInstanceOf(Int32Array);
    expect([...v.i32]).toEqual([0, -7, 2 ** 31 - 1]);
    expect(v.bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(v.bytes).toString()).toBe('hello');
    expect([...v.nested[0].u8]).toEqual([1, 2, 3]);
    expect(v.nested.slice(1)).toEqual([null, 'x']);
    expect(v.map).toBeInstanceOf(Map);
    expect(v.map.get('a')).toBe(1);
    expect([...v.map.get('b')]).toEqual([1, 2]);
    expect(v.weird[0]).toBeNaN();
    expect(v.weird.slice(1)).toEqual([Infinity, -Infinity, 12345678901234567890n]);
    expect(v.user).toEqual({ $type: 'mine', $$type: 'also mine', plain: 1 });
  }

  it('packs and unpacks JSON plus typed arrays, Buffers, Maps, Sets, non-finite numbers, BigInts', () => {
    expectSample(unpackValue(packValue(sample())));
  });

  it('keeps typed array bytes raw in packed frames (no base64 or JSON numbers)', () => {
    const big = new Float64Array(50_000).map((_, i) => i * 0.5);
    const packed = packValue({ big });
    // 400,000 data bytes plus a short header: base64 would be 533,336 bytes.
    expect(packed.byteLength).toBeLessThan(400_000 + 200);
    const back = unpackValue(packed) as { big: Float64Array };
    expect(back.big[49_999]).toBe(49_999 * 0.5);
  });

  it('tagged JSON (HTTP) and packed frames (WebSocket, database) convert structurally both ways', () => {
    // Client → HTTP body → service packs → endpoint unpacks.
    const viaService = unpackValue(packTagged(JSON.parse(stringifyTagged(sample()))));
    expectSample(viaService);
    // Endpoint packs → service answers HTTP → client decodes.
    expectSample(fromTagged(JSON.parse(packedToTaggedJson(packValue(sample())))));
  });

  it('distinguishes undefined from null', () => {
    expect(unpackValue(packValue(undefined))).toBeUndefined();
    expect(unpackValue(packValue(null))).toBeNull();
  });

  it('round-trips BinarySerializable objects through the accumulate registry', () => {
    class Counts {
      readonly binaryTag = 'test.faas.Counts';
      constructor(
        readonly label: string,
        readonly values: Float64Array,
      ) {}
      toBinaryParts() {
        return { header: { label: this.label }, buffers: [this.values] };
      }
    }
    registerBinaryType('test.faas.Counts', (h, b) => new Counts((h as { label: string }).label, b[0] as Float64Array));
    const back = unpackValue(packValue({ h: new Counts('pt', new Float64Array([1, 2, 3])) })) as { h: Counts };
    expect(back.h).toBeInstanceOf(Counts);
    expect(back.h.label).toBe('pt');
    expect([...back.h.values]).toEqual([1, 2, 3]);
  });

  it('round-trips arbitrary JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        // JSON itself turns -0 into 0; compare against what JSON would give.
        expect(unpackValue(packValue(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 200 },
    );
  });

  it('frames carry a header and blobs; truncated frames fail with CodecError', () => {
    const f = encodeFrame({ a: 1 }, [new Uint8Array([9, 8]), new Uint8Array(0), new Uint8Array([7])]);
    const { header, blobs } = decodeFrame(f);
    expect(header).toEqual({ a: 1 });
    expect(blobs.map((b) => [...b])).toEqual([[9, 8], [], [7]]);
    expect(() => decodeFrame(f.subarray(0, f.length - 1))).toThrow(CodecError);
    expect(() => decodeFrame(new Uint8Array(3))).toThrow(/too short/);
  });
});
