/**
 * root:// reads ahead: a Parquet reader read chunk after chunk asks the source for the next row group
 * while it decodes the current one (XrootdSource.prefetchRanges), and decodes from receive buffers the
 * source reuses. Against a real xrootd: the columns stay bit-identical to the local file's (also those
 * of earlier chunks, kept while later ones reuse the buffers), an ADL run gives the local histograms,
 * and a server killed while a prefetched request waits for its answer gives retries and then a
 * SourceError naming the URL from the read that takes the request over. ROOT files over root:// read
 * one chunk ahead in the runner's reader cache (src/runner/read-ahead.ts): the same columns, the same
 * histograms, and a killed server ends in a BasketReadError naming the URL. A caller that says which
 * chunk it reads next (EventReader.expectNext, as a merge group's batch does) gets that one read ahead
 * whatever its place and length, and nothing read after its last chunk.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convert } from '../../src/io/convert.ts';
import { BasketReadError, openRoot } from '../../src/io/root/index.ts';
import { openReader } from '../../src/io/open.ts';
import { DelegatingReader } from '../../src/io/delegating-reader.ts';
import type { Column, EventReader } from '../../src/io/reader.ts';
import { SourceError } from '../../src/io/source.ts';
import { XrootdSource, xrootdCounters } from '../../src/io/xrootd/index.ts';
import { defineProcessor } from '../../src/processor/types.ts';
import { processBatch } from '../../src/runner/process-batch.ts';
import { createChunkState } from '../../src/runner/process-chunk.ts';
import { readAheadCounters } from '../../src/runner/read-ahead.ts';
import { ReaderCache } from '../../src/runner/reader-cache.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { caught } from '../helpers/caught.ts';
import { tempDir } from '../helpers/files.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { expectSameColumn } from './root/compare.ts';

const missing = xrootdMissingFor('root:// prefetch');

/** A reader counting the reads asked of it (readSync passed through, so the reader cache reads ahead). */
class CountingReads extends DelegatingReader {
  reads = 0;
  readonly readSync?: EventReader['readSync'];
  constructor(inner: EventReader) {
    super(inner);
    const readSync = inner.readSync;
    if (readSync) this.readSync = (names, a, b) => readSync.call(inner, names, a, b);
  }
  override read(names: readonly string[], a: number, b: number): Promise<Record<string, Column>> {
    this.reads++;
    return super.read(names, a, b);
  }
}

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const FAST = { retries: 3, backoffMs: 20 };
const NAMES = ['Jet_pt', 'Jet_eta', 'Muon_pt', 'nMuon', 'MET_pt'];

const dir = tempDir('xrootd-prefetch');
/** The 10,000 NanoAOD events as Parquet in 10 row groups of 1,000. */
const PQ = join(dir, 'nano-10rg.parquet');
/** The same events as ROOT in baskets of 700: chunks cut at basket starts (--align) differ in length. */
const ROOT700 = join(dir, 'nano-700.root');
let made: Promise<void> | undefined;

