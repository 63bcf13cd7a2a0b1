/**
 * The executor contract and the base class that owns the bookkeeping shared by every executor
 * (retries, counters, cancellation). A concrete executor implements one method, `runOnce`: run one
 * work item once, somewhere, and return its ChunkResult or throw a typed error (ChunkError,
 * FileReadError, WorkerLostError, CancelledError from src/runner/errors.ts).
 *
 * The same contract is what the FaaS executor implements: it ships `job.processor` (a content-hashed
 * bundle) to endpoints once and submits work items that run `processChunk` remotely.
 */
import type { WorkItem } from '../src/dataset/chunking.ts';
import type { ProcessorBundle } from '../src/processor/bundle.ts';
import { CancelledError } from '../src/runner/errors.ts';
import type { ChunkResult } from '../src/runner/process-chunk.ts';

export type { WorkItem } from '../src/dataset/chunking.ts';
export type { ChunkMetrics, ChunkResult } from '../src/runner/process-chunk.ts';

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
  /** submit() calls. */
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
  readonly stats: Readonly<ExecutorStats>;
  /** Run one work item (with retries); resolves with its result or rejects with a typed error. */
  submit(item: WorkItem, job: JobSpec): Promise<ChunkResult>;
  /** Stop: queued and running items reject with CancelledError. */
  cancel(): void;
  /** Release workers and connections. */
  close(): Promise<void>;
}

export interface ExecutorOptions {
  /** Extra attempts for a failed chunk (default 0). Every kind of failure is retried. */
  retries?: number;
  /** Called before each retry (for progress output). */
  onRetry?: (item: WorkItem, attempt: number, error: unknown) => void;
}

export abstract class BaseExecutor implements Executor {
  abstract readonly name: string;
  abstract readonly concurrency: number;
  readonly stats: ExecutorStats = { submitted: 0, attempts: 0, retries: 0, succeeded: 0, failed: 0 };
  protected readonly retries: number;
  protected cancelled = false;
  private readonly onRetry: ExecutorOptions['onRetry'];

  constructor(opts: ExecutorOptions = {}) {
    const r = opts.retries ?? 0;
    if (!Number.isInteger(r) || r < 0) throw new RangeError(`retries must be a non-negative integer, got ${r}`);
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

  cancel(): void {
    this.cancelled = true;
    this.onCancel();
  }

  /** Hook for executors with queued or running work. */
  protected onCancel(): void {}

  abstract close(): Promise<void>;
}
