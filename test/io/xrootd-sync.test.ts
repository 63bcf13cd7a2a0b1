/**
 * root:// read without awaiting (XrootdSource.readSync / readvSync over the relay thread), against a real
 * xrootd on loopback: bytes equal to the local file, one kXR_readv per call, ROOT columns bit-identical
 * to the local file's with no sync-read helper thread, the server's kXR_wait / kXR_waitresp / redirects
 * honoured while the thread blocks, and a server killed mid-run gives retries and then a SourceError
 * naming the URL. With CI=true a missing xrootd fails these tests (see xrootd.test.ts); elsewhere they skip.
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openParquet } from '../../src/io/parquet/index.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { BasketReadError } from '../../src/io/root/errors.ts';
import { SourceError } from '../../src/io/source.ts';
import { ensureSyncReads } from '../../src/io/sync-read.ts';
import { XrootdSource } from '../../src/io/xrootd/index.ts';
import { tempDir } from '../helpers/files.ts';
import { startRedirector } from '../helpers/xrootd-redirector.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { sharedPath } from '../shared.ts';
import { expectSameColumn } from './root/compare.ts';

const missing = xrootdMissingFor('XRootD synchronous reads');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const NESTED_PQ = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const FAST = { retries: 3, backoffMs: 20 };
const dir = tempDir('xrootd-sync');
const RANDOM = join(dir, 'random.bin');
if (!missing) writeFileSync(RANDOM, randomFillSync(Buffer.alloc(5 << 20)));

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe.skipIf(missing !== undefined)('root:// read synchronously', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    server = await startXrootd([RANDOM, NANO, NESTED_PQ]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('readvSync: the bytes of the local file, in one kXR_readv and one kXR_read, no event loop turn needed', async () => {
    const local = readFileSync(RANDOM);
    const src = await XrootdSource.open(server.url('random.bin'), FAST);
    try {
      // 300 small ranges, an empty one, one above kXR_readv's 2 MiB element limit, and the last byte
      const ranges = [
        { start: 10, end: 10 + (3 << 20) + 17 },
        { start: 5, end: 5 },
      ];
      for (let i = 0; i < 300; i++) ranges.push({ start: i * 9000 + 3, end: i * 9000 + 3 + 1 + (i % 131) });
      ranges.push({ start: local.length - 1, end: local.length });
      const before = src.requests;
      let turned = false;
      setImmediate(() => (turned = true));
      const got = src.readvSync(ranges);
      expect(turned).toBe(false); // answered before this thread's event loop ran again
      // the small ranges in one kXR_readv; the one above 2 MiB as a kXR_read of its own (≤ 32 MiB)
      expect(src.requests - before).toBe(2);
      ranges.forEach((r, i) =>
        expect(same(got[i], local.subarray(r.start, r.end)), `[${r.start}, ${r.end})`).toBe(true),
      );
      expect(same(src.readSync(1000, 1016), local.subarray(1000, 1016))).toBe(true);
      // the async path still works beside it, on its own session
      expect(same(await src.read(77, 99), local.subarray(77, 99))).toBe(true);
      const outside = (() => {
        try {
          src.readSync(local.length - 4, local.length + 4);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(outside).toBeInstanceOf(SourceError);
      expect(outside?.message).toContain('is outside');
    } finally {
      await src.close();
    }
  });

  it('a root:// ROOT reader reads first-touched columns itself, bit-identical to the local file', async () => {
    const local = await openRoot(NANO);
    const remote = await openRoot(server.url('Run2012B_SingleMu_10000.root'), { http: FAST });
    try {
      expect(remote.readSync).toBeTypeOf('function');
      // no sync-read helper thread: the reader is used as it is
      expect(ensureSyncReads(remote)).toBe(remote);
      const names = local.branches().map((b) => b.name);
      const want = await local.read(names, 1234, 9876);
      const src = (remote as unknown as { src: XrootdSource }).src;
      const before = src.requests;
      const got = remote.readSync!(names, 1234, 9876);
      for (const n of names) expectSameColumn(got[n], want[n], n);
      // every branch's baskets in a couple of round trips (count branches may need a second)
      expect(src.requests - before).toBeLessThanOrEqual(2);
    } finally {
      await local.close();
      await remote.close();
    }
  });

  it('a root:// Parquet reader reads first-touched columns itself, bit-identical to the local file', async () => {
    const local = await openParquet(NESTED_PQ);
    const remote = await openParquet(server.url('Run2012B_SingleMu-restructured-1000.parquet'), FAST);
    try {
      expect(remote.readSync).toBeTypeOf('function');
      expect(ensureSyncReads(remote)).toBe(remote);
      const names = local.branches().map((b) => b.name);
      const want = await local.read(names, 123, 987);
      const got = remote.readSync!(names, 123, 987);
      for (const n of names) expectSameColumn(got[n], want[n], n);
      // and the async read of a root:// file still gives the same
      const viaAsync = await remote.read(names, 0, remote.numEntries);
      const all = await local.read(names, 0, local.numEntries);
      for (const n of names) expectSameColumn(viaAsync[n], all[n], n);
    } finally {
      await local.close();
      await remote.close();
    }
  });
});

describe.skipIf(missing !== undefined)('root:// read synchronously when the server dies', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    server = await startXrootd([RANDOM, NANO]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('retries, then a SourceError naming the URL; a restarted server is read again', async () => {
    const url = server.url('random.bin');
    const local = readFileSync(RANDOM);
    const src = await XrootdSource.open(url, FAST);
    try {
      expect(same(src.readSync(0, 100), local.subarray(0, 100))).toBe(true);
      await server.kill();
      let e: unknown;
      try {
        src.readSync(100, 200);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(SourceError);
      expect((e as Error).message).toContain(url);
      expect((e as Error).message).toContain('after 4 attempts');
      expect((e as Error).message).toContain('check that the XRootD server is up');
      await server.restart();
      expect(same(src.readSync(4000, 9000), local.subarray(4000, 9000))).toBe(true);
      expect(src.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await src.close();
    }
  }, 120_000);

  it('a ROOT readSync after the kill is a BasketReadError naming the URL', async () => {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) await server.restart();
    const url = server.url('Run2012B_SingleMu_10000.root');
    const remote = await openRoot(url, { http: FAST });
    try {
      await server.kill();
      let e: unknown;
      try {
        remote.readSync!(['Muon_pt', 'MET_pt'], 0, 10000);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(BasketReadError);
      expect((e as Error).message).toContain(url);
      expect(((e as Error).cause as Error).message).toContain('after 4 attempts');
    } finally {
      await remote.close();
      await server.restart();
    }
  }, 120_000);
});

describe.skipIf(missing !== undefined)('root:// read synchronously through a redirector', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    server = await startXrootd([RANDOM]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('follows kXR_wait, kXR_waitresp + kXR_attn and kXR_redirect while the thread blocks', async () => {
    const r = await startRedirector(server.port);
    try {
      const src = await XrootdSource.open(`root://127.0.0.1:${r.port}/${join(server.dataDir, 'random.bin')}`, FAST);
      try {
        const local = readFileSync(RANDOM);
        // the async session's own: protocol, login, stat (→ wait), stat (→ waitresp, attn, redirect)
        expect(await r.log()).toEqual(['3006', '3007', '3017', '3017']);
        const [a, b] = src.readvSync([
          { start: 0, end: 1000 },
          { start: 3 << 20, end: (3 << 20) + 5000 },
        ]);
        expect(same(a, local.subarray(0, 1000))).toBe(true);
        expect(same(b, local.subarray(3 << 20, (3 << 20) + 5000))).toBe(true);
        // the synchronous session went the same way, its data from the data server
        expect(await r.log()).toEqual(['3006', '3007', '3017', '3017']);
      } finally {
        await src.close();
      }
    } finally {
      await r.stop();
    }
  });
});
