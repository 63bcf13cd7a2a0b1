/**
 * The executor contract the runner is written against, and the base class that owns the bookkeeping
 * shared by every executor (retries, counters, cancellation). It lives in src/ so that the runner does not
 * depend on any executor: `executors/` implements it, and the composition root (src/cli) picks one.
 * A concrete executor implements one method, `runOnce`: run one work item once, somewhere, and return its
 * ChunkResult or throw a typed error (ChunkError, FileReadError, WorkerLostError, CancelledError from ./errors.ts).
 *
 * The same contract is what the FaaS executor implements: it ships `job.processor` (a content-hashed
 * bundle) to endpoints once and submits work items that run `processChunk` remotely.
 */
import type { WorkItem } from '../dataset/chunking.ts';
import type { ProcessorBundle } from '../processor/bundle.ts';
import type { Processor } from '../processor/types.ts';
import { RistrettoError } from '../errors/index.ts';
import { CancelledError } from './errors.ts';
import type { BatchResult } from './process-batch.ts';
import type { ChunkResult } from './process-chunk.ts';

export type { WorkItem } from '../dataset/chunking.ts';
export type { BatchResult } from './process-batch.ts';
export type { ChunkMetrics, ChunkResult } from './process-chunk.ts';

/** Everything a worker needs besides the work item. Plain data (structured-clone and JSON safe). */
export interface JobSpec {
  /** The processor bundle; executors ship it once per hash and workers keep it loaded. */
  readonly processor: ProcessorBundle;
  /** Dataset metadata by dataset name, handed to `process` as `ctx.metadata`. */
  readonly metadata: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Columns already known to be needed (read by earlier chunks); read up front, before process() runs. */
  readonly prefetch?: readonly string[];
}

/** Counters every executor keeps. */
export interface ExecutorStats {
  /** Work items submitted (one per submit() call, every item of a submitBatch()). */
  submitted: number;
  /** Attempts made (first tries plus retries). */
  attempts: number;
  /** Attempts that were retries. */
  retries: number;
  succeeded: number;
  /** Work items that failed after all retries. */
  failed: number;
}

/** Runs work items. Implementations: IterativeExecutor, ThreadsExecutor, and the FaaS executor. */
export interface Executor {
  readonly name: string;
  /** Work items worth keeping in flight at once (e.g. the number of workers). */
  readonly concurrency: number;
  /**
   * Optional: work items worth handing to this executor at once (default `2 × concurrency`). A pool that
   * queues items inside its workers, so that a worker never waits for the next one, asks for more.
   */
  readonly window?: number;
  readonly stats: Readonly<ExecutorStats>;
  /** Run one work item (with retries); resolves with its result or rejects with a typed error. */
  submit(item: WorkItem, job: JobSpec): Promise<ChunkResult>;
  /**
   * Optional: run consecutive work items of one file where they run, in order, and sum their results
   * there (`accumulate`, first item first): one result, one message and one decode for the runner instead
   * of one per item. The runner hands out its merge groups (merge-groups.ts) this way and sums them itself
   * on executors without it, so the totals are bit for bit the same. A failing item rejects the whole
   * batch with that item's typed error (retries rerun the batch).
   */
  submitBatch?(items: readonly WorkItem[], job: JobSpec): Promise<BatchResult>;
  /** Stop: queued and running items reject with CancelledError. */
  cancel(): void;
  /** Release workers and connections. */
  close(): Promise<void>;
  /**
   * Optional: start what the first submit would start (a thread pool's workers), so that it overlaps with
   * the caller's own preparation (reading the files' footers). Never required before submit.
   */
  prestart?(): void;
  /**
   * Optional: start loading the processor bundle where chunks will run (a pool's workers import it now,
   * while the caller still plans the work, instead of on their first chunk). Never required before submit.
   */
  preload?(processor: ProcessorBundle): void;
  /**
   * Optional: the caller has submitted its last item (only retries of those may follow). A pool may then
   * let workers go as they run out of work, so that their teardown overlaps the last chunks instead of
   * following them. Submitting more afterwards still works (workers are started again).
   */
  drain?(): void;
}

