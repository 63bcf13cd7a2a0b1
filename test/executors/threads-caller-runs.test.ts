/**
 * The calling thread as one of a thread pool's runners (ThreadsOptions.callerRuns): which threads run
 * chunks, how many worker threads start, and that the sums do not change with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { workerThreads } from '../../executors/threads/prestart.mjs';
import { runAnalysis } from '../../src/runner/run.ts';
import { fixture, ROOT_FILE, useTempDir, writeJson } from '../runner/helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});
afterEach(() => {
  delete process.env.RISTRETTO_TEST_CHUNK_MARKER;
});

type Sums = { n: number; sumMet: number };

/** Run the marker processor over the 10,000-event ROOT file (20 chunks); where each chunk ran. */
async function runMarked(name: string, pool: ThreadsExecutor | undefined) {
  const marker = join(dir, `${name}.txt`);
  process.env.RISTRETTO_TEST_CHUNK_MARKER = marker; // workers take their environment when they start
  const fileset = await writeJson(join(dir, `${name}.json`), { d: { files: [ROOT_FILE()] } });
  try {
    const r = await runAnalysis<Sums>({
      fileset,
      processor: fixture('chunk-thread-marker.ts'),
      chunksize: 500,
      ...(pool ? { executor: pool } : {}),
    });
    const lines = existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : [];
    const runners = new Set(lines.map((l) => l.split(' ')[0]));
    const starts = lines.map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
    return { accumulator: r.accumulator, runners, starts, live: pool?.liveWorkers };
  } finally {
    await pool?.close();
  }
}

const EVERY_CHUNK = Array.from({ length: 20 }, (_, i) => i * 500);

describe('the calling thread runs items too', () => {
  it('counts the worker threads a pool of n runners starts', () => {
    expect(workerThreads(1)).toBe(1); // a pool of one is a worker thread
    expect(workerThreads(2)).toBe(2); // off by default: every chunk in a worker thread
    expect(workerThreads(2, true)).toBe(1);
    expect(workerThreads(4, true)).toBe(3);
    expect(workerThreads(2, false)).toBe(2);
    expect(workerThreads(1, true)).toBe(1);
  });

  it('two runners: chunks run on this thread and on one worker thread, with the in-process sums', async () => {
    const ref = await runMarked('iterative', undefined);
    expect(ref.runners).toEqual(new Set(['main']));
    const pool = new ThreadsExecutor({ workers: 2, callerRuns: true });
    const two = await runMarked('caller', pool);
    expect(two.accumulator).toStrictEqual(ref.accumulator); // float sums bit for bit
    expect(two.accumulator.n).toBe(10_000);
    expect(two.starts).toEqual(EVERY_CHUNK); // each chunk once
    expect(two.runners.has('main')).toBe(true);
    expect(two.runners.size).toBe(2); // main and one worker thread, no second one
  });

  it('by default, and a pool of one, every chunk runs in a worker thread', async () => {
    const ref = await runMarked('iterative-2', undefined);
    const off = await runMarked('off', new ThreadsExecutor({ workers: 2 }));
    expect(off.accumulator).toStrictEqual(ref.accumulator);
    expect(off.starts).toEqual(EVERY_CHUNK);
    expect(off.runners.has('main')).toBe(false);
    expect(off.runners.size).toBe(2);
    const one = await runMarked('one', new ThreadsExecutor({ workers: 1, callerRuns: true }));
    expect(one.accumulator).toStrictEqual(ref.accumulator);
    expect(one.starts).toEqual(EVERY_CHUNK);
    expect([...one.runners]).toHaveLength(1);
    expect(one.runners.has('main')).toBe(false);
  });
});
