/**
 * What the FaaS executor and its remote chunk function say to each other: the arguments of the one
 * generic `process-a-chunk` function and what it returns. Imported by both sides (the client in
 * executors/faas/executor.ts, the worker in executors/faas/remote/run-task.ts) and by nothing else,
 * so a field is defined once.
 *
 * Everything here is plain data that the FaaS codec carries (typed arrays travel as raw bytes).
 */
import type { WorkItem } from '../../src/dataset/chunking.ts';
import type { ChunkFailure } from '../../src/runner/errors.ts';
import type { ChunkMetrics } from '../../src/runner/process-chunk.ts';

/** Revision of these messages. The endpoint refuses other revisions with a message saying so. */
export const CHUNK_WIRE_VERSION = 2;

/** Where a worker writes results above `thresholdBytes` instead of returning them through the service. */
export interface StageOutTarget {
  /** `http(s)://...` object-store base URL, or a directory as this endpoint mounts it. */
  readonly location: string;
  readonly thresholdBytes: number;
  /** Groups one run's blobs (`<location>/<runId>/<task>.bin`). */
  readonly runId: string;
}

/** Ship a processor bundle to an endpoint (once per endpoint and hash); its workers then load it by hash. */
export interface StageArgs {
  readonly v: number;
  readonly op: 'stage';
  readonly hash: string;
  readonly code: string;
}

/** Run one work item. */
export interface ChunkArgs {
  readonly v: number;
  readonly op: 'chunk';
  /** Processor bundle hash (staged on this endpoint beforehand). */
  readonly hash: string;
  /** The work item with its file already mapped to this endpoint's mount of the storage. */
  readonly item: WorkItem;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly prefetch: readonly string[];
  readonly stageout?: StageOutTarget;
}

/**
 * Run consecutive work items of one file (a runner merge group) and sum their results in order, first
 * item first (src/runner/process-batch.ts): one task, one result and one accumulator instead of one
 * per item, with the same floating-point sums as the runner's own merge.
 */
export interface BatchArgs {
  readonly v: number;
  readonly op: 'batch';
  readonly hash: string;
  /** The work items, in order, with their file mapped to this endpoint's mount of the storage. */
  readonly items: readonly WorkItem[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly prefetch: readonly string[];
  readonly stageout?: StageOutTarget;
}

export type TaskArgs = StageArgs | ChunkArgs | BatchArgs;

/** A staged result: its key under the stage-out location, and how to check the bytes. */
export interface StagedRef {
  /** `<runId>/<name>.bin`, relative to the stage-out location. */
  readonly key: string;
  readonly size: number;
  /** sha256 hex of the bytes. */
  readonly sha256: string;
}

/** A chunk's metrics, or for a batch each item's metrics in the order of its items. */
export type ReplyMetrics = ChunkMetrics | readonly ChunkMetrics[];

export type TaskReply =
  | { readonly kind: 'staged-bundle'; readonly hash: string; readonly cached: boolean }
  | { readonly kind: 'inline'; readonly accumulator: Uint8Array; readonly metrics: ReplyMetrics }
  | { readonly kind: 'staged'; readonly ref: StagedRef; readonly metrics: ReplyMetrics }
  /**
   * processChunk failed: the failure keeps its kind (read errors stay skippable). In a batch, `index`
   * is the failing item's position, so the client names that item (its own path, not the endpoint's).
   */
  | { readonly kind: 'failed'; readonly failure: ChunkFailure; readonly index?: number }
  /** The worker has no bundle with this hash (endpoint cache wiped, new host): stage it again. */
  | { readonly kind: 'missing-bundle'; readonly hash: string }
  /** The endpoint runs a Ristretto whose chunk messages differ. */
  | { readonly kind: 'version-mismatch'; readonly endpointVersion: number };
