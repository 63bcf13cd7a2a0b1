/**
 * Batches on the thread pool: a worker runs a merge group of consecutive chunks and sums their results
 * itself. Real files from ../shared, real worker threads and a real `run-analysis` process killed mid-run.
 * What must hold: totals bit for bit those of the in-process executor (float sums included) and of a plain
 * loop; a chunk failing inside a batch, or a worker dying inside one, is named by its own entry range and
 * ends the run with the typed error (or is retried); a killed run resumes to the same result.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import type { WorkItem } from '../../src/dataset/chunking.ts';
import type { BatchResult, JobSpec } from '../../src/runner/executor.ts';
import { ChunkError, WorkerLostError } from '../../src/runner/errors.ts';
import { planWork } from '../../src/dataset/preprocess.ts';
import { mergeGroups } from '../../src/runner/merge-groups.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import type { MetMuons } from '../fixtures/processors/met-muons.ts';
import { repoRoot } from '../shared.ts';
import {
  fixture,
  naiveMetMuons,
  PARQUET_FILE,
  readDirect,
  ROOT_FILE,
  useTempDir,
  writeJson,
} from '../runner/helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});

/** The work items of the ROOT file in chunks of 150, and its first merge group (a batch on the pool). */
async function firstBatch(): Promise<WorkItem[]> {
  const plan = await planWork([{ name: 'single', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: {} }], {
    chunksize: 150,
  });
  const [a, b] = mergeGroups(plan.items)[0];
  return plan.items.slice(a, b);
}

/** A pool that counts the batches (and the items in them) it was handed. */
function countingPool(opts: ConstructorParameters<typeof ThreadsExecutor>[0]) {
  const pool = new ThreadsExecutor(opts);
  const seen = { batches: 0, items: 0 };
  const submitBatch = pool.submitBatch.bind(pool);
  pool.submitBatch = (items: readonly WorkItem[], job: JobSpec): Promise<BatchResult> => {
    seen.batches++;
    seen.items += items.length;
    return submitBatch(items, job);
  };
  return { pool, seen };
}

