/**
 * In-process executor: runs one chunk at a time on the main thread, through the same `processChunk` as
 * every other executor. By default it loads the job's processor bundle (exactly what workers load);
 * a preloaded processor can be given instead.
 */
import type { WorkItem } from '../src/dataset/chunking.ts';
import { setSyncReadHelperEntry, startSyncReads } from '../src/io/sync-read.ts';
import { loadBundle } from '../src/processor/bundle.ts';
import type { Processor } from '../src/processor/types.ts';
import { CancelledError } from '../src/runner/errors.ts';
import { createChunkState, processChunk, type ChunkResult, type ChunkState } from '../src/runner/process-chunk.ts';
import { BaseExecutor, type ExecutorOptions, type JobSpec } from './base.ts';
import { workerRuntime } from './threads/runtime.ts';

export interface IterativeOptions extends ExecutorOptions {
  /** Use this processor instead of loading the job's bundle. */
  processor?: Processor<unknown>;
}

export class IterativeExecutor extends BaseExecutor {
  readonly name = 'iterative';
  readonly concurrency = 1;
  private readonly state: ChunkState = createChunkState();
  private readonly processor: Processor<unknown> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closing = false;

  constructor(opts: IterativeOptions = {}) {
    super(opts);
    this.processor = opts.processor;
    // The first chunks will read the processor's columns on first access through the sync-read helper
    // thread: start it now, from the thread pool's bundled runtime, which loads several times faster than
    // the TypeScript sources through tsx (if the build fails, a helper starts from the sources on a miss).
    workerRuntime().then((url) => {
      setSyncReadHelperEntry(url);
      if (!this.closing) startSyncReads();
    }, () => undefined);
  }

  protected runOnce(item: WorkItem, job: JobSpec): Promise<ChunkResult> {
    // One chunk at a time, in submission order, even if the caller submits several.
    const run = this.tail.then(async () => {
      if (this.cancelled) throw new CancelledError(item);
      const processor = this.processor ?? (await loadBundle(job.processor));
      return processChunk(item, processor, this.state, { metadata: job.metadata[item.dataset], prefetch: job.prefetch, processorKey: job.processor.hash });
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.tail;
    await this.state.readers.closeAll();
  }
}
