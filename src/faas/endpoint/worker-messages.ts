/** IPC messages between the endpoint agent and its worker processes (structured-clone serialization). */
import type { TaskErrorInfo } from '../protocol.ts';

export interface WorkerRun {
  task_id: string;
  hash: string;
  /** Module file of the function, from the function cache. */
  path: string;
  /** Packed arguments. */
  args: Uint8Array;
  attempt: number;
  max_result_bytes: number;
}

export interface WorkerReady {
  type: 'ready';
}

export interface WorkerDone {
  task_id: string;
  ok: boolean;
  /** Packed result when ok. */
  result?: Uint8Array;
  error?: TaskErrorInfo;
  started_at: number;
  completed_at: number;
}

/** Tasks travel in batches both ways: one IPC message (one syscall) per batch, not per task. */
export interface WorkerRunBatch {
  type: 'run';
  tasks: WorkerRun[];
}

export interface WorkerDoneBatch {
  type: 'done';
  results: WorkerDone[];
}

export type ToWorker = WorkerRunBatch;
export type FromWorker = WorkerReady | WorkerDoneBatch;

export type { TaskContext } from '../protocol.ts';
