/**
 * LZ4 through src/io/codecs/lz4.ts: the native decoder (lz4-napi, an optional dependency) and the JS
 * fallback decode the real LZ4 baskets of uproot-HZZ-lz4.root byte for byte alike; RISTRETTO_CODECS=js
 * forces the fallback in a real reader process, which reads the same arrays as the uncompressed file;
 * a worker thread loads the native decoder on its own; and damaged blocks give the same typed errors
 * both ways (Lz4FormatError, and for a file whose checksums were made to match, the same reader error
 * naming the same branch and basket).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/io/codecs/errors.ts';
import { LZ4_NATIVE_MIN_BYTES, lz4Decompress, lz4DecompressInto, lz4Decoder } from '../../../src/io/codecs/lz4.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { lz4DecodeBlock, Lz4FormatError } from '../../../src/io/root/lz4.ts';
import { xxh64 } from '../../../src/io/root/xxhash64.ts';
import { repoRoot, sharedPath } from '../../shared.ts';

const HZZ_LZ4 = sharedPath('data', 'uproot-HZZ-lz4.root');
const HZZ_RAW = sharedPath('data', 'uproot-HZZ-uncompressed.root');
const CHILD = join(repoRoot, 'test', 'io', 'codecs', 'fixtures', 'read-root.ts');
const dir = mkdtempSync(join(tmpdir(), 'ristretto-lz4-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether lz4-napi is installed here (npm ci installs it where a prebuilt package exists). */
const nativeInstalled = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('lz4-napi');
    return true;
  } catch {
    return false;
  }
})();

interface Block {
  /** Byte offset in the file of the block's 9-byte ROOT header. */
  at: number;
  /** The LZ4 block (after ROOT's 8-byte XXH64), a view into the file's bytes. */
  body: Uint8Array;
  size: number;
  branch: string;
}

/** Every L4 block of every compressed basket of the file, located from the baskets' keys. */
async function lz4Blocks(file: string): Promise<Block[]> {
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
          if (bytes.toString('latin1', s, s + 2) === 'L4')
            out.push({ at: s, body: bytes.subarray(s + 17, s + 9 + csize), size: usize, branch: name });
          s += 9 + csize;
        }
      }
    }
  } finally {
    await r.close();
  }
  return out;
}

function runChild(file: string, env: Record<string, string>): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, file], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out) as Record<string, unknown>;
}

