/**
 * Thread-pool executor: `workers` worker_threads, each loading the processor bundle once and staying
 * warm (bundle, open readers, discovered columns) across chunks. Workers run the bundled runtime
 * (runtime.ts), so they start without compiling TypeScript. One chunk per worker at a time; a
 * worker that dies is replaced and its chunk fails with WorkerLostError (retried by --retries).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkItem } from '../../src/dataset/chunking.ts';
import { bundleDir } from '../../src/processor/bundle.ts';
import { CancelledError, fromChunkFailure, WorkerLostError } from '../../src/runner/errors.ts';
import type { ChunkResult } from '../../src/runner/process-chunk.ts';
import { BaseExecutor, type ExecutorOptions, type JobSpec } from '../base.ts';
import type { ReplyMessage, RunMessage } from './protocol.ts';
import { workerRuntime } from './runtime.ts';

export interface ThreadsOptions extends ExecutorOptions {
  /** Worker threads (default: available parallelism). */
  workers?: number;
  /** Readers each worker keeps open (default 4). */
  maxReaders?: number;
}

interface Task {
  readonly id: number;
  readonly item: WorkItem;
  readonly job: JobSpec;
  readonly resolve: (r: ChunkResult) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly shipped: Set<string>;
  busy: Task | undefined;
  alive: boolean;
}

export class ThreadsExecutor extends BaseExecutor {
  readonly name = 'threads';
  readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private readonly maxReaders: number | undefined;
  private nextId = 0;
  private closed = false;
  private entry: URL | undefined;
  private prestarted = false;

  constructor(opts: ThreadsOptions = {}) {
    super(opts);
    const n = opts.workers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be a positive integer, got ${n}`);
    this.concurrency = n;
    this.maxReaders = opts.maxReaders;
  }

  protected async runOnce(item: WorkItem, job: JobSpec): Promise<ChunkResult> {
    this.entry ??= await workerRuntime();
    if (this.closed) throw new CancelledError(item);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, item, job, resolve, reject });
      this.pump();
    });
  }

  /**
   * Start every worker now: each loads the runtime (~0.2–0.5 CPU-s) while the runner still reads the
   * files' footers, instead of after. Idle workers simply wait for the first chunk.
   */
  prestart(): void {
    if (this.prestarted || this.closed) return;
    this.prestarted = true;
    workerRuntime().then(
      (url) => {
        this.entry ??= url;
        while (!this.closed && this.slots.length < this.concurrency) this.spawn();
      },
      () => undefined, // runOnce reports it
    );
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.alive && !s.busy);
      if (!slot && this.slots.length < this.concurrency) slot = this.spawn();
      if (!slot) return;
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot, task: Task): void {
    slot.busy = task;
    const { processor } = task.job;
    const first = !slot.shipped.has(processor.hash);
    const msg: RunMessage = {
      type: 'run',
      id: task.id,
      item: task.item,
      hash: processor.hash,
      bundle: first ? processor : undefined,
      metadata: task.job.metadata[task.item.dataset] ?? {},
      prefetch: task.job.prefetch,
    };
    slot.shipped.add(processor.hash);
    slot.worker.postMessage(msg);
  }

  private spawn(): Slot {
    const worker = new Worker(this.entry!, {
      workerData: { maxReaders: this.maxReaders, bundleDir, runtime: this.entry!.href },
    });
    const slot: Slot = { worker, shipped: new Set(), busy: undefined, alive: true };
    worker.on('message', (m: ReplyMessage) => {
      const task = slot.busy;
      if (!task || task.id !== m.id) return;
      slot.busy = undefined;
      if (m.type === 'done') task.resolve(m.result);
      else task.reject(fromChunkFailure(task.item, m.failure));
      this.pump();
    });
    worker.on('error', (e) => this.lost(slot, `uncaught ${e.name}: ${e.message}`));
    worker.on('exit', (code) => this.lost(slot, `worker exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private lost(slot: Slot, detail: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    this.slots.splice(this.slots.indexOf(slot), 1);
    const task = slot.busy;
    slot.busy = undefined;
    if (task)
      task.reject(
        this.closed || this.cancelled ? new CancelledError(task.item) : new WorkerLostError(task.item, detail),
      );
    this.pump();
  }

  protected override onCancel(): void {
    for (const t of this.queue.splice(0)) t.reject(new CancelledError(t.item));
    void this.terminateAll();
  }

  async close(): Promise<void> {
    await this.terminateAll();
  }

  private async terminateAll(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new CancelledError(t.item));
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
  }
}
