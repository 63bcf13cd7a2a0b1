/**
 * `RunHooks.betweenChunks` (the live view answers a loading page there) is handed by the runner to the
 * executor it builds: the in-process executor awaits it once before every chunk, and so does a thread
 * pool before each chunk it runs on the main thread (callerRuns); its workers run on their own threads. It is the run's own option, not module state: two runs in one
 * process each get their own. A real run over the shared ROOT file: 10,000 entries in chunks of 1000.
 */
import { describe, expect, it } from 'vitest';
import { executorFactory, ThreadsExecutor } from '../../executors/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { fixture, ROOT_FILE } from './helpers.ts';

const CHUNKS = 10; // 10,000 entries / --chunksize 1000

function counted(): { calls: number; hook: () => Promise<void> } {
  const c = {
    calls: 0,
    hook: async () => {
      c.calls++;
      await new Promise((resolve) => setImmediate(resolve)); // an async hook is awaited, as settle() is
    },
  };
  return c;
}

describe('RunHooks.betweenChunks', () => {
  it('an in-process run awaits it once per chunk; two runs at once each call only their own', async () => {
    const a = counted();
    const b = counted();
    const fileset = [{ name: 'zmm', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: {} }];
    const [ra, rb] = await Promise.all([
      runAnalysis({
        fileset,
        processor: fixture('count-events.ts'),
        chunksize: 1000,
        hooks: { betweenChunks: a.hook },
      }),
      runAnalysis({
        fileset,
        processor: fixture('count-events.ts'),
        chunksize: 2500,
        hooks: { betweenChunks: b.hook },
      }),
    ]);
    expect(ra.metrics.chunks).toBe(CHUNKS);
    expect(a.calls).toBe(CHUNKS);
    expect(rb.metrics.chunks).toBe(4);
    expect(b.calls).toBe(4);
  });

  it('a pool calls it only before the chunks the main thread runs itself (callerRuns), never for its workers', async () => {
    const fileset = [{ name: 'zmm', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: {} }];
    const opts = { fileset, processor: fixture('count-events.ts'), chunksize: 1000 };
    const a = counted();
    const r = await runAnalysis({
      ...opts,
      executor: executorFactory('threads', { callerRuns: true }),
      workers: 2,
      hooks: { betweenChunks: a.hook },
    });
    expect(r.metrics.chunks).toBe(CHUNKS);
    // Two runners: the main thread and one worker thread, which takes the second unit at least.
    expect(a.calls).toBeGreaterThanOrEqual(1);
    expect(a.calls).toBeLessThan(CHUNKS);
    const b = counted();
    const off = await runAnalysis({
      ...opts,
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 2 }), // callerRuns off by default
      hooks: { betweenChunks: b.hook },
    });
    expect(off.metrics.chunks).toBe(CHUNKS);
    expect(b.calls).toBe(0);
  });
});
