/**
 * Thread-pool executor: `workers` worker_threads, each loading the processor bundle once and staying
 * warm (bundle, open readers, discovered columns) across chunks. Workers run the bundled runtime
 * (runtime.ts), so they start without compiling TypeScript; they are started as the run starts and import
 * the processor bundle as soon as the runner has it (`prestart`, `preload`). Each worker holds up to
 * `depth` items — one running, the next already sent — so it never waits for the main thread between
 * chunks. A worker that dies is replaced: the chunk it was running fails with WorkerLostError (retried by
 * --retries), the ones queued behind it go back to the pool's queue untouched.
 *
 * With `callerRuns` (off by default; `run-analysis --caller-runs`) the calling thread is one of the
 * runners: `workers: 2` starts one worker thread and runs items on this thread as well, between its own
 * work (merging a result is a fraction of a millisecond per batch). This thread already has the
 * processor loaded and the files' metadata parsed; a second worker thread boots Node, loads the runtime,
 * warms its own JIT and GC up and competes for the same cores (3–10 % of a short run on two cores). Off
 * by default because it gives up what a pool is for: a chunk on this thread that calls process.exit,
 * throws from a timer or runs out of memory ends the command, and Ctrl-C and the live view wait for it.
 *
 * `submitBatch` runs the runner's merge groups (consecutive chunks of one file) as one item: the worker
 * sums their accumulators itself and sends one result, so the runner decodes and merges once per group
 * and no message crosses threads per chunk. Each worker marks the chunk it is running in shared memory,
 * so a worker that dies mid-batch still names that chunk.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkItem } from '../../src/dataset/chunking.ts';
import { openedKey, openedState, type OpenedState } from '../../src/io/opened.ts';
import { bundleDir, type ProcessorBundle } from '../../src/processor/bundle.ts';
import { brokenInvariant } from '../../src/errors/index.ts';
import { CancelledError, fromChunkFailure, WorkerLostError } from '../../src/runner/errors.ts';
import { PROCESS_EXIT_ADVICE } from '../../src/runner/exit-guard.ts';
import { InProcessExecutor } from '../../src/runner/in-process.ts';
import type { BatchResult } from '../../src/runner/process-batch.ts';
import type { ChunkResult } from '../../src/runner/process-chunk.ts';
import { BaseExecutor, type ExecutorOptions, type JobSpec } from '../base.ts';
import { ThreadsOptionError } from './errors.ts';
import { takePrestarted, workerThreads } from './prestart.mjs';
import {
  CURSOR_EXITED,
  CURSOR_INDEX,
  CURSOR_RUN,
  CURSOR_SLOTS,
  type LoadMessage,
  type PoolMessage,
  type ReplyMessage,
  type RunMessage,
} from './protocol.ts';
import { workerRuntime } from './runtime.ts';

export { ThreadsOptionError, WorkerRuntimeError } from './errors.ts';

export interface ThreadsOptions extends ExecutorOptions {
  /**
   * Runners (default: available parallelism): worker threads, and this thread as one of them with
   * `callerRuns`.
   */
  workers?: number;
  /** Readers each worker keeps open (default 4). */
  maxReaders?: number;
  /**
   * Items sent to a worker at once: the running one plus those waiting in its queue (default 2, so the
   * next chunk is there when one ends). 1 sends each item only when its worker is idle.
   */
  depth?: number;
  /**
   * Run items on the calling thread too, as one of the `workers` runners, so that `workers: n` starts
   * n − 1 worker threads (default: false; a pool of one is always a worker thread). Saves a worker's
   * boot and its share of the cores, but a chunk on this thread is not isolated: a processor that calls
   * `process.exit`, throws asynchronously or runs out of memory there ends the command, and signals and
   * the live view wait for the chunk. With `false` such a chunk loses only its worker (WorkerLostError,
   * retried with `retries`).
   */
  callerRuns?: boolean;
}

interface Task {
  readonly id: number;
  /** One item, or the consecutive items of a batch. */
  readonly items: readonly WorkItem[];
  readonly batch: boolean;
  readonly job: JobSpec;
  readonly resolve: (r: ChunkResult | BatchResult) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly shipped: Set<string>;
  /** The worker's [run id, item index] of what it is running (shared memory, see protocol.ts). */
  readonly cursor: Int32Array;
  /** Items sent to this worker, in the order sent: the first is running, the others wait behind it. */
  readonly tasks: Task[];
  alive: boolean;
}

