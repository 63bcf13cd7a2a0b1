/**
 * root:// against a real xrootd (scripts/ci/setup-xrootd.sh installs it): each suite starts its own
 * server on a free loopback port and stops it after. Reads over root:// equal local reads bit for bit
 * (ROOT, Parquet, RNTuple, Arrow; an ADL analysis; `ristretto ls`); concurrent reads share kXR_readv
 * round trips; a SIGKILLed server gives retries and then a SourceError naming the URL. With CI=true a
 * missing xrootd fails these tests; elsewhere they are skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdentity } from '../../src/dataset/identity.ts';
import { convert } from '../../src/io/convert.ts';
import { openReader } from '../../src/io/open.ts';
import { BasketReadError, openRoot, RootFileError } from '../../src/io/root/index.ts';
import { openSource, SourceError } from '../../src/io/source.ts';
import { closeParkedConnections } from '../../src/io/xrootd/idle.ts';
import { parseXrootdUrl, XrootdSource } from '../../src/io/xrootd/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { caught } from '../helpers/caught.ts';
import { tempDir } from '../helpers/files.ts';
import { startRedirector } from '../helpers/xrootd-redirector.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { expectSameColumn } from './root/compare.ts';

const missing = xrootdMissingFor('XRootD');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const DIMUON = sharedPath('data', 'nano_dimuon.root');
const RNTUPLE = sharedPath('data', 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root');
const NESTED_PQ = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const FAST = { retries: 3, backoffMs: 20 };

const dir = tempDir('xrootd');
/** 6 MiB of random bytes: pieces above kXR_readv's 2 MiB element limit, and many small ones. */
const RANDOM = join(dir, 'random.bin');
const ARROW = join(dir, 'dimuon.arrow');
if (!missing) writeFileSync(RANDOM, randomFillSync(Buffer.alloc(6 << 20)));

