/**
 * zlib streams inflated into the caller's array (src/io/codecs/inflate.ts): every real ZL block of
 * uproot-HZZ-zlib.root gives node:zlib's `inflateSync` bytes, in place inside a larger array without
 * touching the bytes before it or past the room given; raw deflate (ROOT's old CS blocks) too; a damaged or cut stream, or one
 * longer than the room given, throws zlib's error and the next stream still inflates right (the handle is
 * replaced). The `inflateSync` + copy fallback keeps the same contract.
 */
import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/io/codecs/errors.ts';
import { inflateCopy, inflateInto, inflaterKind } from '../../../src/io/codecs/inflate.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { sharedPath } from '../../shared.ts';

const HZZ_ZLIB = sharedPath('data', 'uproot-HZZ-zlib.root');

interface Block {
  at: number;
  /** The zlib stream (after ROOT's 9-byte block header), a view into the file's bytes. */
  body: Uint8Array;
  size: number;
}

/** Every ZL block of every compressed basket of the file, located from the baskets' keys. */
async function zlibBlocks(file: string): Promise<Block[]> {
  const bytes = readFileSync(file);
  const r = await openRoot(file, { treeName: 'events' });
  const out: Block[] = [];
  try {
    for (const { name } of r.branches()) {
      for (const b of r.branchMeta(name).baskets) {
        const keylen = bytes.readInt16BE(b.seek + 14);
        if (bytes.readInt32BE(b.seek + 6) === b.bytes - keylen) continue; // stored uncompressed
        for (let s = b.seek + keylen; s < b.seek + b.bytes; ) {
          const csize = bytes[s + 3] | (bytes[s + 4] << 8) | (bytes[s + 5] << 16);
          const usize = bytes[s + 6] | (bytes[s + 7] << 8) | (bytes[s + 8] << 16);
          if (bytes.toString('latin1', s, s + 2) === 'ZL')
            out.push({ at: s, body: bytes.subarray(s + 9, s + 9 + csize), size: usize });
          s += 9 + csize;
        }
      }
    }
  } finally {
    await r.close();
  }
  return out;
}

/**
 * `inflate` of `body` into the middle of a larger array with 64 bytes of room: the bytes before it and
 * past the room must stay as they were (zlib may scribble in the room itself).
 */
function inPlace(
  inflate: typeof inflateInto,
  body: Uint8Array,
  size: number,
  raw = false,
): { got: number; bytes: Buffer; around: boolean } {
  const room = 64;
  const buf = new Uint8Array(10 + size + room + 10).fill(0xee);
  const got = inflate(body, buf.subarray(0, 10 + size + room), 10, raw);
  const around = [...buf.subarray(0, 10), ...buf.subarray(10 + size + room)].every((x) => x === 0xee);
  return { got, bytes: Buffer.from(buf.subarray(10, 10 + got)), around };
}

describe('inflateInto', () => {
  let blocks: Block[] = [];
  beforeAll(async () => {
    blocks = await zlibBlocks(HZZ_ZLIB);
  });

  it('inflates every real ZL block of uproot-HZZ-zlib.root as inflateSync does, in place', () => {
    expect(blocks.length).toBeGreaterThan(40);
    let total = 0;
    for (const b of blocks) {
      const want = inflateSync(b.body);
      expect(want.length, `block @${b.at}`).toBe(b.size);
      for (const inflate of [inflateInto, inflateCopy]) {
        const { got, bytes, around } = inPlace(inflate, b.body, b.size);
        expect(got, `block @${b.at}`).toBe(b.size);
        expect(bytes.equals(want), `block @${b.at}`).toBe(true);
        expect(around, `block @${b.at}`).toBe(true);
      }
      total += b.size;
    }
    expect(total).toBeGreaterThan(100_000);
    // On the Node versions Ristretto supports, the reused handle is what runs (not the fallback).
    expect(inflaterKind()).toBe('handle');
  });

  it('inflates raw deflate (ROOT’s old CS blocks) of the same baskets', () => {
    for (const b of blocks.slice(0, 20)) {
      const data = inflateSync(b.body);
      const raw = deflateRawSync(data);
      for (const inflate of [inflateInto, inflateCopy]) {
        const { got, bytes } = inPlace(inflate, raw, data.length, true);
        expect(got).toBe(data.length);
        expect(bytes.equals(data)).toBe(true);
      }
    }
  });

  it('a damaged, cut or too long stream throws a CodecError with zlib’s message; the next inflates right', () => {
    const b = blocks.reduce((x, y) => (y.size > x.size ? y : x));
    const want = inflateSync(b.body);
    const flipped = Uint8Array.from(b.body);
    flipped[flipped.length - 1] ^= 0x01; // the adler32 checksum
    const damaged: [string, Uint8Array, number][] = [
      ['adler32', flipped, b.size + 64],
      ['cut', b.body.subarray(0, b.body.length - 20), b.size + 64],
      ['room', b.body, b.size - 1],
    ];
    for (const inflate of [inflateInto, inflateCopy]) {
      for (const [what, body, room] of damaged) {
        expect(() => inflate(body, new Uint8Array(room)), what).toThrow(CodecError);
        const out = new Uint8Array(b.size + 64);
        expect(inflate(b.body, out), `after ${what}`).toBe(b.size);
        expect(Buffer.from(out.subarray(0, b.size)).equals(want), `after ${what}`).toBe(true);
      }
    }
    for (const inflate of [inflateInto, inflateCopy]) {
      const err = (() => {
        try {
          inflate(flipped, new Uint8Array(b.size + 64));
        } catch (e) {
          return e as CodecError;
        }
      })();
      expect(err).toBeInstanceOf(CodecError);
      expect(err?.message).toMatch(/incorrect data check/);
      expect(err?.context.code).toBe('Z_DATA_ERROR');
    }
  });
});
