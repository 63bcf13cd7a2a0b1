/**
 * `RunHooks.betweenChunks` (the live view answers a loading page there) is handed by the runner to the
 * executor it builds: the in-process executor awaits it once before every chunk, a pool's workers run
 * on their own threads and do not. It is the run's own option, not module state: two runs in one
 * process each get their own. A real run over the shared ROOT file: 10,000 entries in chunks of 1000.
 */
import { describe, expect, it } from 'vitest';
import { executorFactory } from '../../executors/index.ts';
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

  it('a pool of worker threads does not call it (its chunks do not hold the main thread)', async () => {
    const a = counted();
    const fileset = [{ name: 'zmm', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: {} }];
    const r = await runAnalysis({
      fileset,
      processor: fixture('count-events.ts'),
      chunksize: 1000,
      executor: executorFactory('threads'),
      workers: 2,
      hooks: { betweenChunks: a.hook },
    });
    expect(r.metrics.chunks).toBe(CHUNKS);
    expect(a.calls).toBe(0);
  });
});