describe.skipIf(missing !== undefined)('root:// against a real xrootd', () => {
  let server: XrootdServer;

  beforeAll(async () => {
    const r = await openReader(DIMUON);
    await convert(r, ARROW);
    await r.close();
    server = await startXrootd([NANO, DIMUON, RNTUPLE, NESTED_PQ, RANDOM, ARROW]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('gathers concurrent reads into kXR_readv round trips, bytes equal to the file', async () => {
    const local = readFileSync(RANDOM);
    const src = await openSource(server.url('random.bin'), FAST);
    try {
      expect(src.size).toBe(local.length);
      // 1500 small ranges (more than one kXR_readv may hold) and one of 5 MiB (split into 2 MiB pieces)
      const ranges: [number, number][] = [[100, 100 + (5 << 20)]];
      for (let i = 0; i < 1500; i++) ranges.push([i * 4000 + 7, i * 4000 + 7 + 1 + (i % 97)]);
      const got = await Promise.all(ranges.map(([a, b]) => src.read(a, b)));
      ranges.forEach(([a, b], i) =>
        expect(Buffer.compare(Buffer.from(got[i]), local.subarray(a, b)), `[${a}, ${b})`).toBe(0),
      );
      // 1500 small pieces need two vector reads of ≤ 1024 pieces; the 5 MiB one is longer than a
      // kXR_readv element (2,097,136 bytes) and goes as one kXR_read of its own (≤ 32 MiB).
      expect(src.requests).toBe(3);
      expect(src.bytesRead).toBe(ranges.reduce((s, [a, b]) => s + b - a, 0));
      // a lone read is one kXR_read
      const tail = await src.read(local.length - 10, local.length);
      expect(Buffer.compare(Buffer.from(tail), local.subarray(-10))).toBe(0);
      expect(src.requests).toBe(4);
    } finally {
      await src.close();
    }
  });

  it('long reads go as kXR_read pieces, a large vector read arrives in parts: bytes equal to the file', async () => {
    const local = readFileSync(RANDOM);
    // 1.5 MiB per round trip at most: 5 MiB + 3 bytes is four kXR_reads (1.5, 1.5, 1.5, 0.5 MiB + 3);
    // the small read beside it is a fifth round trip.
    const src = await XrootdSource.open(server.url('random.bin'), { ...FAST, maxVectorBytes: 3 << 19 });
    // Default limits: three 1.5 MiB ranges (under the 2 MiB element limit) and a small one are one
    // kXR_readv of 4.5 MiB, which xrootd sends as kXR_oksofar parts before its kXR_ok.
    const vec = await XrootdSource.open(server.url('random.bin'), FAST);
    try {
      const [a, b] = [12_345, 12_345 + (5 << 20) + 3];
      const [big, small] = await Promise.all([src.read(a, b), src.read(7, 1007)]);
      expect(Buffer.compare(Buffer.from(big), local.subarray(a, b))).toBe(0);
      expect(Buffer.compare(Buffer.from(small), local.subarray(7, 1007))).toBe(0);
      expect(src.requests).toBe(5);
      // the same through the relay thread (a read that cannot be awaited)
      const [bigSync, smallSync] = src.readvSync([
        { start: a, end: b },
        { start: 7, end: 1007 },
      ]);
      expect(Buffer.compare(Buffer.from(bigSync), local.subarray(a, b))).toBe(0);
      expect(Buffer.compare(Buffer.from(smallSync), local.subarray(7, 1007))).toBe(0);
      expect(src.requests).toBe(10);
      const M = 3 << 19;
      const ranges: [number, number][] = [
        [0, M],
        [M + 5, 2 * M + 5],
        [2 * M + 9, 3 * M + 9],
        [7, 1007],
      ];
      const parts = await Promise.all(ranges.map(([x, y]) => vec.read(x, y)));
      ranges.forEach(([x, y], i) =>
        expect(Buffer.compare(Buffer.from(parts[i]), local.subarray(x, y)), `[${x}, ${y})`).toBe(0),
      );
      expect(vec.requests).toBe(1);
    } finally {
      await src.close();
      await vec.close();
    }
  });

  it('reads every branch of a NanoAOD ROOT file like the local file, in a few round trips per chunk', async () => {
    const local = await openRoot(NANO);
    const remote = await openRoot(server.url('Run2012B_SingleMu_10000.root'), { http: FAST });
    try {
      expect(remote.numEntries).toBe(local.numEntries);
      expect(remote.boundaries()).toEqual(local.boundaries());
      const names = local.branches().map((b) => b.name);
      expect(names.length).toBeGreaterThan(50);
      const want = await local.read(names, 0, local.numEntries);
      const src = (remote as unknown as { src: XrootdSource }).src;
      const before = src.requests;
      const got = await remote.read(names, 0, remote.numEntries);
      for (const n of names) expectSameColumn(got[n], want[n], n);
      // every branch's baskets: far fewer round trips than branches
      expect(src.requests - before).toBeLessThanOrEqual(2);
    } finally {
      await local.close();
      await remote.close();
    }
  });

  it('reads RNTuple and Arrow files like the local files', async () => {
    for (const file of [RNTUPLE, ARROW]) {
      const local = await openReader(file);
      const remote = await openReader(server.url(file.split('/').pop()!));
      try {
        expect(remote.numEntries).toBe(local.numEntries);
        const names = local.branches().map((b) => b.name);
        const want = await local.read(names, 0, local.numEntries);
        const got = await remote.read(names, 0, remote.numEntries);
        for (const n of names) expectSameColumn(got[n], want[n], `${file}: ${n}`);
      } finally {
        await local.close();
        await remote.close();
      }
    }
  });

  it('runs an ADL query over root:// with histograms identical to the local run', async () => {
    const url = server.url('Run2012B_SingleMu-restructured-1000.parquet');
    // dataset JSONs: the URL passes through the fileset loader as http(s) URLs do
    const remoteJson = join(dir, 'remote.json');
    const localJson = join(dir, 'local.json');
    writeFileSync(remoteJson, JSON.stringify({ SingleMu: { files: [url], metadata: { isData: true } } }));
    writeFileSync(localJson, JSON.stringify({ SingleMu: { files: [NESTED_PQ], metadata: { isData: true } } }));
    for (const q of ['query-5.ts', 'query-8.ts']) {
      const proc = join(repoRoot, 'processors', 'adl', q);
      const remote = await runAnalysis({ fileset: remoteJson, processor: proc, chunksize: 300 });
      const local = await runAnalysis({ fileset: localJson, processor: proc, chunksize: 300 });
      expect(remote.accumulator, q).toStrictEqual(local.accumulator);
    }
  }, 240_000);

  it('`ristretto ls root://…` lists what the local file does', () => {
    const ls = (p: string) =>
      spawnSync(process.execPath, [join(repoRoot, 'bin', 'ristretto.mjs'), 'ls', p, '--json'], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, RISTRETTO_DEBUG: '' },
      });
    const url = server.url('nano_dimuon.root');
    const r = ls(url);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const l = ls(DIMUON);
    expect(JSON.parse(r.stdout.replaceAll(url, 'FILE'))).toEqual(JSON.parse(l.stdout.replaceAll(DIMUON, 'FILE')));
  }, 180_000);

  it('a missing file is a SourceError naming the URL, not retried into a timeout', async () => {
    const url = server.url('nope.root');
    const e = await caught(openSource(url, FAST));
    expect(e).toBeInstanceOf(SourceError);
    expect(e.message).toContain(url);
    expect(e.message).toContain('kXR_NotFound');
    expect(e.message).toContain('check the path');
    const viaRoot = await caught(openRoot(url, { http: FAST }));
    expect(viaRoot).toBeInstanceOf(RootFileError);
    expect(viaRoot.message).toContain(url);
    const dirErr = await caught(openSource(`root://127.0.0.1:${server.port}/${server.dataDir}`, FAST));
    expect(dirErr.message).toContain('is a directory');
  });

  it('a root:// file identity changes when the file on the server changes', async () => {
    const url = server.url('random.bin');
    const a = await fileIdentity(url);
    expect(await fileIdentity(url)).toBe(a);
    const e = await caught(fileIdentity(server.url('nope.bin')));
    expect(e).toBeInstanceOf(SourceError);
    expect(e.message).toContain('nope.bin');
  });

  it('a file stat-ed, read, closed, then another file of the server read: one login for all', async () => {
    // what a run does: the file's identity, its entry count, then the chunks; the server's log counts logins
    closeParkedConnections(); // none left over from the tests before
    const log = join(server.dataDir, '..', 'logs', 'xrootd.log');
    const logins = () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => / login$/.test(l)).length;
    const before = logins();
    const local = readFileSync(RANDOM);
    await fileIdentity(server.url('random.bin'));
    const a = await openSource(server.url('random.bin'), FAST);
    expect(Buffer.from(await a.read(100, 70_000)).equals(local.subarray(100, 70_000))).toBe(true);
    await a.close();
    const b = await openSource(server.url('nano_dimuon.root'), FAST);
    expect(Buffer.from(await b.read(0, 4)).toString('latin1')).toBe('root');
    await b.close();
    expect(logins() - before).toBe(1);
    closeParkedConnections();
  });
});

