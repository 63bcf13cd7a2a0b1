/**
 * The thread pool's hand-out: workers start and import the processor before the first chunk (prestart,
 * preload), each holds a running item plus the next one, a worker that dies fails only the item it was
 * running (the ones queued behind it run elsewhere, not counted as retries), and results equal the
 * in-process executor's bit for bit at every queue depth. Real files from ../shared, real worker threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorFactory } from '../../executors/index.ts';
import { ThreadsExecutor, ThreadsOptionError } from '../../executors/threads/index.ts';
import type { WorkItem } from '../../src/dataset/chunking.ts';
import { planWork } from '../../src/dataset/preprocess.ts';
import { bundleProcessor } from '../../src/processor/bundle.ts';
import { RistrettoError } from '../../src/errors/index.ts';
import { WorkerLostError } from '../../src/runner/errors.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { fixture, PARQUET_FILE, readDirect, ROOT_FILE, useTempDir, writeJson } from '../runner/helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});

async function items(file: string, chunksize: number): Promise<WorkItem[]> {
  const plan = await planWork([{ name: 'd', files: [{ path: file, tree: 'Events' }], metadata: {} }], { chunksize });
  return plan.items;
}

/** Wait (no time limit but the test's) until `check` holds, looking every 20 ms. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe('threads executor hand-out', () => {
  it('preload makes every worker import the processor once, before any chunk is sent', async () => {
    const marker = join(dir, 'imports.txt');
    process.env.RISTRETTO_TEST_IMPORT_MARKER = marker;
    const pool = new ThreadsExecutor({ workers: 2, callerRuns: false });
    try {
      pool.prestart();
      const bundle = await bundleProcessor(fixture('import-marker.ts'));
      pool.preload(bundle);
      const lines = () => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : []);
      await until(() => lines().length === 2);
      expect(new Set(lines()).size).toBe(2); // two different threads

      const work = await items(ROOT_FILE(), 700); // 10000 entries → 15 chunks over two workers
      const job = { processor: bundle, metadata: {} };
      const results = await Promise.all(work.map((it) => pool.submit(it, job)));
      expect(results.reduce((n, r) => n + r.metrics.events, 0)).toBe(10_000);
      expect(lines()).toHaveLength(2); // the chunks used the preloaded module: no second import
    } finally {
      delete process.env.RISTRETTO_TEST_IMPORT_MARKER;
      await pool.close();
    }
  });

  it('a processor that fails to import fails its chunks naming the chunk and the error, preloaded or not', async () => {
    const bundle = await bundleProcessor(fixture('throws-on-import.ts'));
    const [item] = await items(PARQUET_FILE(), 400);
    for (const preload of [true, false]) {
      const pool = new ThreadsExecutor({ workers: 1 });
      try {
        if (preload) {
          pool.prestart();
          pool.preload(bundle);
        }
        const err = await pool.submit(item, { processor: bundle, metadata: {} }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RistrettoError);
        const message = (err as Error).message;
        expect(message).toContain('ProcessorLoadError');
        expect(message).toContain('top-level failure in throws-on-import');
        expect(message).toContain(`entries [${item.entryStart}, ${item.entryStop})`);
        expect(message).not.toContain('never sent');
      } finally {
        await pool.close();
      }
    }
  });

  it('a worker that dies fails only its running chunk; the chunk queued behind it runs elsewhere, no retry', async () => {
    const markers = join(dir, 'crash');
    await mkdir(join(markers, 'a'), { recursive: true });
    await mkdir(join(markers, 'b'), { recursive: true });
    const ds = (sub: string) =>
      writeJson(join(dir, `crash-${sub}.json`), {
        pq: { files: [PARQUET_FILE()], metadata: { markerDir: join(markers, sub) } },
      });
    // One worker holding two items: [0, 250) running (it crashes the first time), [250, 500) queued.
    const err = await runAnalysis({
      fileset: await ds('a'),
      processor: fixture('crash.ts'),
      chunksize: 250,
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 1, depth: 2 }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerLostError);
    expect((err as Error).message).toMatch(/entries \[0, 250\).*exited with code 3/);

    const r = await runAnalysis<{ n: number }>({
      fileset: await ds('b'),
      processor: fixture('crash.ts'),
      chunksize: 250,
      retries: 1,
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 1, depth: 3 }),
    });
    expect(r.accumulator.n).toBe(1000);
    // Only the crashed chunk was retried: the two waiting behind it in the dead worker were sent again untouched.
    expect(r.metrics.retries).toBe(1);
  });

  it('results equal the in-process executor bit for bit at queue depths 1, 2 and 4', async () => {
    const ds = await writeJson(join(dir, 'eq.json'), { root: [ROOT_FILE()], pq: [PARQUET_FILE()] });
    const run = (executor?: Parameters<typeof runAnalysis>[0]['executor']) =>
      runAnalysis({ fileset: ds, processor: fixture('hists.ts'), chunksize: 333, executor });
    const ref = await run();
    for (const depth of [1, 2, 4]) {
      const th = await run((ctx) => new ThreadsExecutor({ ...ctx, workers: 2, depth }));
      expect(th.accumulator).toStrictEqual(ref.accumulator);
      expect(th.metrics.chunks).toBe(ref.metrics.chunks);
    }
    const viaFactory = await run(executorFactory('threads'));
    expect(viaFactory.accumulator).toStrictEqual(ref.accumulator);
    // And the plain numbers against the files themselves.
    const root = await readDirect(ROOT_FILE());
    const pq = await readDirect(PARQUET_FILE());
    expect(ref.metrics.events).toBe(root.met.length + pq.met.length);
  });

  it('drain lets each worker go once it has nothing to run (its thread ends); a later item starts one again', async () => {
    const marker = join(dir, 'imports-drain.txt');
    process.env.RISTRETTO_TEST_IMPORT_MARKER = marker;
    const osThreads = () =>
      readFileSync(marker, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[1]);
    // Linux: a worker thread that really exited is gone from /proc/self/task.
    const gone = (tid: string) => process.platform !== 'linux' || !existsSync(`/proc/self/task/${tid}`);
    const bundle = await bundleProcessor(fixture('import-marker.ts'));
    const work = await items(ROOT_FILE(), 2000); // 5 chunks
    const job = { processor: bundle, metadata: {} };
    const pool = new ThreadsExecutor({ workers: 2, callerRuns: false });
    try {
      const pending = work.slice(0, 4).map((it) => pool.submit(it, job));
      pool.drain();
      const results = await Promise.all(pending);
      expect(results.map((r) => r.metrics.events)).toEqual(work.slice(0, 4).map((it) => it.entryStop - it.entryStart));
      const first = osThreads();
      expect(first.length).toBeGreaterThanOrEqual(1);
      if (process.platform === 'linux') expect(first.every((t) => /^\d+$/.test(t))).toBe(true);
      await until(() => pool.liveWorkers === 0);
      // Not just uncounted: each drained worker's OS thread ends (waits for it, within the test's time).
      await until(() => first.every(gone));
      const late = await pool.submit(work[4], job);
      expect(late.metrics.events).toBe(work[4].entryStop - work[4].entryStart);
      const again = osThreads().slice(first.length);
      expect(again).toHaveLength(1); // one new worker, on a thread of its own
      expect(first).not.toContain(again[0]);
    } finally {
      delete process.env.RISTRETTO_TEST_IMPORT_MARKER;
      await pool.close();
    }
    expect(pool.liveWorkers).toBe(0);
  });

  it('after drain, a retry of the last chunk runs on the worker that failed it instead of a new one', async () => {
    const marker = join(dir, 'imports-retry.txt');
    const markerDir = join(dir, 'retry-markers');
    await mkdir(markerDir, { recursive: true });
    process.env.RISTRETTO_TEST_IMPORT_MARKER = marker;
    const pool = new ThreadsExecutor({ workers: 1, retries: 1 });
    try {
      const bundle = await bundleProcessor(fixture('flaky-noted.ts'));
      const work = await items(PARQUET_FILE(), 250); // 4 chunks; the last one fails once
      const job = { processor: bundle, metadata: { d: { markerDir, failAt: work[3].entryStart } } };
      const pending = work.map((it) => pool.submit(it, job));
      pool.drain();
      const results = await Promise.all(pending);
      expect(results.reduce((n, r) => n + r.metrics.events, 0)).toBe(1000);
      expect(pool.stats.retries).toBe(1);
      expect(readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(1); // one worker all along
    } finally {
      delete process.env.RISTRETTO_TEST_IMPORT_MARKER;
      await pool.close();
    }
  });

  it('rejects a queue depth that is not a positive integer', () => {
    expect(() => new ThreadsExecutor({ workers: 1, depth: 0 })).toThrow(ThreadsOptionError);
    expect(() => new ThreadsExecutor({ workers: 1, depth: 0 })).toThrow(/depth must be a positive integer, got 0/);
    expect(() => new ThreadsExecutor({ workers: 0 })).toThrow(ThreadsOptionError);
    expect(() => new ThreadsExecutor({ workers: 1.5 })).toThrow(/workers must be a positive integer, got 1.5/);
    expect(() => new ThreadsExecutor({ workers: 1, depth: 1.5 })).toThrow(/depth must be a positive integer/);
  });
});
