/**
 * One pool worker: keeps processor bundles (by hash) and open readers across chunks and runs each
 * item through `processChunk`. Accumulators go back as transferred buffers.
 *
 * The same module is the entry of each worker's sync-read helper thread (it reads the columns a
 * processor touches without prefetch, see src/io/sync-read.ts): started from the runtime the pool
 * already built, a helper loads in a fraction of the time the TypeScript sources take through tsx.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { brokenInvariant, internalError } from '../../src/errors/index.ts';
import { rememberAll } from '../../src/io/opened.ts';
import { setSyncReadHelperEntry, SYNC_READ_HELPER_ROLE } from '../../src/io/sync-read.ts';
import { serve as serveSyncReads } from '../../src/io/sync-read-helper.ts';
import { loadBundle, type ProcessorBundle } from '../../src/processor/bundle.ts';
import { toChunkFailure } from '../../src/runner/errors.ts';
import { processBatch } from '../../src/runner/process-batch.ts';
import { createChunkState, processChunk } from '../../src/runner/process-chunk.ts';
import {
  CURSOR_EXITED,
  CURSOR_INDEX,
  CURSOR_RUN,
  type PoolMessage,
  type ReplyMessage,
  type RunMessage,
} from './protocol.ts';

interface WorkerData {
  maxReaders?: number;
  bundleDir?: string;
  /** URL of this runtime, for the helper thread. */
  runtime?: string;
  /** Set when this thread is a sync-read helper. */
  role?: string;
  port?: MessagePort;
  flag?: Int32Array;
}
const data = (workerData ?? {}) as WorkerData;

if (data.role === SYNC_READ_HELPER_ROLE) {
  if (!data.port || !data.flag) throw internalError('a sync-read helper started without its port and flag');
  serveSyncReads(data.port, data.flag);
} else poolWorker();

function poolWorker(): void {
  const port = parentPort ?? brokenInvariant('the pool worker module loaded outside a worker thread');
  if (data.runtime) setSyncReadHelperEntry(data.runtime);
  // No helper thread up front: local Parquet files read misses synchronously themselves, and for other
  // readers processChunk starts the helper as it opens the file of a processor's first chunk. Started
  // here unconditionally it cost each worker ~0.3–0.5 s of CPU (loading the readers a second time) that
  // the other worker needed, on a machine with as many cores as workers.
  const state = createChunkState({ maxReaders: data.maxReaders });
  const bundles = new Map<string, ProcessorBundle>();
  /** Where this worker marks the item it is running, for the pool to name it should this thread die. */
  let cursor: Int32Array | undefined;
  /** Runs started and not yet answered: an exit while one runs is the processor's process.exit. */
  let running = 0;
  // An uncaught exception also ends the thread through 'exit': that is a crash, not the processor's exit.
  let crashed = false;
  process.on('uncaughtExceptionMonitor', () => {
    crashed = true;
  });
  process.on('exit', () => {
    if (running > 0 && !crashed && cursor) Atomics.store(cursor, CURSOR_EXITED, 1);
  });

  // The pool sends a run ahead while the previous one is still running, so that no worker waits for its
  // next chunk: runs are chained here to go one at a time, in order (the pool knows which one is running).
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (m: PoolMessage) => {
    if (m.type === 'load') {
      bundles.set(m.bundle.hash, m.bundle);
      // Errors surface (and are reported) with the chunks that need the processor.
      loadBundle(m.bundle, { dir: data.bundleDir }).catch(() => undefined);
      return;
    }
    if (m.type === 'watch') {
      cursor = m.cursor;
      return;
    }
    if (m.type === 'exit') {
      void tail.then(flushStdio).then(() => process.exit(0));
      return;
    }
    if (m.bundle) bundles.set(m.bundle.hash, m.bundle);
    if (m.opened) rememberAll(m.opened);
    tail = tail.then(() => run(m));
  });

  async function run(m: RunMessage): Promise<void> {
    let index = 0;
    const mark = (k: number) => {
      index = k;
      if (cursor) {
        Atomics.store(cursor, CURSOR_RUN, m.id);
        Atomics.store(cursor, CURSOR_INDEX, k);
      }
    };
    running++;
    try {
      mark(0);
      const bundle = bundles.get(m.hash);
      if (!bundle) throw internalError(`processor bundle ${m.hash} was never sent to this worker`, { hash: m.hash });
      // The pool passes the bundle folder: inside the bundled runtime, import.meta.url no longer points at src/.
      const processor = await loadBundle(bundle, { dir: data.bundleDir });
      const opts = { metadata: m.metadata, prefetch: m.prefetch, processorKey: m.hash };
      // The next unit goes to whichever runner asks first: read nothing ahead past this one (a single
      // chunk too: the tail of a run is single-chunk units, and a guess there read another runner's chunk).
      const result = m.batch
        ? await processBatch(m.items, processor, state, { ...opts, onItem: mark, after: null })
        : await processChunk(m.items[0], processor, state, { ...opts, next: null });
      const reply: ReplyMessage = { type: 'done', id: m.id, result };
      port.postMessage(reply, [result.accumulator.buffer as ArrayBuffer]);
    } catch (e) {
      const reply: ReplyMessage = { type: 'failed', id: m.id, index, failure: toChunkFailure(e) };
      port.postMessage(reply);
    } finally {
      running--;
    }
  }
}

/**
 * Wait until this thread's stdout and stderr have handed everything to the main thread: a worker's
 * streams pass one write at a time and hold the rest until the main thread asks for more. Bounded, so a
 * main thread that stopped reading cannot keep the worker alive.
 */
async function flushStdio(): Promise<void> {
  const until = Date.now() + 5000;
  while ((process.stdout.writableLength > 0 || process.stderr.writableLength > 0) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 1));
}