describe.skipIf(missing !== undefined)('root:// when the server dies', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    server = await startXrootd([RANDOM, NANO]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a server SIGKILLed mid-read: retries, then a SourceError naming the URL and what to do', async () => {
    const url = server.url('random.bin');
    // one 16 KiB read at a time: the file takes 384 round trips, far more than fit between the first
    // answer and the kill even on an idle machine
    const PIECE = 16 << 10;
    const src = await XrootdSource.open(url, { ...FAST, concurrency: 1, maxVectorBytes: PIECE });
    try {
      const reads: Promise<Uint8Array>[] = [];
      for (let off = 0; off < src.size; off += PIECE) reads.push(src.read(off, Math.min(src.size, off + PIECE)));
      const settled = Promise.allSettled(reads);
      while (src.bytesRead === 0) await new Promise((r) => setTimeout(r, 1));
      await server.kill();
      const results = await settled;
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      const e = (failed[0] as PromiseRejectedResult).reason as Error;
      expect(e).toBeInstanceOf(SourceError);
      expect(e.message).toContain(url);
      expect(e.message).toContain('after 4 attempts');
      expect(e.message).toContain('check that the XRootD server is up');
      expect(src.reconnects).toBeGreaterThanOrEqual(1);
      // the hundreds of reads queued behind the one that gave up fail with it, not one retry cycle each
      expect(src.reconnects).toBeLessThanOrEqual(4);
      expect(failed.every((r) => (r as PromiseRejectedResult).reason === e)).toBe(true);
      // what did arrive is right
      const local = readFileSync(RANDOM);
      results.forEach((r, i) => {
        if (r.status === 'fulfilled')
          expect(Buffer.compare(Buffer.from(r.value), local.subarray(i * PIECE, i * PIECE + r.value.length))).toBe(0);
      });
    } finally {
      await src.close();
    }
  }, 60_000);

  it('a ROOT read after the kill fails with BasketReadError naming the URL; a restarted server is read again', async () => {
    if (server.proc.exitCode === null && server.proc.signalCode === null) await server.kill();
    await server.restart();
    const url = server.url('Run2012B_SingleMu_10000.root');
    const remote = await openRoot(url, { http: FAST });
    try {
      await server.kill();
      const e = await caught(remote.read(['Muon_pt', 'MET_pt'], 0, 10000));
      expect(e).toBeInstanceOf(BasketReadError);
      expect(e.message).toContain(url);
      expect((e.cause as Error).message).toContain('after 4 attempts');
      // one piece of advice (the source's), not one per layer
      expect(e.message.match(/ — /g)).toHaveLength(1);
      // the same reader recovers once the server is back (a new connection, the file opened again)
      await server.restart();
      const got = await remote.read(['Muon_pt', 'MET_pt'], 0, 10000);
      const local = await openRoot(NANO);
      const want = await local.read(['Muon_pt', 'MET_pt'], 0, 10000);
      await local.close();
      expectSameColumn(got.Muon_pt, want.Muon_pt, 'Muon_pt');
      expectSameColumn(got.MET_pt, want.MET_pt, 'MET_pt');
    } finally {
      await remote.close();
    }
  }, 120_000);
});

