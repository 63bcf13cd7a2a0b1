/**
 * LZ4 through src/io/codecs/lz4.ts: the WebAssembly decoder (lz4.wat) and the JS fallback decode the
 * real LZ4 baskets of uproot-HZZ-lz4.root byte for byte as lz4-napi (an independent decoder, lz4_flex,
 * where it is installed) does; damaged and randomly mutated blocks give the same outcome from both
 * decoders (the same bytes, or Lz4FormatError) and never touch the caller's array outside its room;
 * RISTRETTO_CODECS=js forces the fallback in a real reader process, which reads the same arrays as the
 * uncompressed file; a worker thread loads the wasm decoder on its own; and a damaged block whose
 * checksum was made to match gives the same reader error, naming branch and basket, both ways.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/io/codecs/errors.ts';
import { lz4Decompress, lz4DecompressInto, lz4Decoder } from '../../../src/io/codecs/lz4.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { lz4DecodeBlock, Lz4FormatError } from '../../../src/io/root/lz4.ts';
import { lz4EncodeBlock } from '../../../src/io/root-write/compress.ts';
import { xxh64 } from '../../../src/io/root/xxhash64.ts';
import { repoRoot, sharedPath } from '../../shared.ts';

const HZZ_LZ4 = sharedPath('data', 'uproot-HZZ-lz4.root');
const HZZ_RAW = sharedPath('data', 'uproot-HZZ-uncompressed.root');
const CHILD = join(repoRoot, 'test', 'io', 'codecs', 'fixtures', 'read-root.ts');
const dir = mkdtempSync(join(tmpdir(), 'ristretto-lz4-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** lz4-napi where it is installed (an optional dependency until now): a third, independent decoder. */
const napi = (():
  | { uncompressSync(src: Uint8Array): Uint8Array; compressSync(src: Uint8Array): Uint8Array }
  | undefined => {
  try {
    return createRequire(import.meta.url)('lz4-napi');
  } catch {
    return undefined;
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

/** The bytes `f` wrote, or the error it threw. */
function outcome(f: () => number, out: Uint8Array, at: number): string | Error {
  try {
    return Buffer.from(out.subarray(at, at + f())).toString('hex');
  } catch (e) {
    return e as Error;
  }
}

/** A little deterministic generator (mulberry32), so that a failing mutation can be found again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LZ4 decoders', () => {
  it('uses the WebAssembly decoder', () => {
    expect(lz4Decoder()).toBe('wasm');
  });

  it('decode every real LZ4 block of uproot-HZZ-lz4.root byte-identically: wasm, JS and lz4-napi', async () => {
    const blocks = await lz4Blocks(HZZ_LZ4);
    expect(blocks.length).toBeGreaterThan(40);
    expect(blocks.filter((b) => b.size > 4096).length).toBeGreaterThan(20);
    let total = 0;
    // Largest first, then the rest: the module's memory grows once and smaller blocks reuse it.
    for (const b of [...blocks].sort((x, y) => y.size - x.size)) {
      const where = `${b.branch} @${b.at}`;
      const js = new Uint8Array(b.size);
      expect(lz4DecodeBlock(b.body, js), where).toBe(b.size);
      if (napi) {
        const sized = new Uint8Array(4 + b.body.length);
        new DataView(sized.buffer).setUint32(0, b.size, true);
        sized.set(b.body, 4);
        expect(Buffer.from(napi.uncompressSync(sized)).equals(js), `${where} (lz4-napi)`).toBe(true);
      }
      // Into the middle of a larger array, as multi-block baskets do; the bytes around stay.
      const mid = new Uint8Array(b.size + 20).fill(0xee);
      expect(lz4DecompressInto(b.body, mid.subarray(0, 10 + b.size), 10), where).toBe(b.size);
      expect(Buffer.from(mid.subarray(10, 10 + b.size)).equals(js), where).toBe(true);
      expect(
        [...mid.subarray(0, 10), ...mid.subarray(10 + b.size)].every((x) => x === 0xee),
        where,
      ).toBe(true);
      // And into an array of its own.
      expect(Buffer.from(lz4Decompress(b.body, b.size)).equals(js), where).toBe(true);
      total += b.size;
    }
    expect(total).toBeGreaterThan(100_000);
  });

  it('blocks two encoders made from patterned data decode to their input (every copy path)', () => {
    // Segments of random bytes and of short repeating patterns (periods 1-20: byte-wise overlaps,
    // the 4-byte pattern, 8-byte words) of lengths from 0 to past 255 + 15 (extended lengths) and past
    // 64 KiB (the longest offset), so that every branch of both decoders runs.
    const next = rng(4);
    const encoders: [string, (d: Uint8Array) => Uint8Array][] = [['lz4EncodeBlock', lz4EncodeBlock]];
    // lz4-napi's blocks carry their size in front (4 bytes, little-endian).
    if (napi) encoders.push(['lz4-napi', (d) => napi.compressSync(d).subarray(4)]);
    for (let i = 0; i < 60; i++) {
      const parts: number[] = [];
      const target = [100, 5000, 70_000, 300_000][i % 4] ?? 100;
      while (parts.length < target) {
        const len = Math.floor(next() ** 3 * 2000);
        if (next() < 0.4) for (let k = 0; k < len; k++) parts.push(Math.floor(next() * 256));
        else {
          const period = 1 + Math.floor(next() * 20);
          const pattern = Array.from({ length: period }, () => Math.floor(next() * 256));
          for (let k = 0; k < len; k++) parts.push(pattern[k % period] ?? 0);
        }
      }
      const data = Uint8Array.from(parts);
      for (const [name, encode] of encoders) {
        const block = encode(data);
        const out = new Uint8Array(data.length + 8).fill(0x5a);
        expect(lz4DecompressInto(block, out.subarray(0, data.length + 4), 4), `${name} #${i}`).toBe(data.length);
        expect(Buffer.from(out.subarray(4, 4 + data.length)).equals(data), `${name} #${i}`).toBe(true);
        expect([...out.subarray(0, 4), ...out.subarray(4 + data.length)]).toEqual(new Array(8).fill(0x5a));
        const js = new Uint8Array(data.length);
        expect(lz4DecodeBlock(block, js), `${name} #${i} (JS)`).toBe(data.length);
        expect(Buffer.from(js).equals(data), `${name} #${i} (JS)`).toBe(true);
      }
    }
  });

  it('damaged blocks throw Lz4FormatError (a CodecError) from both decoders, for each way to fail', async () => {
    const b = (await lz4Blocks(HZZ_LZ4)).find((x) => x.size > 4096) ?? expect.unreachable('no large block');
    const damaged: [string, Uint8Array, number][] = [
      ['output does not fit', b.body, b.size - 100],
      ['literals past the end', Uint8Array.of(0x40, 1, 2), 64],
      ['literal length past the end', Uint8Array.of(0xf0, 0xff, 0xff, 0x10), 64],
      ['match offset cut off', Uint8Array.of(0x14, 0x61, 0x01), 64],
      ['match before the start', Uint8Array.of(0x14, 0x61, 0xff, 0x00, 0x50, 1, 2, 3, 4, 5), 64],
      ['zero match offset', Uint8Array.of(0x14, 0x61, 0x00, 0x00, 0x50, 1, 2, 3, 4, 5), 64],
      ['match length past the end', Uint8Array.of(0x1f, 0x61, 0x01, 0x00, 0xff), 4096],
      ['match longer than the room', Uint8Array.of(0x1f, 0x61, 0x01, 0x00, 0xff, 0x20), 100],
    ];
    // An output start past the end of the array leaves no room at all, in both decoders.
    const five = Uint8Array.of(0x50, 1, 2, 3, 4, 5);
    expect(() => lz4DecompressInto(five, new Uint8Array(8), 9)).toThrow(Lz4FormatError);
    expect(() => lz4DecodeBlock(five, new Uint8Array(8), 9)).toThrow(Lz4FormatError);
    // Blocks of no output past the end: the same answer from both (a RangeError from the wasm path before).
    expect(lz4DecompressInto(new Uint8Array(0), new Uint8Array(8), 9)).toBe(0);
    expect(lz4DecodeBlock(new Uint8Array(0), new Uint8Array(8), 9)).toBe(0);
    expect(() => lz4DecompressInto(Uint8Array.of(0x00), new Uint8Array(8), 9)).toThrow(Lz4FormatError);
    expect(() => lz4DecodeBlock(Uint8Array.of(0x00), new Uint8Array(8), 9)).toThrow(Lz4FormatError);
    for (const [what, src, size] of damaged) {
      const errs = [
        () => lz4DecodeBlock(src, new Uint8Array(size)),
        () => lz4DecompressInto(src, new Uint8Array(size)),
        () => lz4Decompress(src, size),
      ].map((f) => {
        try {
          f();
        } catch (e) {
          return e;
        }
        return undefined;
      });
      for (const e of errs) {
        expect(e, what).toBeInstanceOf(Lz4FormatError);
        expect(e, what).toBeInstanceOf(CodecError);
        expect((e as CodecError).context, what).toEqual({ codec: 'lz4' });
      }
    }
  });

  it('randomly damaged real blocks: wasm and JS agree, and nothing outside the room is written', async () => {
    const blocks = (await lz4Blocks(HZZ_LZ4)).filter((x) => x.size > 1000);
    const next = rng(15);
    let failed = 0;
    let decoded = 0;
    for (let i = 0; i < 400; i++) {
      const b = blocks[Math.floor(next() * blocks.length)] ?? expect.unreachable('no block');
      const src = Uint8Array.from(b.body);
      // 0-3 bytes changed, sometimes the block cut short, sometimes less room than it needs (a little
      // less: a decoder that wrote a few bytes past its room would show here).
      for (let k = Math.floor(next() * 4); k > 0; k--) src[Math.floor(next() * src.length)] = next() * 256;
      const cut = next() < 0.2 ? src.subarray(0, Math.floor(next() * src.length)) : src;
      const r = next();
      const room = r < 0.2 ? Math.floor(next() * b.size) : r < 0.4 ? b.size - 1 - Math.floor(next() * 16) : b.size;
      const js = new Uint8Array(room + 32).fill(0xa5);
      const wasm = new Uint8Array(room + 32).fill(0xa5);
      const a = outcome(() => lz4DecodeBlock(cut, js.subarray(0, 16 + room), 16), js, 16);
      const w = outcome(() => lz4DecompressInto(cut, wasm.subarray(0, 16 + room), 16), wasm, 16);
      const what = `mutation ${i} of ${b.branch} @${b.at}`;
      if (a instanceof Error) {
        failed++;
        expect(w, what).toBeInstanceOf(Lz4FormatError);
        expect(a, what).toBeInstanceOf(Lz4FormatError);
      } else {
        decoded++;
        expect(w, what).toBe(a);
      }
      // The 16 bytes before and the 16 after the room are the caller's: never written.
      for (const x of [...wasm.subarray(0, 16), ...wasm.subarray(16 + room)]) expect(x, what).toBe(0xa5);
    }
    // Both kinds of outcome occurred, so each branch above was exercised.
    expect(failed).toBeGreaterThan(50);
    expect(decoded).toBeGreaterThan(20);
  });

  it('RISTRETTO_CODECS=js forces the JS decoder; both read the arrays of the uncompressed file', () => {
    const js = runChild(HZZ_LZ4, { RISTRETTO_CODECS: 'js' });
    const auto = runChild(HZZ_LZ4, { RISTRETTO_CODECS: '' });
    const raw = runChild(HZZ_RAW, {});
    expect(js.decoders).toEqual({ lz4: 'js (RISTRETTO_CODECS=js)' });
    expect(auto.decoders).toEqual({ lz4: 'wasm' });
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
    expect(got.decoders).toEqual({ lz4: 'wasm' });
  }, 300_000);

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
    expect(auto.chain).toEqual(js.chain);
    expect(auto.context).toEqual(js.context);
    expect(js.context).toMatchObject({ branch: 'Muon_Px', basket: expect.any(Number) });
    expect(String(auto.message)).toMatch(/branch 'Muon_Px'.*basket \d+/);
    expect(String(js.message)).toContain('damaged-lz4.root');
  }, 300_000);
});
