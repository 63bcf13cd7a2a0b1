/**
 * One error family for damaged ROOT baskets, whatever their codec: a flipped byte inside the compressed
 * stream of a basket fails the read with a CorruptBasketError naming the file, branch and basket, whose
 * cause is a CodecError (zlib, LZ4, ZSTD and LZMA alike; jsroot's LZMA decoder throws plain Errors, which
 * must not leak out as such). The damage is made in the first basket of every branch of real files, at places
 * found by walking the files' own key records, and each branch is read on its own.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/io/codecs/errors.ts';
import { CorruptBasketError } from '../../../src/io/root/errors.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { sharedPath } from '../../shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-damaged-baskets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface StoredBasket {
  /** The branch named in the basket's key. */
  readonly branch: string;
  /** File offset of the compressed payload (after the key). */
  readonly payload: number;
  readonly payloadBytes: number;
}

/** The compressed TBasket records of a ROOT file (stored size below the object length). */
function compressedBaskets(b: Uint8Array): StoredBasket[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: StoredBasket[] = [];
  for (let p = dv.getInt32(8); p + 18 < b.length; ) {
    const nbytes = dv.getInt32(p);
    if (nbytes === 0) break;
    if (nbytes < 0) {
      p -= nbytes; // a free gap
      continue;
    }
    const objlen = dv.getInt32(p + 6);
    const keylen = dv.getInt16(p + 14);
    const classAt = p + 18 + (dv.getInt16(p + 4) > 1000 ? 16 : 8);
    const text = (at: number) => Buffer.from(b.subarray(at + 1, at + 1 + b[at])).toString('latin1');
    if (text(classAt) === 'TBasket' && nbytes - keylen < objlen)
      out.push({ branch: text(classAt + 1 + b[classAt]), payload: p + keylen, payloadBytes: nbytes - keylen });
    p += nbytes;
  }
  return out;
}

/** The ROOT block tag each codec writes (the first two bytes of a compressed payload). */
const TAGS: Record<string, string> = { zlib: 'ZL', lz4: 'L4', zstd: 'ZS', lzma: 'XZ' };

describe('a flipped byte in a compressed basket → CorruptBasketError caused by a CodecError', () => {
  // ROOT writes zlib with its adler-32, LZ4 with an XXH64 of each block and xz with a CRC-32, so every
  // flip in those streams is caught. ROOT's ZSTD frames carry no checksum: a flip in their entropy-coded
  // data may decode to other numbers, so for ZSTD the flip is put in the frame header's descriptor
  // byte (reserved bit set), which libzstd must refuse.
  for (const codec of ['zlib', 'lz4', 'zstd', 'lzma']) {
    it(`${codec}: the first basket of every branch, read branch by branch`, async () => {
      const b = new Uint8Array(readFileSync(sharedPath('data', `uproot-HZZ-${codec}.root`)));
      const baskets = compressedBaskets(b);
      expect(baskets.length).toBeGreaterThan(40);
      const branches = new Set<string>();
      for (const k of baskets) {
        expect(String.fromCharCode(b[k.payload], b[k.payload + 1])).toBe(TAGS[codec]);
        // The first basket of each branch in the file (its basket 0: ROOT writes a branch's baskets in order).
        if (branches.has(k.branch)) continue;
        branches.add(k.branch);
        if (codec === 'zstd')
          b[k.payload + 9 + 4] |= 0x08; // frame header descriptor, reserved bit 3
        else b[k.payload + 9 + Math.floor((k.payloadBytes - 9) / 2)] ^= 0x5a; // inside the compressed stream
      }
      const path = join(dir, `flipped-${codec}.root`);
      writeFileSync(path, b);
      const r = await openRoot(path, { treeName: 'events' });
      try {
        for (const branch of branches) {
          const e = await r.read([branch], 0, r.numEntries).then(
            () => new Error(`reading ${branch} of ${path} did not fail`),
            (x: unknown) => x,
          );
          expect(e, branch).toBeInstanceOf(CorruptBasketError);
          expect((e as Error).message).toContain(`branch '${branch}' of tree 'events' in ${path}, basket 0`);
          expect((e as CorruptBasketError).context).toMatchObject({ file: path, branch, basket: 0 });
          expect((e as Error).cause, `${branch}: ${(e as Error).message}`).toBeInstanceOf(CodecError);
          expect(((e as Error).cause as CodecError).context.codec).toBe(codec);
        }
      } finally {
        await r.close();
      }
    });
  }
});