describe('root:// URLs', () => {
  it('parses host, port, absolute path and opaque CGI', () => {
    expect(parseXrootdUrl('root://eos.cern.ch//eos/a/b.root')).toEqual({
      host: 'eos.cern.ch',
      port: 1094,
      path: '/eos/a/b.root',
      opaque: '',
    });
    expect(parseXrootdUrl('root://u@h:2000/data/f.root?authz=x&y=1')).toEqual({
      host: 'h',
      port: 2000,
      path: '/data/f.root',
      opaque: 'authz=x&y=1',
    });
    expect(parseXrootdUrl('xroot://[::1]:1095//f')).toMatchObject({ host: '::1', port: 1095, path: '/f' });
  });

  it('refuses what it cannot read with a SourceError saying what to write instead', () => {
    for (const [url, says] of [
      ['root://host', 'root://host[:port]//absolute/path'],
      ['root://host:99999//f', 'out of range'],
      ['roots://host//f', 'not supported'],
    ] as const) {
      const e = (() => {
        try {
          parseXrootdUrl(url);
        } catch (err) {
          return err as Error;
        }
        throw new Error(`${url} parsed`);
      })();
      expect(e).toBeInstanceOf(SourceError);
      expect(e.message).toContain(says);
    }
  });
});

describe.skipIf(missing !== undefined)('root:// redirects', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    server = await startXrootd([RANDOM]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('follows kXR_wait, kXR_waitresp + kXR_attn and kXR_redirect to the data server', async () => {
    const r = await startRedirector(server.port);
    try {
      const path = join(server.dataDir, 'random.bin');
      const src = await openSource(`root://127.0.0.1:${r.port}/${path}`, FAST);
      try {
        const local = readFileSync(RANDOM);
        expect(src.size).toBe(local.length);
        const got = await Promise.all([src.read(0, 1000), src.read(3 << 20, (3 << 20) + 5000)]);
        expect(Buffer.compare(Buffer.from(got[0]), local.subarray(0, 1000))).toBe(0);
        expect(Buffer.compare(Buffer.from(got[1]), local.subarray(3 << 20, (3 << 20) + 5000))).toBe(0);
        // protocol, login, stat (→ wait), stat again (→ waitresp, attn with the redirect); data went elsewhere
        expect(await r.log()).toEqual(['3006', '3007', '3017', '3017']);
      } finally {
        await src.close();
      }
    } finally {
      await r.stop();
    }
  });

  it('a redirect loop ends in a SourceError naming the URL', async () => {
    // a redirector that sends every client back to itself
    const r = await startRedirector('self');
    try {
      const url = `root://127.0.0.1:${r.port}//some/file.root`;
      const e = await caught(openSource(url, FAST));
      expect(e).toBeInstanceOf(SourceError);
      expect(e.message).toContain(url);
      expect(e.message).toContain('more than 8 redirects');
    } finally {
      await r.stop();
    }
  });
});