/**
 * A pool of worker threads running chunks. Built by `runAnalysis` through `executorFactory('threads')`, or
 * by hand to share one warm pool between runs (the caller closes it).
 *
 * @example
 * ```ts
 * const pool = new ThreadsExecutor({ workers: 2 });
 * try {
 *   const a = await runAnalysis({ fileset: 'datasets.json', processor: 'zmumu.ts', executor: pool });
 *   const b = await runAnalysis({ fileset: 'datasets.json', processor: 'zmumu.ts', executor: pool }); // warm workers
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class ThreadsExecutor extends BaseExecutor {
  readonly name = 'threads';
  readonly concurrency: number;
  /** Every worker's `depth` items, plus as many again so that a slow item does not hold the others back. */
  readonly window: number;
  private readonly depth: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private readonly maxReaders: number | undefined;
  private nextId = 0;
  private closed = false;
  private entry: URL | undefined;
  private prestarted = false;
  /** Bundles handed to `preload`: sent to every worker, including those started later. */
  private readonly preloaded: ProcessorBundle[] = [];
  /** Set by `drain`: a worker left without work is let go at once. */
  private draining = false;
  /** Terminations of workers let go by `drain`, awaited by `close`. */
  private readonly retiring = new Set<Promise<unknown>>();
  /** Worker threads this pool runs (`concurrency`, less the calling thread when it runs items too). */
  private readonly threads: number;
  /** The calling thread's runner (`callerRuns`): one item at a time, through the in-process executor. */
  private readonly local: InProcessExecutor | undefined;
  /** Whether the calling thread is running an item now. */
  private localBusy = false;

  constructor(opts: ThreadsOptions = {}) {
    super(opts);
    const n = opts.workers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1)
      throw new ThreadsOptionError(
        `workers must be a positive integer, got ${n}`,
        { option: 'workers', value: n },
        'give --workers (or ThreadsOptions.workers) a whole number of at least 1',
      );
    const depth = opts.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1)
      throw new ThreadsOptionError(
        `depth must be a positive integer, got ${depth}`,
        { option: 'depth', value: depth },
        'give ThreadsOptions.depth a whole number of at least 1 (1: one item per worker at a time)',
      );
    this.concurrency = n;
    this.depth = depth;
    this.window = n * (depth + 1);
    this.maxReaders = opts.maxReaders;
    this.threads = workerThreads(n, opts.callerRuns);
    // The calling thread's share: its retries are this pool's (submit, submitBatch), so it has none itself.
    if (this.threads < n)
      this.local = new InProcessExecutor({
        betweenChunks: opts.betweenChunks,
        helperEntry: () => workerRuntime(),
        handedOneAtATime: true,
      });
  }

  protected runOnce(item: WorkItem, job: JobSpec): Promise<ChunkResult> {
    return this.enqueue([item], job, false) as Promise<ChunkResult>;
  }

  /** Run consecutive items of one file on one worker, which sums their results (see Executor.submitBatch). */
  submitBatch(items: readonly WorkItem[], job: JobSpec): Promise<BatchResult> {
    return this.submitBatchWithRetries(items, () => this.enqueue(items, job, true) as Promise<BatchResult>);
  }

  private async enqueue(items: readonly WorkItem[], job: JobSpec, batch: boolean): Promise<ChunkResult | BatchResult> {
    this.entry ??= await workerRuntime();
    if (this.closed) throw new CancelledError(items[0]);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, items, batch, job, resolve, reject });
      this.pump();
    });
  }

  /**
   * Start every worker now: each loads the runtime (~0.2–0.5 CPU-s) while the runner still bundles the
   * processor and reads the files' footers, instead of after. Idle workers simply wait for the first chunk.
   */
  prestart(): void {
    if (this.prestarted || this.closed) return;
    this.prestarted = true;
    workerRuntime().then(
      (url) => {
        this.entry ??= url;
        // Once drained with nothing left to run, a worker would only be started to be let go.
        while (!this.closed && this.slots.length < this.threads && !(this.draining && this.queue.length === 0))
          this.spawn();
      },
      () => undefined, // runOnce reports it
    );
  }

  /**
   * Import `processor` in every worker now (and in workers started later), so that their first chunk does
   * not wait for it. A bundle that fails to load fails the chunks that need it, as without preload.
   */
  preload(processor: ProcessorBundle): void {
    if (this.closed || this.preloaded.some((b) => b.hash === processor.hash)) return;
    this.preloaded.push(processor);
    for (const slot of this.slots) if (slot.alive) this.ship(slot, processor);
  }

  private ship(slot: Slot, bundle: ProcessorBundle): void {
    if (slot.shipped.has(bundle.hash)) return;
    slot.shipped.add(bundle.hash);
    const msg: LoadMessage = { type: 'load', bundle };
    slot.worker.postMessage(msg);
  }

  /** Workers taken over from those the launcher started early (`prestart.mjs`) rather than started here. */
  adopted = 0;

  /** Workers running now (started and not yet lost, let go or closed). */
  get liveWorkers(): number {
    return this.slots.length;
  }

  /**
   * No more items are coming (but retries may): each worker is terminated as soon as it has nothing to run,
   * so that its teardown (~0.05–0.2 s) overlaps the other workers' last chunks. An item submitted later
   * starts a new worker.
   */
  drain(): void {
    this.draining = true;
    this.retireIdle();
  }

  private retireIdle(): void {
    if (!this.draining || this.queue.length > 0) return;
    for (const slot of [...this.slots]) {
      if (!slot.alive || slot.tasks.length > 0) continue;
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.retire(slot);
    }
  }

  /**
   * Let an idle worker go: it exits by itself once its console output has reached this thread
   * (`terminate()` would drop what it had not passed on yet); terminated if it has not within 10 s.
   */
  private retire(slot: Slot): void {
    slot.alive = false; // its exit is expected: not a lost worker
    const { worker } = slot;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().catch(() => undefined), 10_000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    worker.postMessage({ type: 'exit' } satisfies PoolMessage);
    this.retiring.add(done);
    void done.then(() => this.retiring.delete(done));
  }

  /**
   * Hand queued items out: to the calling thread when it is idle (`callerRuns`), to idle workers, then one
   * more to each worker (up to `depth`), spawning as needed.
   */
  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      if (this.local && !this.localBusy) {
        this.runLocal(this.queue.shift() as Task);
        continue;
      }
      let slot: Slot | undefined;
      for (const s of this.slots)
        if (s.alive && s.tasks.length < this.depth && (!slot || s.tasks.length < slot.tasks.length)) slot = s;
      // A worker not started yet beats queueing behind a busy one.
      if ((!slot || slot.tasks.length > 0) && this.slots.length < this.threads) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift();
      if (task) this.dispatch(slot, task);
    }
  }

  /**
   * Run `task` on this thread. It holds one item at a time (nothing waits behind it here, so an item
   * left in the queue goes to whichever runner is free first).
   */
  private runLocal(task: Task): void {
    const local = this.local ?? brokenInvariant('an item was run on the calling thread of a pool without callerRuns');
    this.localBusy = true;
    const running: Promise<ChunkResult | BatchResult> = task.batch
      ? local.submitBatch(task.items, task.job)
      : local.submit(task.items[0], task.job);
    running.then(task.resolve, task.reject).finally(() => {
      this.localBusy = false;
      this.pump();
      this.retireSoon();
    });
  }

  private dispatch(slot: Slot, task: Task): void {
    slot.tasks.push(task);
    const { processor } = task.job;
    const first = !slot.shipped.has(processor.hash);
    const msg: RunMessage = {
      type: 'run',
      id: task.id,
      items: task.items,
      batch: task.batch,
      hash: processor.hash,
      bundle: first ? processor : undefined,
      metadata: task.job.metadata[task.items[0].dataset] ?? {},
      prefetch: task.job.prefetch,
      opened: this.openedFor(slot, task.items),
    };
    slot.shipped.add(processor.hash);
    slot.worker.postMessage(msg);
  }

  /**
   * The main thread's parsed metadata of the items' files this worker has not been sent yet (each
   * worker would otherwise read and parse it again on its first chunk of the file); undefined if none.
   */
  private openedFor(slot: Slot, items: readonly WorkItem[]): Record<string, OpenedState> | undefined {
    let out: Record<string, OpenedState> | undefined;
    for (const it of items) {
      const key = openedKey(it.fileId, it.tree);
      if (slot.shipped.has(key)) continue;
      const state = openedState(it.fileId, it.tree);
      if (!state) continue;
      slot.shipped.add(key);
      out ??= {};
      out[key] = state;
    }
    return out;
  }

  private spawn(): Slot {
    // Workers the launcher started before the command loaded (prestart.mjs), when they run this runtime
    // with the same settings; otherwise a new one.
    const entry = this.entry ?? brokenInvariant('a pool worker spawned before the runtime was built');
    const adopted = this.maxReaders === undefined ? takePrestarted(entry.href) : undefined;
    if (adopted) this.adopted++;
    const worker =
      adopted ??
      new Worker(entry, {
        workerData: { maxReaders: this.maxReaders, bundleDir, runtime: entry.href },
      });
    const cursor = new Int32Array(new SharedArrayBuffer(4 * CURSOR_SLOTS)).fill(-1);
    const slot: Slot = { worker, shipped: new Set(), cursor, tasks: [], alive: true };
    worker.postMessage({ type: 'watch', cursor } satisfies PoolMessage);
    worker.on('message', (m: ReplyMessage) => {
      // Replies come in the order the items were sent (the worker runs them one at a time).
      const at = slot.tasks.findIndex((t) => t.id === m.id);
      if (at < 0) return;
      const [task] = slot.tasks.splice(at, 1);
      if (m.type === 'done') task.resolve(m.result);
      else task.reject(fromChunkFailure(task.items[m.index] ?? task.items[0], m.failure));
      this.pump();
      this.retireSoon();
    });
    worker.on('error', (e) => this.lost(slot, `uncaught ${e.name}: ${e.message}`));
    worker.on('exit', (code) => this.lost(slot, `worker exited with code ${code}`, code));
    this.slots.push(slot);
    for (const b of this.preloaded) this.ship(slot, b);
    return slot;
  }

  private lost(slot: Slot, detail: string, exitCode?: number): void {
    if (!slot.alive) return;
    slot.alive = false;
    this.slots.splice(this.slots.indexOf(slot), 1);
    const [running, ...waiting] = slot.tasks.splice(0);
    if (this.closed || this.cancelled) {
      for (const t of [running, ...waiting]) if (t) t.reject(new CancelledError(t.items[0]));
      return;
    }
    // Only the first item had started: the others go back to the front of the queue, in order, unharmed.
    this.queue.unshift(...waiting);
    if (running) {
      // The chunk the worker marked as running, when the mark is for this run (else it had not begun).
      const at = Atomics.load(slot.cursor, CURSOR_RUN) === running.id ? Atomics.load(slot.cursor, CURSOR_INDEX) : 0;
      const item = running.items[at] ?? running.items[0];
      // The processor's own process.exit: say so, rather than suggest retries or memory.
      const exited = Atomics.load(slot.cursor, CURSOR_EXITED) === 1;
      running.reject(
        exited
          ? new WorkerLostError(item, `${detail}: process() called process.exit(${exitCode})`, false, {
              hint: PROCESS_EXIT_ADVICE,
            })
          : new WorkerLostError(item, detail, false, { retries: this.retries }),
      );
    }
    this.pump();
    this.retireSoon();
  }

  /**
   * Let idle workers go after this turn's microtasks: a failed or lost item's retry (submitted from the
   * rejection) is queued by then and finds a warm worker instead of starting a cold one.
   */
  private retireSoon(): void {
    if (this.draining) setImmediate(() => this.retireIdle());
  }

  protected override onCancel(): void {
    for (const t of this.queue.splice(0)) t.reject(new CancelledError(t.items[0]));
    this.local?.cancel();
    void this.terminateAll();
  }

  async close(): Promise<void> {
    await Promise.all([this.terminateAll(), this.local?.close()]);
  }

  private async terminateAll(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new CancelledError(t.items[0]));
    const busy: Slot[] = [];
    for (const slot of this.slots.splice(0)) {
      if (slot.tasks.length === 0) {
        this.retire(slot); // idle (a finished run): exits once its output is through
        continue;
      }
      slot.alive = false; // its exit is expected now; what it held is cancelled here
      for (const t of slot.tasks.splice(0)) t.reject(new CancelledError(t.items[0]));
      busy.push(slot);
    }
    await Promise.all([...busy.map((s) => s.worker.terminate()), ...this.retiring]);
  }
}
