/**
 * What discovering a processor's columns costs: ADL Q1–Q8 over a file through `processChunk` (the path every
 * executor runs), on a state that has seen nothing (the first chunk a worker sees pays for reading the columns
 * the processor touches) and again on the same state (every column known and read up front: the steady state).
 * Also the threads executor with a new 2-worker pool per run (each worker cold; worker start-up included).
 * Written to run unchanged on older trees (before and after "process() runs exactly once per chunk").
 *
 *     npx tsx bench/first-chunk.ts [--file bench/data/adl-2M.parquet] [--queries 1,5] [--reps 1] [--chunksize 100000] [--no-threads]
 *
 * Per query: first-chunk ms (cold), whole file cold s, whole file warm s (min over reps), threads cold s, and a
 * hash of the encoded result (equal cold and warm, and across trees when the results are identical).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { accumulate, decode, encode } from '../src/accumulate/index.ts';
import { planWork } from '../src/dataset/preprocess.ts';
import { bundleProcessor } from '../src/processor/bundle.ts';
import { loadProcessor } from '../src/processor/load.ts';
import type { Processor } from '../src/processor/types.ts';
import { createChunkState, processChunk } from '../src/runner/process-chunk.ts';
import { createExecutor, type JobSpec } from '../executors/index.ts';
import { workerRuntime } from '../executors/threads/runtime.ts';
import { adlFile, adlFileOptions, benchArgs, flag } from './lib.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const a = benchArgs("What discovering a processor's columns costs: the first chunk vs the steady state.", {
  ...adlFileOptions(1),
  'no-threads': flag('leave out the threads executor'),
});
const file = adlFile(a.file);
const { queries, reps, chunksize } = a;
const threads = !a['no-threads'];
// As the iterative executor does: a sync-read helper (trees that have one) starts from the bundled runtime.
const syncRead = (await import('../src/io/sync-read.ts').catch(() => undefined)) as
  | { setSyncReadHelperEntry?: (u: URL) => void }
  | undefined;
syncRead?.setSyncReadHelperEntry?.(await workerRuntime());

const plan = await planWork([{ name: 'adl', files: [{ path: file, tree: 'Events' }], metadata: {} }], {
  chunksize,
  align: true,
});
const items = plan.items;
const events = items.reduce((n, it) => n + it.entryStop - it.entryStart, 0);
console.log(`${file}: ${events.toLocaleString()} events, ${items.length} chunks; reps ${reps}`);
console.log('query  first-chunk-ms  cold-s  warm-s  threads-cold-s  passes-first-chunk  result');

for (const q of queries) {
  const path = resolve(repo, 'processors', 'adl', `query-${q}.ts`);
  const processor = (await loadProcessor(path)) as Processor<unknown>;
  let first = Infinity;
  let cold = Infinity;
  let warm = Infinity;
  let passes: unknown = '-';
  let total = '';
  for (let r = 0; r < reps; r++) {
    const state = createChunkState();
    let acc = processor.accumulator();
    const t0 = performance.now();
    for (const [i, it] of items.entries()) {
      const res = await processChunk(it, processor, state);
      if (i === 0) {
        first = Math.min(first, performance.now() - t0);
        passes = (res.metrics as unknown as { passes?: number }).passes ?? 1;
      }
      acc = accumulate(acc, decode(res.accumulator));
    }
    cold = Math.min(cold, (performance.now() - t0) / 1000);
    const t1 = performance.now();
    let acc2 = processor.accumulator();
    for (const it of items) acc2 = accumulate(acc2, decode((await processChunk(it, processor, state)).accumulator));
    warm = Math.min(warm, (performance.now() - t1) / 1000);
    const h1 = createHash('sha256').update(encode(acc)).digest('hex').slice(0, 12);
    const h2 = createHash('sha256').update(encode(acc2)).digest('hex').slice(0, 12);
    total = h1 === h2 ? h1 : `cold ${h1} != warm ${h2}`;
    await state.readers.closeAll();
  }
  let th = NaN;
  if (threads) {
    const job: JobSpec = { processor: await bundleProcessor(path), metadata: { adl: {} }, prefetch: [] };
    th = Infinity;
    for (let r = 0; r < reps; r++) {
      const ex = createExecutor('threads', { workers: 2 });
      const t = performance.now();
      await Promise.all(items.map((it) => ex.submit(it, job)));
      th = Math.min(th, (performance.now() - t) / 1000);
      await ex.close();
    }
  }
  console.log(
    `Q${q}  ${first.toFixed(0).padStart(6)}  ${cold.toFixed(2).padStart(6)}  ${warm.toFixed(2).padStart(6)}  ${th.toFixed(2).padStart(6)}  ${String(passes).padStart(3)}  ${total}`,
  );
}