export interface ExecutorOptions {
  /** Extra attempts for a failed chunk (default 0). Every kind of failure is retried. */
  retries?: number;
  /** Called before each retry (for progress output). */
  onRetry?: (item: WorkItem, attempt: number, error: unknown) => void;
  /**
   * Work that must get the main thread between two chunks run on it (in-process executors; others ignore
   * it), beyond one event-loop turn: the runner passes {@link RunHooks.betweenChunks} here.
   */
  betweenChunks?: () => Promise<void>;
}

/** What the runner knows when it builds an executor through an {@link ExecutorFactory}. */
export interface ExecutorContext extends ExecutorOptions {
  /** Worker count the caller asked for (`--workers`); executors without workers ignore it. */
  workers?: number;
  /**
   * The processor, when the caller already loaded it on this thread. `runAnalysis` builds its executor
   * before the processor is bundled (so that a pool's workers start at once) and leaves this out: an
   * in-process executor then loads the job's bundle, which is the runner's own copy (`loadBundle` imports
   * a bundle once per thread).
   */
  processor?: Processor<unknown>;
}

/**
 * Builds the executor for one run; the runner calls it as the run starts (before the processor is loaded)
 * and closes what it built.
 *
 * @example
 * ```ts
 * const r = await runAnalysis({ fileset, processor, executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 4 }) });
 * ```
 */
export type ExecutorFactory = (ctx: ExecutorContext) => Executor;

export abstract class BaseExecutor implements Executor {
  abstract readonly name: string;
  abstract readonly concurrency: number;
  readonly stats: ExecutorStats = { submitted: 0, attempts: 0, retries: 0, succeeded: 0, failed: 0 };
  protected readonly retries: number;
  protected cancelled = false;
  private readonly onRetry: ExecutorOptions['onRetry'];

  constructor(opts: ExecutorOptions = {}) {
    const r = opts.retries ?? 0;
    if (!Number.isInteger(r) || r < 0)
      throw new RistrettoError(
        `retries must be a non-negative integer, got ${r}`,
        { retries: r },
        'pass --retries N with N >= 0',
      );
    this.retries = r;
    this.onRetry = opts.onRetry;
  }

  /** Run the item once. Throw a typed error on failure; the base decides about retrying. */
  protected abstract runOnce(item: WorkItem, job: JobSpec, attempt: number): Promise<ChunkResult>;

  async submit(item: WorkItem, job: JobSpec): Promise<ChunkResult> {
    this.stats.submitted++;
    for (let attempt = 0; ; attempt++) {
      if (this.cancelled) throw new CancelledError(item);
      this.stats.attempts++;
      if (attempt > 0) this.stats.retries++;
      try {
        const r = await this.runOnce(item, job, attempt);
        this.stats.succeeded++;
        return r;
      } catch (e) {
        if (this.cancelled || e instanceof CancelledError || attempt >= this.retries) {
          this.stats.failed++;
          throw e;
        }
        this.onRetry?.(item, attempt + 1, e);
      }
    }
  }

  /**
   * Retries for a batch (see `Executor.submitBatch`): `runBatch` is attempted up to `retries + 1` times;
   * each retry reruns every item (a partial sum cannot be resumed without changing the order of the sums).
   */
  protected async submitBatchWithRetries(
    items: readonly WorkItem[],
    runBatch: (attempt: number) => Promise<BatchResult>,
  ): Promise<BatchResult> {
    this.stats.submitted += items.length;
    for (let attempt = 0; ; attempt++) {
      if (this.cancelled) throw new CancelledError(items[0]);
      this.stats.attempts++;
      if (attempt > 0) this.stats.retries++;
      try {
        const r = await runBatch(attempt);
        this.stats.succeeded += items.length;
        return r;
      } catch (e) {
        if (this.cancelled || e instanceof CancelledError || attempt >= this.retries) {
          this.stats.failed += items.length;
          throw e;
        }
        const failed = (e as { item?: WorkItem }).item;
        this.onRetry?.(failed && items.includes(failed) ? failed : items[0], attempt + 1, e);
      }
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.onCancel();
  }

  /** Hook for executors with queued or running work. */
  protected onCancel(): void {}

  abstract close(): Promise<void>;
}
