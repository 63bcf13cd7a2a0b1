/**
 * In-process executor: runs one chunk at a time on the main thread, through the same `processChunk` as
 * every other executor. The runner's default, so that `runAnalysis` works without `executors/`. By default it
 * loads the job's processor bundle (exactly what workers load); a preloaded processor can be given instead.
 * It runs the runner's merge groups as batches (process-batch.ts): a group's results are summed as they come,
 * with no encode and decode per chunk.
 */
import type { WorkItem } from '../dataset/chunking.ts';
import { setSyncReadHelperEntry } from '../io/sync-read.ts';
import { loadBundle } from '../processor/bundle.ts';
import type { Processor } from '../processor/types.ts';
import { CancelledError } from './errors.ts';
import { BaseExecutor, type ExecutorOptions, type JobSpec } from './executor.ts';
import { guardProcessExit } from './exit-guard.ts';
import { type BatchResult, nextTurn, processBatch } from './process-batch.ts';
import { createChunkState, processChunk, type ChunkResult, type ChunkState } from './process-chunk.ts';

export interface InProcessOptions extends ExecutorOptions {
  /** Use this processor instead of loading the job's bundle. */
  processor?: Processor<unknown>;
  /**
   * A prebuilt entry for the sync-read helper thread. Without it the helper starts from the TypeScript
   * sources on the first miss, which is slower; the CLI passes the threads executor's bundled runtime.
   */
  helperEntry?: () => Promise<URL>;
  /**
   * Units come from a pool that hands this executor one at a time (a thread pool's calling thread): when
   * nothing is queued here, nothing is known to follow, so readers read nothing ahead (root://) instead
   * of guessing the chunk right after — usually one another runner reads.
   */
  handedOneAtATime?: boolean;
}

export class InProcessExecutor extends BaseExecutor {
  readonly name = 'iterative';
  readonly concurrency = 1;
  private readonly state: ChunkState = createChunkState();
  private readonly processor: Processor<unknown> | undefined;
  private readonly betweenChunks: (() => Promise<void>) | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Aborted by cancel(): a running batch stops at its next column read instead of finishing every chunk. */
  private readonly abort = new AbortController();
  /**
   * Items submitted and not started yet, in submission order: the first is what this thread runs after
   * the unit that starts, which its reader is told (EventReader.expectNext), so that a reader reading
   * ahead (root://) reads that chunk rather than guessing — with --align, chunks differ in length and
   * the guess missed. Only a hint: a retried unit runs out of this order, and reads nothing wrong.
   */
  private readonly queued: WorkItem[] = [];
  /** What follows a unit when nothing is queued: unknown (readers guess) or nothing (see `handedOneAtATime`). */
  private readonly otherwise: null | undefined;

  constructor(opts: InProcessOptions = {}) {
    super(opts);
    this.processor = opts.processor;
    this.betweenChunks = opts.betweenChunks;
    this.otherwise = opts.handedOneAtATime ? null : undefined;
    // Readers that cannot read synchronously themselves (ROOT, remote files) read a chunk's first-touched
    // columns through the sync-read helper thread, which processChunk starts when it opens such a file.
    // Only its prebuilt entry is prepared here: starting the helper up front cost ~0.3–0.5 s of CPU per
    // run (loading the readers a second time) even for local Parquet, which never uses it.
    opts.helperEntry?.().then(
      (url) => setSyncReadHelperEntry(url),
      () => undefined,
    );
  }

  protected runOnce(item: WorkItem, job: JobSpec): Promise<ChunkResult> {
    this.queued.push(item);
    // One chunk at a time, in submission order, even if the caller submits several.
    const run = this.tail.then(async () => {
      await nextTurn(this.betweenChunks); // signals, checkpoints and the live view between chunks (see processBatch)
      const next = this.starting([item]) ?? this.otherwise;
      if (this.cancelled) throw new CancelledError(item);
      const processor = this.processor ?? (await loadBundle(job.processor));
      const guard = guardProcessExit(job.processor.source);
      guard.running(item);
      try {
        return await processChunk(item, processor, this.state, {
          metadata: job.metadata[item.dataset],
          prefetch: job.prefetch,
          processorKey: job.processor.hash,
          ...(next !== undefined ? { next } : {}),
        });
      } finally {
        guard.disarm();
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Run consecutive items of one file and sum their results here (see Executor.submitBatch). */
  submitBatch(items: readonly WorkItem[], job: JobSpec): Promise<BatchResult> {
    this.queued.push(...items);
    return this.submitBatchWithRetries(items, () => {
      const run = this.tail.then(async () => {
        const after = this.starting(items) ?? this.otherwise;
        if (this.cancelled) throw new CancelledError(items[0]);
        const processor = this.processor ?? (await loadBundle(job.processor));
        // A process.exit() in the processor would otherwise end the command with no word (see exit-guard.ts).
        const guard = guardProcessExit(job.processor.source);
        try {
          return await processBatch(items, processor, this.state, {
            metadata: job.metadata[items[0].dataset],
            prefetch: job.prefetch,
            processorKey: job.processor.hash,
            signal: this.abort.signal,
            betweenChunks: this.betweenChunks,
            onItem: (k) => guard.running(items[k]),
            ...(after !== undefined ? { after } : {}),
          });
        } finally {
          guard.disarm();
        }
      });
      this.tail = run.catch(() => undefined);
      return run;
    });
  }

  /** `items` start now: they leave the queue; what was submitted after them, if anything yet. */
  private starting(items: readonly WorkItem[]): WorkItem | undefined {
    for (const item of items) {
      const at = this.queued.indexOf(item);
      if (at >= 0) this.queued.splice(at, 1);
    }
    return this.queued[0];
  }

  protected override onCancel(): void {
    this.abort.abort();
  }

  async close(): Promise<void> {
    await this.tail;
    await this.state.readers.closeAll();
  }
}
