/**
 * Running a batch of consecutive work items where they run (a pool worker), summing their accumulators
 * there: one encoded result for the runner instead of one per chunk. The items are summed in order,
 * first item first, exactly as the runner sums a merge group's chunk results itself (merge-groups.ts), so
 * a batch changes no floating-point sum.
 */
import { accumulate, copyAccumulator, encode } from '../accumulate/index.ts';
import type { WorkItem } from '../dataset/chunking.ts';
import type { Processor } from '../processor/types.ts';
import { ChunkError } from './errors.ts';
import type { ExecutorOptions } from './executor.ts';
import {
  type ChunkMetrics,
  type ChunkState,
  type ProcessChunkOptions,
  runChunk,
  transferable,
} from './process-chunk.ts';

/** The result of a batch: the accumulators of its items summed in order (encoded), and each item's metrics. */
export interface BatchResult {
  readonly accumulator: Uint8Array;
  readonly metrics: readonly ChunkMetrics[];
}

export interface ProcessBatchOptions extends ProcessChunkOptions {
  /** Called as each item starts, with its index in the batch (a pool marks where a lost worker was). */
  onItem?(index: number): void;
  /** Work that must get this thread between two chunks (see {@link ExecutorOptions.betweenChunks}). */
  betweenChunks?: () => Promise<void>;
  /**
   * What this worker runs after the batch, as `next` of its last item (ProcessChunkOptions): `null` for a
   * pool worker, whose next batch is whichever is left when it asks. The items before the last are each
   * followed by the next one of the batch.
   */
  after?: WorkItem | null;
}

/**
 * Run `processor` on each of `items` in order and sum the results. A failing item rejects the batch with
 * its own typed error (ChunkError, FileReadError) naming that item; nothing of the batch is returned then.
 *
 * @example
 * ```ts
 * const state = createChunkState();
 * const { accumulator, metrics } = await processBatch(items.slice(0, 8), processor, state);
 * const total = accumulate(freshAccumulator(processor, 'q.ts'), decode(accumulator));
 * ```
 */
export async function processBatch(
  items: readonly WorkItem[],
  processor: Processor<unknown>,
  state: ChunkState,
  opts: ProcessBatchOptions = {},
): Promise<BatchResult> {
  let sum: unknown;
  const metrics: ChunkMetrics[] = [];
  for (let k = 0; k < items.length; k++) {
    // Let the event loop turn between chunks: local Parquet reads never await, so without this an
    // in-process run held off Ctrl-C, checkpoints and the live view until its end (probe, session 12).
    await nextTurn(opts.betweenChunks);
    opts.onItem?.(k);
    const item = items[k];
    const next = k + 1 < items.length ? items[k + 1] : opts.after;
    const out = await runChunk(item, processor, state, next === undefined ? opts : { ...opts, next });
    try {
      // The first result is copied: accumulate writes into its left side, and what process() returned
      // may be state the processor keeps (a module-level object it returns again next chunk).
      sum = k === 0 ? copyAccumulator(out.result) : accumulate(sum, out.result);
    } catch (e) {
      throw new ChunkError(
        item,
        `its result cannot be merged with those of the chunks before it: ${e instanceof Error ? e.message : String(e)}`,
        undefined,
        { cause: e },
      );
    }
    metrics.push(out.metrics);
  }
  let bytes: Uint8Array;
  try {
    bytes = transferable(encode(sum));
  } catch (e) {
    const last = items[items.length - 1];
    throw new ChunkError(
      last,
      `the accumulator returned by process() cannot be encoded: ${e instanceof Error ? e.message : String(e)}`,
      e instanceof Error ? e.stack : undefined,
      { cause: e },
    );
  }
  return { accumulator: bytes, metrics };
}

/**
 * Resolves after the event loop has run its timers, I/O and signal handlers once (a macrotask), and then
 * after `between` (the run's {@link ExecutorOptions.betweenChunks}), if any.
 */
export async function nextTurn(between?: () => Promise<void>): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (between) await between();
}
