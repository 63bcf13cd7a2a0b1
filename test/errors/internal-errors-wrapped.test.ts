/**
 * The readers' internal error classes — DecompressionError (a CodecError), BasketFormatError (ROOT),
 * ThriftError (Parquet) — know the bytes, not the file, branch or basket. They never reach a user
 * un-wrapped: the reader that called them throws a RistrettoError naming the file (and branch and
 * basket) with the internal error as its `cause`. (Every codec: test/io/root/damaged-baskets.test.ts.) Each is provoked here on a damaged
 * copy of a real file, with the damage made at a place found by walking the file's own records.
 * (UnsupportedLayoutError → UnsupportedBranchError: test/io/root/stl-handmade.test.ts; the LZMA decoder
 * loaded on demand for an XZ basket read over HTTP: the last test here.)
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RistrettoError } from '../../src/errors/index.ts';
import { ParquetFormatError } from '../../src/io/parquet/errors.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { ThriftError } from '../../src/io/parquet/thrift.ts';
import { BasketFormatError } from '../../src/io/root/basket.ts';
import { DecompressionError } from '../../src/io/root/compression.ts';
import { CorruptBasketError } from '../../src/io/root/errors.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { serveDirectory } from '../helpers/http-server.ts';
import { sharedPath } from '../shared.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ristretto-wrapped-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The first TBasket record of a ROOT file: where it starts, its key length, the class name's offset, its branch. */
function firstBasket(b: Uint8Array): { start: number; keylen: number; classAt: number; branch: string } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = dv.getInt32(8); p + 18 < b.length; ) {
    const nbytes = dv.getInt32(p);
    if (nbytes === 0) break;
    if (nbytes < 0) {
      p -= nbytes; // a free gap
      continue;
    }
    const classAt = p + 18 + (dv.getInt16(p + 4) > 1000 ? 16 : 8);
    const text = (at: number) => Buffer.from(b.subarray(at + 1, at + 1 + b[at])).toString('latin1');
    const className = text(classAt);
    if (className === 'TBasket')
      return { start: p, keylen: dv.getInt16(p + 14), classAt, branch: text(classAt + 1 + b[classAt]) };
    p += nbytes;
  }
  throw new Error('no TBasket record in the file');
}

function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = (e as Error | undefined)?.cause; c !== undefined && out.length < 8; c = (c as Error).cause) out.push(c);
  return out;
}

/** The error `read` rejects with (fails the test if it resolves). */
async function readError(path: string, branch: string): Promise<unknown> {
  const r = await openRoot(path, { treeName: 'events' });
  try {
    await r.read([branch], 0, r.numEntries);
  } catch (e) {
    return e;
  } finally {
    await r.close();
  }
  throw new Error(`reading ${branch} of ${path} did not fail`);
}

describe('internal reader errors reach the user wrapped, naming the file', () => {
  const HZZ = sharedPath('data', 'uproot-HZZ-zlib.root');

  // First: before any local file is opened (opening one loads the LZMA decoder for its synchronous reads).
  it('LzmaNotLoadedError stays inside: an XZ basket read over HTTP loads the decoder on demand, values as local', async () => {
    copyFileSync(sharedPath('data', 'uproot-HZZ-lzma.root'), join(tmp, 'hzz-lzma.root'));
    const server = await serveDirectory(tmp);
    try {
      const remote = await openRoot(`${server.url}/hzz-lzma.root`, { treeName: 'events' });
      const local = await openRoot(sharedPath('data', 'uproot-HZZ-zlib.root'), { treeName: 'events' });
      const got = await remote.read(['Muon_Px'], 0, remote.numEntries);
      const want = await local.read(['Muon_Px'], 0, local.numEntries);
      await remote.close();
      await local.close();
      expect(got.Muon_Px).toEqual(want.Muon_Px);
    } finally {
      await server.close();
    }
  });

  it('DecompressionError (a flipped byte in a zlib basket) → CorruptBasketError naming file, branch, basket', async () => {
    const b = new Uint8Array(readFileSync(HZZ));
    const k = firstBasket(b);
    b[k.start + k.keylen + 9 + 40] ^= 0x5a; // inside the deflate stream, past ROOT's 9-byte block header
    const path = join(tmp, 'flipped-payload.root');
    writeFileSync(path, b);
    const e = await readError(path, k.branch);
    expect(e).toBeInstanceOf(CorruptBasketError);
    expect(e).toBeInstanceOf(RistrettoError);
    expect((e as Error).message).toContain(`branch '${k.branch}' of tree 'events' in ${path}, basket 0`);
    expect((e as RistrettoError).hint).toMatch(/copy it again/);
    expect(causes(e).some((c) => c instanceof DecompressionError)).toBe(true);
  });

  it('BasketFormatError (a basket key whose class is not TBasket) → CorruptBasketError naming file and branch', async () => {
    const b = new Uint8Array(readFileSync(HZZ));
    const k = firstBasket(b);
    b[k.classAt + 7] = 'x'.charCodeAt(0); // TBasket → TBaskex
    const path = join(tmp, 'flipped-class.root');
    writeFileSync(path, b);
    const e = await readError(path, k.branch);
    expect(e).toBeInstanceOf(CorruptBasketError);
    expect((e as Error).message).toContain(`branch '${k.branch}' of tree 'events' in ${path}`);
    expect((e as Error).message).toContain("key class is 'TBaskex', expected 'TBasket'");
    expect(causes(e).some((c) => c instanceof BasketFormatError)).toBe(true);
  });

  it('ThriftError (a footer that does not decode) → ParquetFormatError naming the file', async () => {
    const b = new Uint8Array(readFileSync(sharedPath('data', 'Run2012B_SingleMu-1000.parquet')));
    const footerLen = new DataView(b.buffer, b.byteOffset).getUint32(b.length - 8, true);
    const footer = b.length - 8 - footerLen;
    // FileMetaData field 1 (i32) whose varint never ends within 10 bytes
    b[footer] = 0x15;
    b.fill(0xff, footer + 1, footer + 16);
    const path = join(tmp, 'bad-footer.parquet');
    writeFileSync(path, b);
    const e = await openParquet(path).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ParquetFormatError);
    expect((e as Error).message).toMatch(
      new RegExp(
        `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a readable Parquet file: its footer does not decode: thrift varint longer than 10 bytes`,
      ),
    );
    expect(causes(e).some((c) => c instanceof ThriftError)).toBe(true);
  });
});
