/** Messages between the thread pool and its workers (structured-clone data only). */
import type { WorkItem } from '../../src/dataset/chunking.ts';
import type { OpenedState } from '../../src/io/opened.ts';
import type { ProcessorBundle } from '../../src/processor/bundle.ts';
import type { ChunkFailure } from '../../src/runner/errors.ts';
import type { BatchResult } from '../../src/runner/process-batch.ts';
import type { ChunkResult } from '../../src/runner/process-chunk.ts';

/**
 * Pool → worker: run one item (`batch` false: its own result) or a batch of consecutive items (`batch`
 * true: one result summed over them, in order). `bundle` is attached only the first time this worker sees
 * the hash.
 */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly items: readonly WorkItem[];
  readonly batch: boolean;
  readonly hash: string;
  readonly bundle?: ProcessorBundle;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly prefetch?: readonly string[];
  /**
   * What the main thread parsed opening the items' files (src/io/opened.ts), by `openedKey`: attached
   * the first time this worker gets an item of the file, so its first chunk skips the file's metadata.
   */
  readonly opened?: Readonly<Record<string, OpenedState>>;
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
export type PoolMessage = RunMessage | LoadMessage | ExitMessage | WatchMessage;

/**
 * Worker → pool. The accumulator buffer of `done` is transferred, not copied. `failed` names the item of
 * the run that failed by its index.
 */
export type ReplyMessage =
  | { readonly type: 'done'; readonly id: number; readonly result: ChunkResult | BatchResult }
  | { readonly type: 'failed'; readonly id: number; readonly index: number; readonly failure: ChunkFailure };

/**
 * What a worker is running, in memory shared with the pool (`Int32Array` over a SharedArrayBuffer, one
 * per worker, sent once in `WatchMessage`): the run id and the index of its item that is running. When
 * the worker dies, the pool names that item without the worker having sent a message per item.
 */
export const CURSOR_RUN = 0;
export const CURSOR_INDEX = 1;
/**
 * 1 when the thread ended through `process.exit` while an item was running: the processor called it (a
 * deliberate exit, not a crash), so the pool says so instead of suggesting retries or memory.
 */
export const CURSOR_EXITED = 2;
/** Int32 slots of a cursor. */
export const CURSOR_SLOTS = 3;

/** Pool → worker: where to write what it is running (see CURSOR_RUN). */
export interface WatchMessage {
  readonly type: 'watch';
  readonly cursor: Int32Array;
}
