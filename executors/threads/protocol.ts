/** Messages between the thread pool and its workers (structured-clone data only). */
import type { WorkItem } from '../../src/dataset/chunking.ts';
import type { ProcessorBundle } from '../../src/processor/bundle.ts';
import type { ChunkFailure } from '../../src/runner/errors.ts';
import type { ChunkResult } from '../../src/runner/process-chunk.ts';

/** Pool → worker: run one item. `bundle` is attached only the first time this worker sees the hash. */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly item: WorkItem;
  readonly hash: string;
  readonly bundle?: ProcessorBundle;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly prefetch?: readonly string[];
}

/**
 * Pool → worker: import this processor bundle now (before its first chunk arrives). No reply: a bundle
 * that fails to load fails the chunks that need it, each with its own error.
 */
export interface LoadMessage {
  readonly type: 'load';
  readonly bundle: ProcessorBundle;
}

/**
 * Pool → worker: finish the runs already sent, let this thread's stdout/stderr reach the main thread,
 * then exit. `worker.terminate()` would drop console output the processor wrote but the main thread had
 * not yet taken (measured: 1–2 of 14 lines lost per run).
 */
export interface ExitMessage {
  readonly type: 'exit';
}

/** Pool → worker. Runs are processed one at a time, in the order sent. */
export type PoolMessage = RunMessage | LoadMessage | ExitMessage;

/** Worker → pool. The accumulator buffer of `done` is transferred, not copied. */
export type ReplyMessage =
  | { readonly type: 'done'; readonly id: number; readonly result: ChunkResult }
  | { readonly type: 'failed'; readonly id: number; readonly failure: ChunkFailure };
