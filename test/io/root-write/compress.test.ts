/**
 * The writer's codecs against the reader's independent decoders: every payload framed by
 * rootCompress must come back byte for byte through rootDecompress (which checks zlib's adler32 and
 * the XXH64 of each LZ4 block), including multi-block payloads and incompressible data.
 */
import { readFileSync } from 'node:fs';
import { decompress as fzstdDecompress } from 'fzstd';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { rootDecompress } from '../../../src/io/root/compression.ts';
import { lz4DecodeBlock } from '../../../src/io/root/lz4.ts';
import { lz4EncodeBlock, prepareCompression, rootCompress } from '../../../src/io/root-write/compress.ts';
import { rng as seeded } from '../../helpers/rng.ts';
import { tempDir } from '../../helpers/files.ts';
import { sharedPath } from '../../shared.ts';

function samples(): [string, Uint8Array][] {
  const rng = seeded(7);
  const random = Uint8Array.from({ length: 5000 }, () => Math.floor(rng() * 256));
  const floats = new Uint8Array(
    Float32Array.from({ length: 30000 }, (_, i) => Math.round(rng() * 50) / 4 + (i % 7)).buffer,
  );
  const runs = new Uint8Array(70000).map((_, i) => (i >> 9) & 3);
  const short = Uint8Array.of(1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3);
  return [
    ['random', random],
    ['floats', floats],
    ['runs', runs],
    ['short', short],
    ['empty', new Uint8Array(0)],
  ];
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

  it('zlib, LZ4 and ZSTD payloads decompress to their input; incompressible ones are stored', async () => {
    await prepareCompression({ codec: 'zstd', level: 5 });
    for (const codec of ['zlib', 'lz4', 'zstd'] as const) {
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
    expect(String.fromCharCode(stored[0], stored[1])).toBe('L4');
    const back = await rootDecompress(stored, data.length);
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
  });

  it('ZSTD payloads over 16 MiB: several blocks, each one zstd frame that plain zstd decodes', async () => {
    await prepareCompression({ codec: 'zstd', level: 5 });
    const data = new Uint8Array(2 * 0xffffff + 1234).map((_, i) => (i * 31) & 0x3f);
    const stored = rootCompress(data, { codec: 'zstd', level: 5 });
    expect(stored.length).toBeLessThan(data.length / 100);
    // walk the block headers by hand: 3 blocks of 0xffffff, 0xffffff, 1234 uncompressed bytes
    const sizes: number[] = [];
    let s = 0;
    while (s < stored.length) {
      expect([stored[s], stored[s + 1], stored[s + 2]], `header at ${s}`).toEqual([0x5a, 0x53, 1]);
      const c = stored[s + 3] | (stored[s + 4] << 8) | (stored[s + 5] << 16);
      const u = stored[s + 6] | (stored[s + 7] << 8) | (stored[s + 8] << 16);
      const frame = stored.subarray(s + 9, s + 9 + c);
      expect([frame[0], frame[1], frame[2], frame[3]], 'zstd frame magic').toEqual([0x28, 0xb5, 0x2f, 0xfd]);
      expect(fzstdDecompress(frame).length).toBe(u);
      sizes.push(u);
      s += 9 + c;
    }
    expect(sizes).toEqual([0xffffff, 0xffffff, 1234]);
    const back = await rootDecompress(stored, data.length);
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
  });

  it('ZSTD block headers carry the same tag and method byte as a ZSTD file ROOT tools wrote', async () => {
    // the reference file's first ZSTD block: 'Z' 'S' then the method byte; ours must match it
    const ref = readFileSync(sharedPath('data', 'uproot-HZZ-zstd.root'));
    const at = ref.indexOf(Buffer.from([0x5a, 0x53]), 100);
    expect(at).toBeGreaterThan(0);
    expect(
      [ref[at + 9], ref[at + 10], ref[at + 11], ref[at + 12]],
      'a zstd frame follows the reference header',
    ).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    await prepareCompression({ codec: 'zstd', level: 5 });
    const ours = rootCompress(
      new Uint8Array(10_000).map((_, i) => i % 13),
      { codec: 'zstd', level: 5 },
    );
    expect(Array.from(ours.subarray(0, 3))).toEqual(Array.from(ref.subarray(at, at + 3)));
  });
});

describe('ZSTD before its wasm is loaded', () => {
  let fresh: {
    compress: typeof import('../../../src/io/root-write/compress.ts');
    file: typeof import('../../../src/io/root-write/file.ts');
    zstd: typeof import('../../../src/io/root-write/zstd.ts');
  };
  const dir = tempDir('root-write-zstd');
  beforeAll(async () => {
    // a module registry of its own, so the wasm loaded by the tests above is not loaded here
    vi.resetModules();
    fresh = {
      compress: await import('../../../src/io/root-write/compress.ts'),
      file: await import('../../../src/io/root-write/file.ts'),
      zstd: await import('../../../src/io/root-write/zstd.ts'),
    };
  });

  it('rootCompress and the file writer refuse with typed errors saying what to call', async () => {
    expect(fresh.zstd.zstdReady()).toBe(false);
    const data = new Uint8Array(1000);
    expect(() => fresh.compress.rootCompress(data, { codec: 'zstd', level: 5 })).toThrow(
      fresh.zstd.ZstdUnavailableError,
    );
    expect(() => fresh.compress.rootCompress(data, { codec: 'zstd', level: 5 })).toThrow(/before its wasm was loaded/);
    const path = `${dir}/never.root`;
    expect(() => new fresh.file.RootFileWriter(path, { compression: { codec: 'zstd', level: 5 } })).toThrow(
      fresh.file.RootWriteError,
    );
    expect(() => new fresh.file.RootFileWriter(path, { compression: { codec: 'zstd', level: 5 } })).toThrow(
      /never\.root with zstd: the zstd wasm is not loaded/,
    );
    await fresh.compress.prepareCompression({ codec: 'zstd', level: 5 });
    expect(fresh.zstd.zstdReady()).toBe(true);
    expect(fresh.compress.rootCompress(data, { codec: 'zstd', level: 5 }).length).toBeLessThan(100);
  });
});
