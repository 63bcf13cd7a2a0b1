/**
 * process() runs exactly once per chunk on every executor, also on cold workers that know nothing of the
 * processor's columns: columns it touches without prefetch are read synchronously (the sync-read helper
 * thread for files), never by re-running it. Failures of those reads keep their classification.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { executorFactory } from '../../executors/index.ts';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import type { Jagged } from '../../src/columnar/types.ts';
import { runOnEvents } from '../../src/events/index.ts';
import { openReader } from '../../src/io/open.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { SyncReadHelperError } from '../../src/io/sync-read.ts';
import { ChunkError, FileReadError } from '../../src/runner/errors.ts';
import { createChunkState, processChunk } from '../../src/runner/process-chunk.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import oncePerChunk, { type OncePerChunk } from '../fixtures/processors/once-per-chunk.ts';
import { fixture, PARQUET_FILE, readDirect, ROOT_FILE, useTempDir, writeJson } from './helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});

const logLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).sort();

describe('process() exactly once per chunk', () => {
  it('iterative and threads with cold workers: one call per chunk, identical results equal to direct reads', async () => {
    const results: OncePerChunk[] = [];
    for (const kind of ['iterative', 'threads'] as const) {
      const log = join(dir, `${kind}.log`);
      await writeFile(log, '');
      const ds = await writeJson(join(dir, `${kind}.json`), {
        single: { files: { [ROOT_FILE()]: 'Events' }, metadata: { log } },
        pq: { files: { [PARQUET_FILE()]: 'Events' }, metadata: { log } },
      });
      const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      // A new pool per run: its workers have seen no chunk of this processor.
      const executor = kind === 'threads' ? new ThreadsExecutor({ workers: 2 }) : 'iterative';
      try {
        const r = await runAnalysis<OncePerChunk>({
          fileset: ds,
          processor: fixture('once-per-chunk.ts'),
          chunksize: 2500,
          executor,
        });
        expect(logLines(log)).toEqual(
          ['single 0-2500', 'single 2500-5000', 'single 5000-7500', 'single 7500-10000', 'pq 0-1000']
            .map((l) => `once-per-chunk ${l}`)
            .sort(),
        );
        expect(r.accumulator.calls).toBe(5);
        expect(r.metrics.chunks).toBe(5);
        expect(r.metrics).not.toHaveProperty('passes');
        expect(r.metrics.columns).toEqual(expect.arrayContaining(['Jet_pt', 'MET_pt', 'Muon_pt']));
        // In process, the prints are this process's own: one per chunk.
        if (kind === 'iterative')
          expect(spy.mock.calls.filter(([m]) => String(m).startsWith('once-per-chunk')).length).toBe(5);
        results.push(r.accumulator);
      } finally {
        spy.mockRestore();
        if (typeof executor === 'object') await executor.close();
      }
    }
    expect(results[1]).toEqual(results[0]);

    const root = await readDirect(ROOT_FILE());
    const pq = await readDirect(PARQUET_FILE());
    const r = await openRoot(ROOT_FILE());
    const jets = ((await r.read(['Jet_pt'], 5000, 10000)).Jet_pt as Jagged).content;
    await r.close();
    const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);
    const got = results[0];
    expect(got.nevents).toBe(11000);
    expect(got.nmuons).toBe(root.muonPt.length + pq.muonPt.length);
    expect(got.sumMet).toBeCloseTo(sum(root.met) + sum(pq.met), 6);
    expect(got.sumJetPt).toBeCloseTo(sum(jets), 6);
    expect(got.jetChunks).toBe(2);
  });

  it('a damaged file read on first access is a FileReadError, and process() still ran once', async () => {
    const root = Buffer.from(await readFile(ROOT_FILE()));
    root.fill(0, 1000, root.length - 200_000); // opens fine, baskets zeroed
    const corrupt = join(dir, 'corrupt.root');
    await writeFile(corrupt, root);
    const log = join(dir, 'corrupt.log');
    await writeFile(log, '');
    const state = createChunkState();
    const item = { dataset: 'bad', file: corrupt, tree: 'Events', entryStart: 0, entryStop: 2500, fileId: 'corrupt' };
    const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const err = await processChunk(item, oncePerChunk, state, { metadata: { log } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileReadError);
      expect((err as Error).message).toMatch(/MET_pt/);
      expect((err as Error).message).toMatch(/corrupt\.root/);
      expect(logLines(log)).toEqual(['once-per-chunk bad 0-2500']);
    } finally {
      spy.mockRestore();
      await state.readers.closeAll();
    }
  });

  it('a misspelled branch fails the chunk with the closest names, on both executors', async () => {
    const ds = await writeJson(join(dir, 'typo.json'), { single: [ROOT_FILE()] });
    for (const kind of ['iterative', 'threads'] as const) {
      const err = await runAnalysis({
        fileset: ds,
        processor: fixture('typo.ts'),
        chunksize: 5000,
        executor: kind === 'threads' ? executorFactory('threads') : kind,
        workers: 1,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChunkError);
      expect((err as Error).message).toMatch(
        /no branch Muon_ptt in .*Run2012B_SingleMu_10000\.root tree Events; closest: Muon_pt/,
      );
    }
  });

  it('a file served from the waiting thread itself times out with advice instead of hanging', async () => {
    const body = await readFile(PARQUET_FILE());
    const server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m)
        return void res
          .writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' })
          .end(req.method === 'HEAD' ? undefined : body);
      const [start, end] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
      res
        .writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 })
        .end(body.subarray(start, end + 1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const before = process.env.RISTRETTO_SYNC_READ_TIMEOUT;
    process.env.RISTRETTO_SYNC_READ_TIMEOUT = '2';
    try {
      const reader = await openReader(`http://127.0.0.1:${(server.address() as AddressInfo).port}/data.parquet`);
      const err = await runOnEvents(reader, 0, 100, (e) => e.MET.pt.length).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(SyncReadHelperError);
      expect((err as Error).message).toMatch(/MET_pt .*took more than 2 s.*in-process HTTP server.*prefetch/);
      // The columns prefetched are read up front as usual.
      const ok = await runOnEvents(reader, 0, 100, (e) => e.MET.pt.length, { prefetch: ['MET_pt'] });
      expect(ok.result).toBe(100);
      await reader.close();
    } finally {
      if (before === undefined) delete process.env.RISTRETTO_SYNC_READ_TIMEOUT;
      else process.env.RISTRETTO_SYNC_READ_TIMEOUT = before;
      await new Promise((r) => server.close(r));
    }
  });
});
