/**
 * Codec checks the ROOT reader relies on to refuse damaged bytes rather than parse them: the CRC-32 of
 * ROOT's xz blocks (jsroot's LZMA decoder skips the container) and the adler-32 of zlib-compressed
 * metadata (jsroot inflates TTree objects without it; one flipped byte used to exhaust the heap).
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rootDecompress } from '../../../src/io/root/compression.ts';
import { RootFileError, openRoot } from '../../../src/io/root/index.ts';
import { sharedPath } from '../../shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-root-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compressed records (key payloads) of a ROOT file. */
function compressedRecords(b: Uint8Array): { payload: Uint8Array; objlen: number; at: number }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { payload: Uint8Array; objlen: number; at: number }[] = [];
  let p = dv.getInt32(8);
  while (p + 18 < b.length) {
    const n = dv.getInt32(p);
    if (n === 0) break;
    if (n < 0) {
      p -= n;
      continue;
    }
    const objlen = dv.getInt32(p + 6);
    const keylen = dv.getInt16(p + 14);
    if (objlen > n - keylen) out.push({ payload: b.slice(p + keylen, p + n), objlen, at: p + keylen });
    p += n;
  }
  return out;
}

describe('ROOT codec checks', () => {
  it('xz blocks: the stored CRC-32 is checked against the decoded bytes', async () => {
    const recs = compressedRecords(new Uint8Array(readFileSync(sharedPath('data', 'uproot-HZZ-lzma.root')))).filter(
      (r) => r.payload[0] === 0x58,
    );
    expect(recs.length).toBeGreaterThan(10);
    for (const r of recs.slice(0, 10)) {
      await expect(rootDecompress(r.payload, r.objlen)).resolves.toHaveLength(r.objlen);
      const xz = r.payload.subarray(9);
      const m = xz.length;
      const index = m - 12 - (new DataView(xz.buffer, xz.byteOffset, m).getUint32(m - 8, true) + 1) * 4;
      const bad = r.payload.slice();
      bad[9 + index - 4] ^= 0x01; // the check itself: the data decodes fine, the CRC disagrees
      await expect(rootDecompress(bad, r.objlen)).rejects.toThrow(/CRC-32/);
    }
  });

  it('a flipped byte in the zlib-compressed TTree is refused at open (it used to exhaust the heap)', async () => {
    const b = new Uint8Array(readFileSync(sharedPath('data', 'nano_dimuon.root')));
    b[309354] ^= 217; // inside the TTree record's deflate stream (found by test/io/damage-fuzz.test.ts)
    const copy = join(dir, 'tree-flip.root');
    writeFileSync(copy, b);
    const err = await openRoot(copy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RootFileError);
    expect((err as Error).message).toMatch(/tree-flip\.root/);
    expect((err as Error).message).toMatch(/damaged record \(metadata of tree 'Events'\)/);
  });
});
