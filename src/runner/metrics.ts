/** Metrics of a run, as written to metrics.json and shown in the summary. */
import type { SkippedFile } from '../dataset/preprocess.ts';

export interface RunMetrics {
  /** Entries processed (skipped chunks excluded). */
  events: number;
  /** Work items processed (skipped ones excluded). */
  chunks: number;
  /** Work items in the job. */
  chunksTotal: number;
  /** Work items taken from a checkpoint instead of being run again. */
  resumedChunks: number;
  /** Compressed bytes read by the workers. */
  bytesRead: number;
  /** Branches read, sorted. */
  columns: string[];
  /** Sum of per-chunk worker times, seconds. */
  processSeconds: number;
  /** Per-chunk worker times in work-item order, seconds. */
  chunkSeconds: number[];
  /** Wall time of this invocation (preprocessing, processing, merging), seconds. */
  wallSeconds: number;
  /** Events processed by this invocation (checkpointed ones excluded) / wallSeconds. */
  eventsPerSecond: number;
  /** Chunk attempts that were retries. */
  retries: number;
  /** Files left out with --skipbadfiles, with the reason. */
  skippedFiles: SkippedFile[];
  executor: string;
  workers: number;
  files: number;
  preprocess: { cacheHits: number; opened: number; seconds: number };
}