/** SIGSTOP the server and wait until it is stopped (the signal takes effect some time after kill returns). */
async function stopServer(server: XrootdServer): Promise<void> {
  const pid = server.proc.pid ?? 0;
  process.kill(pid, 'SIGSTOP');
  // every thread's state (the field after the parenthesised name in its stat) must be T
  const stopped = () =>
    readdirSync(`/proc/${pid}/task`).every((t) => /\) T /.test(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')));
  while (!stopped()) await new Promise((r) => setTimeout(r, 5));
}
/** Write PQ once, for whichever suite starts first. */
function makeParquet(): Promise<void> {
  made ??= (async () => {
    const r = await openReader(NANO);
    const out = await convert(r, PQ, { chunkSize: 1000 });
    expect(out.chunks).toBe(10);
    expect((await convert(r, ROOT700, { chunkSize: 700 })).chunks).toBe(15);
    await r.close();
  })();
  return made;
}

describe.skipIf(missing !== undefined)('root:// prefetch against a real xrootd', () => {
  let server: XrootdServer;

  beforeAll(async () => {
    await makeParquet();
    server = await startXrootd([PQ, NANO, ROOT700]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  for (const chunk of [1000, 700]) {
    it(`reads in chunks of ${chunk} take row groups from prefetches, columns equal to the local file's`, async () => {
      const local = await openReader(PQ);
      const remote = await openReader(server.url('nano-10rg.parquet'));
      const hits0 = xrootdCounters.prefetchHits;
      const got: Record<string, Column>[] = [];
      const want: Record<string, Column>[] = [];
      try {
        for (let a = 0; a < local.numEntries; a += chunk) {
          const b = Math.min(local.numEntries, a + chunk);
          got.push(await remote.read(NAMES, a, b));
          want.push(await local.read(NAMES, a, b));
        }
      } finally {
        await local.close();
        await remote.close();
      }
      // Every chunk, compared after all were read: later chunks were received into the buffers of
      // earlier ones, so a column still viewing its bytes would show up here.
      got.forEach((g, k) => {
        for (const n of NAMES) expectSameColumn(g[n], want[k][n], `chunk ${k} ${n}`);
      });
      // The read-ahead starts with the second read (the first that follows another); with aligned chunks
      // each read from the third on is one of the 10 row groups announced by the read before it.
      const hits = xrootdCounters.prefetchHits - hits0;
      if (chunk === 1000) expect(hits).toBe(8);
      else expect(hits).toBeGreaterThan(0);
    });
  }

  it('an ADL run over root:// with prefetched chunks gives the local histograms', async () => {
    const hits0 = xrootdCounters.prefetchHits;
    for (const q of ['query-3.ts', 'query-6.ts']) {
      const proc = join(repoRoot, 'processors', 'adl', q);
      const run = (file: string) => {
        const json = join(dir, `${file.startsWith('root:') ? 'remote' : 'local'}.json`);
        writeFileSync(json, JSON.stringify({ SingleMu: { files: [file], metadata: { isData: true } } }));
        return runAnalysis({ fileset: json, processor: proc, chunksize: 700 });
      };
      const remote = await run(server.url('nano-10rg.parquet'));
      const local = await run(PQ);
      expect(remote.accumulator, q).toStrictEqual(local.accumulator);
    }
    expect(xrootdCounters.prefetchHits - hits0).toBeGreaterThan(0);
  }, 240_000);

  it('a ROOT file over root:// reads chunks ahead in the reader cache, columns equal to the local file', async () => {
    const cache = new ReaderCache();
    const local = await openReader(NANO);
    const hits0 = readAheadCounters.hits;
    try {
      const remote = await cache.get(server.url('Run2012B_SingleMu_10000.root'), 'Events');
      const got: Record<string, Column>[] = [];
      const want: Record<string, Column>[] = [];
      // chunks of 1500 over 10,000 entries: 7 reads; from the 2nd on, each starts the next one
      for (let a = 0; a < local.numEntries; a += 1500) {
        const b = Math.min(local.numEntries, a + 1500);
        got.push(await remote.read(NAMES, a, b));
        want.push(await local.read(NAMES, a, b));
      }
      got.forEach((g, k) => {
        for (const n of NAMES) expectSameColumn(g[n], want[k][n], `chunk ${k} ${n}`);
      });
      // reads 3 to 7 take what the read before started (the 7th, 9000..10000, is the rest of the file)
      expect(readAheadCounters.hits - hits0).toBe(5);
      // a read of other columns does not take the one started ahead, and is right
      const other = await remote.read(['Electron_pt'], 0, 100);
      expectSameColumn(other.Electron_pt, (await local.read(['Electron_pt'], 0, 100)).Electron_pt, 'Electron_pt');
    } finally {
      await local.close();
      await cache.closeAll();
    }
  });

  it('an ADL run over a ROOT file on root:// gives the local histograms', async () => {
    const hits0 = readAheadCounters.hits;
    const proc = join(repoRoot, 'processors', 'adl', 'query-5.ts');
    const run = (file: string, name: string) => {
      const json = join(dir, `${name}.json`);
      writeFileSync(json, JSON.stringify({ SingleMu: { files: [file], metadata: { isData: true } } }));
      return runAnalysis({ fileset: json, processor: proc, chunksize: 900 });
    };
    const remote = await run(server.url('Run2012B_SingleMu_10000.root'), 'root-remote');
    const local = await run(NANO, 'root-local');
    expect(remote.accumulator).toStrictEqual(local.accumulator);
    expect(readAheadCounters.hits - hits0).toBeGreaterThan(0);
  }, 240_000);

  it("a ROOT reader told the caller's next chunk reads that one ahead, and nothing after the last", async () => {
    // Chunks of different lengths with gaps, as one worker of several or --align sees them: the guess
    // (the next range of the same length, once reads follow each other) would take none of them and
    // read [6000, 7000) after the last for nothing.
    const chunks = [
      [0, 1500],
      [3000, 4200],
      [4200, 5000],
      [5000, 6000],
    ];
    const url = server.url('Run2012B_SingleMu_10000.root');
    // The ROOT reader under the read-ahead counts the reads asked of it, those started ahead included:
    // a read is started (called) before the read that starts it returns.
    let root: CountingReads | undefined;
    const cache = new ReaderCache(4, async (file, opts) => (root = new CountingReads(await openReader(file, opts))));
    const plain = await openReader(url); // reads only what it is asked for
    const local = await openReader(NANO);
    const hits0 = readAheadCounters.hits;
    try {
      const remote = await cache.get(url, 'Events');
      for (let k = 0; k < chunks.length; k++) {
        const [a, b] = chunks[k];
        const next = chunks[k + 1];
        remote.expectNext?.(a, b, next ? { entryStart: next[0], entryStop: next[1] } : null);
        const got = await remote.read(NAMES, a, b);
        const want = await local.read(NAMES, a, b);
        await plain.read(NAMES, a, b);
        for (const n of NAMES) expectSameColumn(got[n], want[n], `[${a}, ${b}) ${n}`);
      }
      expect(readAheadCounters.hits - hits0).toBe(3);
      // each chunk read once, the 2nd to 4th ahead; none started after the last (the guess: [6000, 7000))
      expect(root?.reads).toBe(chunks.length);
      // so nothing is in flight, and the bytes are those of the chunks alone
      expect(remote.bytesRead).toBe(plain.bytesRead);
    } finally {
      await Promise.all([plain.close(), local.close(), cache.closeAll()]);
    }
  });

  it("a Parquet reader told the caller's next chunk prefetches its row group, and nothing after the last", async () => {
    const chunks = [
      [0, 1000],
      [5000, 6000],
      [6000, 7000],
    ];
    const url = server.url('nano-10rg.parquet');
    const planned = await openReader(url);
    const quiet = await openReader(url); // told "nothing next" every time: reads only what it is asked for
    const local = await openReader(PQ);
    const hits0 = xrootdCounters.prefetchHits;
    // Round trips each reader sent while its reads ran: a prefetch is written before the read that
    // announces it returns (XrootdSource.prefetchRanges), so one after the last read would be counted.
    const requests = { planned: 0, quiet: 0 };
    const counted = async <T>(who: keyof typeof requests, read: () => Promise<T>): Promise<T> => {
      const r0 = xrootdCounters.requests;
      const out = await read();
      requests[who] += xrootdCounters.requests - r0;
      return out;
    };
    try {
      for (let k = 0; k < chunks.length; k++) {
        const [a, b] = chunks[k];
        const next = chunks[k + 1];
        planned.expectNext?.(a, b, next ? { entryStart: next[0], entryStop: next[1] } : null);
        quiet.expectNext?.(a, b, null);
        const got = await counted('planned', () => planned.read(NAMES, a, b));
        const want = await local.read(NAMES, a, b);
        await counted('quiet', () => quiet.read(NAMES, a, b));
        for (const n of NAMES) expectSameColumn(got[n], want[n], `[${a}, ${b}) ${n}`);
      }
      // the 2nd and 3rd reads take the row group the read before asked for; the guess would have taken none
      expect(xrootdCounters.prefetchHits - hits0).toBe(2);
      // one round trip per row group for both; none sent after the last (the guess: row group 7)
      expect(requests.quiet).toBe(chunks.length);
      expect(requests.planned).toBe(requests.quiet);
      // so nothing is in flight, and the bytes are those of the three row groups alone
      expect(planned.bytesRead).toBe(quiet.bytesRead);
    } finally {
      await Promise.all([planned.close(), quiet.close(), local.close()]);
    }
  });

  it('a batch tells each chunk the next one: chunks of different lengths are read ahead', async () => {
    // Chunk lengths differ (as with --align): the guess would miss every one.
    const url = server.url('Run2012B_SingleMu_10000.root');
    const bounds = [0, 1200, 2000, 3500, 4000, 6100];
    const items = bounds.slice(1).map((stop, k) => ({
      dataset: 'SingleMu',
      file: url,
      tree: 'Events',
      fileId: 'f',
      entryStart: bounds[k],
      entryStop: stop,
    }));
    const processor = defineProcessor({
      accumulator: () => ({ n: 0, met: 0 }),
      process(events) {
        const met = events.MET.pt as Float32Array;
        let s = 0;
        for (const v of met) s += v;
        return { n: events.numEvents, met: s };
      },
    });
    const state = createChunkState();
    const hits0 = readAheadCounters.hits;
    try {
      const r = await processBatch(items, processor, state, { after: null });
      expect(r.metrics.map((m) => m.events)).toEqual([1200, 800, 1500, 500, 2100]);
      // the 1st chunk reads MET_pt as the processor touches it; each later read started the next one
      expect(readAheadCounters.hits - hits0).toBe(3);
    } finally {
      await state.readers.closeAll();
    }
  });

  it('an --align run over root:// reads ahead the chunks it runs next, whatever their length, and no more', async () => {
    // Baskets of 700 and chunks of about 1600 cut at basket starts: 1400 entries each, 1600 for the last.
    // The executor tells each chunk's reader the chunk after it; the guess (same length) missed the last.
    const proc = join(repoRoot, 'processors', 'adl', 'query-3.ts');
    const run = (file: string, name: string) => {
      const json = join(dir, `${name}.json`);
      writeFileSync(json, JSON.stringify({ SingleMu: { files: [file], metadata: { isData: true } } }));
      return runAnalysis({ fileset: json, processor: proc, chunksize: 1600, align: true });
    };
    const hits0 = readAheadCounters.hits;
    const remote = await run(server.url('nano-700.root'), 'align-remote');
    const hits = readAheadCounters.hits - hits0;
    const local = await run(ROOT700, 'align-local');
    expect(remote.accumulator).toStrictEqual(local.accumulator);
    expect(remote.metrics.chunks).toBe(7);
    // chunk 1 reads its columns as they are touched, chunk 2 starts the first read ahead
    expect(hits).toBe(5);
    expect(remote.metrics.bytesRead).toBe(local.metrics.bytesRead);
  }, 240_000);

  it('one request is kept ahead: a newer prefetch drops the older, whose ranges are then read again', async () => {
    const url = server.url('nano-10rg.parquet');
    const bytes = readFileSync(PQ);
    const src = await XrootdSource.open(url, FAST);
    try {
      const a = [
        { start: 4, end: 5000 },
        { start: 9000, end: 12_000 },
      ];
      const b = [{ start: 20_000, end: 30_000 }];
      src.prefetchRanges(a);
      src.prefetchRanges(b);
      const gotA = await src.readRanges(a);
      expect(src.prefetchHits).toBe(0);
      a.forEach((r, i) => expect(Buffer.from(gotA.bytes[i]).equals(bytes.subarray(r.start, r.end))).toBe(true));
      gotA.release();
      const gotB = await src.readRanges(b);
      expect(src.prefetchHits).toBe(1);
      expect(Buffer.from(gotB.bytes[0]).equals(bytes.subarray(20_000, 30_000))).toBe(true);
      gotB.release();
      src.prefetchRanges(a); // left unclaimed: close drops it
    } finally {
      await src.close();
    }
  });
});

describe.skipIf(missing !== undefined)('root:// prefetch when the server dies', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    await makeParquet();
    server = await startXrootd([PQ, NANO]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a server killed mid-prefetch: the read taking the request over retries, then names the URL', async () => {
    const url = server.url('nano-10rg.parquet');
    const bytes = readFileSync(PQ);
    const ranges = [
      { start: 4, end: 70_000 },
      { start: 100_000, end: 160_000 },
    ];
    const src = await XrootdSource.open(url, FAST);
    try {
      // Stopped, the server takes the request but cannot answer it; then it is killed.
      await stopServer(server);
      src.prefetchRanges(ranges);
      await new Promise((r) => setTimeout(r, 50));
      await server.kill();
      const e = await caught(src.readRanges(ranges));
      expect(src.prefetchHits).toBe(1);
      expect(e).toBeInstanceOf(SourceError);
      expect(e.message).toContain(url);
      expect(e.message).toContain('after 4 attempts');
      expect(e.message).toContain('check that the XRootD server is up');
      expect(src.reconnects).toBeGreaterThanOrEqual(1);
      // the same source reads again once the server is back
      await server.restart();
      const got = await src.readRanges(ranges);
      ranges.forEach((r, i) => expect(Buffer.from(got.bytes[i]).equals(bytes.subarray(r.start, r.end))).toBe(true));
    } finally {
      await src.close();
    }
  }, 120_000);

  it('a server killed while a ROOT chunk is read ahead: BasketReadError naming the URL, after the retries', async () => {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) await server.restart();
    const url = server.url('Run2012B_SingleMu_10000.root');
    const cache = new ReaderCache(4, (file, opts) => openRoot(file, { ...opts, http: FAST }));
    try {
      const remote = await cache.get(url, 'Events');
      await remote.read(NAMES, 0, 1000);
      await remote.read(NAMES, 1000, 2000); // follows the first: 2000..3000 is being read ahead
      // Stopped, the server answers nothing more; killed, it refuses the retries.
      await stopServer(server);
      await server.kill();
      const hits0 = readAheadCounters.hits;
      // 2000..3000 may have arrived before the stop; then 3000..4000, started by its read, cannot have
      let e: Error | undefined;
      for (const a of [2000, 3000]) {
        e = await caught(remote.read(NAMES, a, a + 1000)).catch(() => undefined);
        if (e) break;
      }
      expect(e).toBeInstanceOf(BasketReadError);
      expect(readAheadCounters.hits - hits0).toBeGreaterThanOrEqual(1);
      expect(e?.message).toContain(url);
      expect((e?.cause as Error | undefined)?.message).toContain('after 4 attempts');
    } finally {
      await cache.closeAll();
    }
  }, 120_000);
});