describe('threads executor batches', () => {
  it('sums in the workers equal the in-process executor bit for bit (float sums too) and a plain loop', async () => {
    const ds = await writeJson(join(dir, 'eq.json'), { single: [ROOT_FILE()], pq: [PARQUET_FILE()] });
    const opts = { fileset: ds, processor: fixture('met-muons.ts'), chunksize: 150 };
    const ref = await runAnalysis<MetMuons>(opts);
    const { pool, seen } = countingPool({ workers: 2 });
    try {
      const th = await runAnalysis<MetMuons>({ ...opts, executor: pool });
      expect(th.accumulator).toStrictEqual(ref.accumulator);
      expect(th.metrics.chunks).toBe(ref.metrics.chunks);
      expect(th.metrics.chunkSeconds).toHaveLength(ref.metrics.chunks);
      expect(th.metrics.events).toBe(11_000);
      // 67 + 7 chunks: the large groups went out as batches, the tail as single chunks.
      expect(seen.batches).toBeGreaterThan(3);
      expect(seen.items).toBeGreaterThan(30);
      expect(seen.items).toBeLessThan(ref.metrics.chunks);
    } finally {
      await pool.close();
    }
    const root = await readDirect(ROOT_FILE());
    const pq = await readDirect(PARQUET_FILE());
    const naive = naiveMetMuons([
      { dataset: 'single', ...root },
      { dataset: 'pq', ...pq },
    ]);
    const { sumMet, ...exact } = naive;
    expect({ ...ref.accumulator, sumMet: undefined }).toEqual({ ...exact, sumMet: undefined });
    expect(ref.accumulator.sumMet).toBeCloseTo(sumMet, 6);
  });

  it('a chunk failing inside a batch is named by its own entries; with --retries the batch reruns', async () => {
    const batch = await firstBatch();
    expect(batch.length).toBeGreaterThan(2);
    const { entryStart: failAt, entryStop: failStop } = batch[2]; // its third chunk
    const markers = join(dir, 'flaky');
    await mkdir(join(markers, 'a'), { recursive: true });
    await mkdir(join(markers, 'b'), { recursive: true });
    const ds = (sub: string) =>
      writeJson(join(dir, `flaky-${sub}.json`), {
        single: { files: [ROOT_FILE()], metadata: { markerDir: join(markers, sub), failAt } },
      });
    const run = async (sub: string, retries: number) => {
      const { pool, seen } = countingPool({ workers: 2, retries });
      try {
        const r = await runAnalysis<{ n: number }>({
          fileset: await ds(sub),
          processor: fixture('flaky-noted.ts'),
          chunksize: 150,
          executor: pool,
        }).catch((e: unknown) => e);
        return { r, seen };
      } finally {
        await pool.close();
      }
    };
    const failed = await run('a', 0);
    expect(failed.r).toBeInstanceOf(ChunkError);
    expect((failed.r as Error).message).toContain(`entries [${failAt}, ${failStop})`);
    expect((failed.r as Error).message).toContain(`transient failure at ${failAt}`);
    expect(failed.seen.batches).toBeGreaterThan(0);

    const retried = await run('b', 1);
    expect(retried.r).not.toBeInstanceOf(Error);
    const r = retried.r as Awaited<ReturnType<typeof runAnalysis<{ n: number }>>>;
    expect(r.accumulator.n).toBe(10_000);
    expect(r.metrics.retries).toBe(1);
  });

  it('a worker dying inside a batch names the chunk it was running; a retry completes the same sums', async () => {
    const markers = join(dir, 'crash');
    await mkdir(join(markers, 'a'), { recursive: true });
    await mkdir(join(markers, 'b'), { recursive: true });
    const batch = await firstBatch();
    const { entryStart: crashAt, entryStop: crashStop } = batch[3]; // the fourth chunk of the first batch
    const ds = (sub: string) =>
      writeJson(join(dir, `crash-${sub}.json`), {
        single: { files: [ROOT_FILE()], metadata: { markerDir: join(markers, sub), crashAt } },
      });
    const opts = { processor: fixture('crash-at.ts'), chunksize: 150 };
    // Every chunk in a worker thread: a crash on the calling thread (callerRuns) is not a lost worker.
    const err = await runAnalysis({
      ...opts,
      fileset: await ds('a'),
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 2, callerRuns: false }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerLostError);
    expect((err as Error).message).toMatch(new RegExp(`entries \\[${crashAt}, ${crashStop}\\).*exited with code 3`));

    const th = await runAnalysis<{ n: number; sumMet: number }>({
      ...opts,
      fileset: await ds('b'),
      retries: 1,
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 2, callerRuns: false }),
    });
    expect(th.metrics.retries).toBe(1);
    // The same sums as one pool run that never crashed (the crash marker of 'b' now exists).
    const again = await runAnalysis<{ n: number; sumMet: number }>({
      ...opts,
      fileset: await ds('b'),
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 1 }),
    });
    expect(th.accumulator).toStrictEqual(again.accumulator);
    expect(th.accumulator.n).toBe(10_000);
  });

  it('a run-analysis process killed mid-run resumes (--resume, 2 workers) to the uninterrupted result', async () => {
    const ds = await writeJson(join(dir, 'kill.json'), {
      single: { files: [ROOT_FILE()], metadata: { sleepMs: 40 } },
    });
    const out = join(dir, 'killed');
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'run-analysis.mjs'),
        ds,
        fixture('slow.ts'),
        '--executor',
        'threads',
        '--workers',
        '2',
        '--chunksize',
        '150',
        '--checkpoint-every',
        '1',
        '-q',
        '--out',
        out,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ckpt = join(out, '.ristretto-checkpoint.bin');
    let finished = false;
    void exited.then(() => (finished = true));
    while (!existsSync(ckpt) && !finished) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    expect(await exited).toBeNull(); // killed, not finished: 67 chunks of ≥ 40 ms on two workers
    const notes: string[] = [];
    const opts = { fileset: ds, processor: fixture('slow.ts'), chunksize: 150 };
    const resumed = await runAnalysis({
      ...opts,
      outDir: out,
      resume: true,
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 2 }),
      hooks: { onNote: (m) => notes.push(m) },
    });
    expect(resumed.metrics.resumedChunks).toBeGreaterThan(0);
    expect(resumed.metrics.resumedChunks).toBeLessThan(67);
    expect(notes.some((n) => /^resuming: \d+ of 67 chunks already done$/.test(n))).toBe(true);
    const full = await runAnalysis({ ...opts, checkpoint: false });
    expect(resumed.accumulator).toStrictEqual(full.accumulator);
    expect(resumed.metrics.events).toBe(10_000);
  }, 120_000);
});
