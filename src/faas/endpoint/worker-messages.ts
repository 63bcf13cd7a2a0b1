/**
 * IPC messages between the endpoint agent and its worker processes. Tasks and results travel in
 * batches, each batch as ONE packed frame (codec.ts: JSON header + raw blobs): one IPC message and one
 * serialized buffer per batch, however many tasks or typed arrays it holds.
 */
import type { TaskErrorInfo } from '../protocol.ts';

/** One task as the worker runs it (decoded from a run frame). */
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

/** Header of a run frame; blobs are the packed arguments. */
export interface RunFrameHeader {
  /** Module path per function hash, once per batch. */
  paths: Record<string, string>;
  max_result_bytes: number;
  tasks: { task_id: string; hash: string; attempt: number }[];
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

/** Header of a done frame; `blob` indexes the packed results among the frame's blobs. */
export interface DoneFrameHeader {
  results: (Omit<WorkerDone, 'result'> & { blob?: number })[];
}

export interface WorkerRunBatch {
  type: 'run';
  /** Packed frame with a RunFrameHeader. */
  frame: Uint8Array;
}

export interface WorkerDoneBatch {
  type: 'done';
  /** Packed frame with a DoneFrameHeader. */
  frame: Uint8Array;
}

/** Abort a task: drop it if it has not started, else abort its `ctx.signal`. */
export interface WorkerCancel {
  type: 'cancel';
  task_id: string;
}

export type ToWorker = WorkerRunBatch | WorkerCancel;
export type FromWorker = WorkerReady | WorkerDoneBatch;

// ---------------------------------------------------------------- block-worker socket control

/**
 * JSON control messages on a block worker's TCP connection (worker-socket.ts), besides the run and
 * done frames above. The agent opens with a challenge; the worker answers with a hello.
 */
export interface SocketChallenge {
  type: 'challenge';
  nonce: string;
}

/** The worker's answer: HMAC of the nonce under the endpoint secret, and who it is (for logs). */
export interface SocketHello {
  type: 'hello';
  mac: string;
  block: string;
  worker: number;
  host: string;
  pid: number;
}

/** Code of a function, sent once per worker before the first task that uses it. */
export interface SocketFunction {
  type: 'fn';
  hash: string;
  code: string;
}

/** The agent no longer needs the worker: exit without being restarted. */
export interface SocketBye {
  type: 'bye';
}

/** Control messages the agent sends to a block worker. */
export type SocketToWorker = SocketChallenge | SocketFunction | WorkerCancel | SocketBye;
/** Control messages a block worker sends to the agent. */
export type SocketFromWorker = SocketHello | WorkerReady;
export type SocketControl = SocketToWorker | SocketFromWorker;

export type { TaskContext } from '../protocol.ts';
