/**
 * The writer's codecs against the reader's independent decoders: every payload framed by
 * rootCompress must come back byte for byte through rootDecompress (which checks zlib's adler32 and
 * the XXH64 of each LZ4 block), including multi-block payloads and incompressible data.
 */
import { describe, expect, it } from 'vitest';
import { rootDecompress } from '../../../src/io/root/compression.ts';
import { lz4DecodeBlock } from '../../../src/io/root/lz4.ts';
import { lz4EncodeBlock, rootCompress } from '../../../src/io/root-write/compress.ts';
import { rng as seeded } from '../../helpers/rng.ts';

function samples(): [string, Uint8Array][] {
  const rng = seeded(7);
  const random = Uint8Array.from({ length: 5000 }, () => Math.floor(rng() * 256));
  const floats = new Uint8Array(Float32Array.from({ length: 30000 }, (_, i) => Math.round(rng() * 50) / 4 + (i % 7)).buffer);
  const runs = new Uint8Array(70000).map((_, i) => (i >> 9) & 3);
  const short = Uint8Array.of(1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3);
  return [['random', random], ['floats', floats], ['runs', runs], ['short', short], ['empty', new Uint8Array(0)]];
}

describe('ROOT compression framing', () => {
  it('LZ4 blocks decode to their input', () => {
    for (const [name, data] of samples()) {
      const block = lz4EncodeBlock(data);
      const out = new Uint8Array(data.length);
      expect(lz4DecodeBlock(block, out), name).toBe(data.length);
      expect(Buffer.from(out).equals(Buffer.from(data)), name).toBe(true);
    }
  });

  it('zlib and LZ4 payloads decompress to their input; incompressible ones are stored', async () => {
    for (const codec of ['zlib', 'lz4'] as const) {
      for (const [name, data] of samples()) {
        const stored = rootCompress(data, { codec, level: 4 });
        // a reader tells stored from compressed by the sizes, as for a key or basket
        const back = stored.length === data.length ? stored : await rootDecompress(stored, data.length);
        expect(Buffer.from(back).equals(Buffer.from(data)), `${codec} ${name}`).toBe(true);
        if (name === 'random') expect(stored, 'random bytes stay uncompressed').toBe(data);
        if (name === 'runs') expect(stored.length).toBeLessThan(data.length / 10);
      }
    }
  });

  it('payloads over 16 MiB are cut into blocks that each fit the 3-byte sizes', async () => {
    const data = new Uint8Array(0xffffff + 100_000).map((_, i) => (i * 31) & 0x3f);
    const stored = rootCompress(data, { codec: 'lz4', level: 1 });
    expect(String.fromCharCode(stored[0]!, stored[1]!)).toBe('L4');
    const back = await rootDecompress(stored, data.length);
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
  });
});