describe('LZ4 decoders', () => {
  it.skipIf(!nativeInstalled)('uses lz4-napi where it is installed', () => {
    expect(lz4Decoder()).toBe('native');
  });

  it('decode every real LZ4 block of uproot-HZZ-lz4.root byte-identically, native and JS', async () => {
    const blocks = await lz4Blocks(HZZ_LZ4);
    expect(blocks.length).toBeGreaterThan(40);
    // Enough of them large enough for the native decoder (small ones decode in JS either way).
    expect(blocks.filter((b) => b.size >= LZ4_NATIVE_MIN_BYTES).length).toBeGreaterThan(20);
    let total = 0;
    for (const b of blocks) {
      const js = new Uint8Array(b.size);
      expect(lz4DecodeBlock(b.body, js), `${b.branch} @${b.at}`).toBe(b.size);
      // Decode into the middle of a larger array, as multi-block baskets do; the bytes around stay.
      const mid = new Uint8Array(b.size + 20).fill(0xee);
      expect(lz4DecompressInto(b.body, mid.subarray(0, 10 + b.size), 10), `${b.branch} @${b.at}`).toBe(b.size);
      expect(Buffer.from(mid.subarray(10, 10 + b.size)).equals(js), `${b.branch} @${b.at}`).toBe(true);
      expect([...mid.subarray(0, 10), ...mid.subarray(10 + b.size)].every((x) => x === 0xee)).toBe(true);
      // And into an array of its own (what single-block baskets use).
      expect(Buffer.from(lz4Decompress(b.body, b.size)).equals(js), `${b.branch} @${b.at}`).toBe(true);
      total += b.size;
    }
    expect(total).toBeGreaterThan(100_000);
  });

  it('RISTRETTO_CODECS=js forces the JS decoder; both read the arrays of the uncompressed file', () => {
    const js = runChild(HZZ_LZ4, { RISTRETTO_CODECS: 'js' });
    const auto = runChild(HZZ_LZ4, { RISTRETTO_CODECS: '' });
    const raw = runChild(HZZ_RAW, {});
    expect(js.decoders).toEqual({ lz4: 'js (RISTRETTO_CODECS=js)' });
    if (nativeInstalled) expect(auto.decoders).toEqual({ lz4: 'native (lz4-napi)' });
    expect(raw.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(js.hash).toBe(raw.hash);
    expect(auto.hash).toBe(raw.hash);
  }, 300_000);

  it('a worker thread loads its own decoder and reads the same arrays', async () => {
    const got = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const w = new Worker(new URL('./fixtures/read-root-worker.mjs', import.meta.url), {
        workerData: { file: HZZ_LZ4 },
      });
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
    });
    expect(got.hash).toBe(runChild(HZZ_RAW, {}).hash);
    expect(got.decoders).toEqual({ lz4: nativeInstalled ? 'native (lz4-napi)' : expect.stringMatching(/^js /) });
  }, 300_000);

  it('damaged blocks throw Lz4FormatError (a CodecError) from both decoders', async () => {
    const b =
      (await lz4Blocks(HZZ_LZ4)).find((x) => x.size > LZ4_NATIVE_MIN_BYTES + 100) ??
      expect.unreachable('no large block');
    // Output arrays of at least LZ4_NATIVE_MIN_BYTES, so that the native decoder is the one that runs.
    const room = (n: number): number => Math.max(n, LZ4_NATIVE_MIN_BYTES);
    const damaged: [string, Uint8Array, number][] = [
      ['cut short', b.body.subarray(0, b.body.length >> 1), b.size],
      ['output does not fit', b.body, b.size - 100],
      ['match before the start', Uint8Array.of(0x14, 0x61, 0xff, 0x00, 0x50, 1, 2, 3, 4, 5), room(64)],
      ['literal length past the end', Uint8Array.of(0xf0, 0xff, 0xff, 0x10), room(64)],
    ];
    for (const [what, src, size] of damaged) {
      const errs = [
        () => lz4DecodeBlock(src, new Uint8Array(size)),
        () => lz4DecompressInto(src, new Uint8Array(size)),
        () => {
          if (lz4Decompress(src, size).length !== size) throw new Lz4FormatError('short');
        },
      ].map((f) => {
        try {
          f();
        } catch (e) {
          return e;
        }
        return undefined;
      });
      for (const e of errs) {
        // A block cut short may still decode to fewer bytes: then the caller's length check fails it.
        if (e === undefined && what === 'cut short') continue;
        expect(e, what).toBeInstanceOf(Lz4FormatError);
        expect(e, what).toBeInstanceOf(CodecError);
        expect((e as CodecError).context, what).toEqual({ codec: 'lz4' });
      }
    }
  });

  it('a damaged block whose checksum matches gives the same reader error both ways', async () => {
    // Make the first LZ4 block of a Muon_Px basket start with a literal run longer than the block
    // (token 0xf0, then 200 length bytes of 255), then recompute ROOT's XXH64 of the block so that only
    // the LZ4 decoder can notice.
    const b = (await lz4Blocks(HZZ_LZ4)).find((x) => x.branch === 'Muon_Px') ?? expect.unreachable('no Muon_Px');
    const copy = Buffer.from(readFileSync(HZZ_LZ4));
    const body = b.at + 17;
    expect(b.body.length).toBeGreaterThan(1000);
    copy[body] = 0xf0;
    copy.fill(0xff, body + 1, body + 201);
    const [hi, lo] = xxh64(copy.subarray(body, b.at + 9 + (b.body.length + 8)));
    copy.writeUInt32BE(hi, b.at + 9);
    copy.writeUInt32BE(lo, b.at + 13);
    const path = join(dir, 'damaged-lz4.root');
    writeFileSync(path, copy);
    const js = runChild(path, { RISTRETTO_CODECS: 'js' }).error as Record<string, unknown>;
    const auto = runChild(path, { RISTRETTO_CODECS: '' }).error as Record<string, unknown>;
    expect(js, 'JS decoder').toBeDefined();
    expect(auto, 'default decoder').toBeDefined();
    expect(js.chain).toContain('Lz4FormatError');
    // The native decoder's own error is kept as the cause of its Lz4FormatError.
    expect((auto.chain as string[]).slice(0, (js.chain as string[]).length)).toEqual(js.chain);
    expect(auto.context).toEqual(js.context);
    expect(js.context).toMatchObject({ branch: 'Muon_Px' });
    expect(String(js.message)).toContain('damaged-lz4.root');
  }, 300_000);
});
