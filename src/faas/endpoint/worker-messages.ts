/** IPC messages between the endpoint agent and its worker processes (structured-clone serialization). */
import type { TaskErrorInfo } from '../protocol.ts';

export interface WorkerRun {
  type: 'run';
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
  type: 'done';
  task_id: string;
  ok: boolean;
  /** Packed result when ok. */
  result?: Uint8Array;
  error?: TaskErrorInfo;
  started_at: number;
  completed_at: number;
}

export type ToWorker = WorkerRun;
export type FromWorker = WorkerReady | WorkerDone;

export type { TaskContext } from '../protocol.ts';
