/**
 * The client side of `/v1/stream`: one WebSocket per client; callers watch task ids and are called
 * back once per task with its outcome. Reconnects with backoff and re-watches what is still pending
 * (the service replays finished tasks on watch, so nothing is missed across reconnects).
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { decodeFrame, unpackValue } from '../codec.ts';
import { FaasError, FaasRequestError, taskError, type TaskFailedError } from '../errors.ts';
import { ROUTES, type StreamErrorMessage, type StreamResults, type TaskState } from '../protocol.ts';

/** What a finished (or unknown) task turned into. */
export interface TaskOutcome {
  taskId: string;
  state: TaskState;
  endpointId: string;
  attempts: number;
  /** The decoded result, when state is "success". */
  result?: unknown;
  /** Set when the task failed, was cancelled, or is unknown to this user. */
  error?: TaskFailedError | FaasError;
}

export type OutcomeListener = (o: TaskOutcome) => void;

export class ResultStream {
  private ws: WebSocket | undefined;
  private socket: Socket | undefined;
  private open = false;
  private readonly listeners = new Map<string, Set<OutcomeListener>>();
  private toWatch: string[] = [];
  private flushScheduled = false;
  private failures = 0;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly serviceUrl: string,
    private readonly token: string,
  ) {}

  /** Call `listener` once with the outcome of each id. Returns a function that stops watching. */
  watch(ids: readonly string[], listener: OutcomeListener): () => void {
    if (this.closed) throw new FaasError('the result stream is closed', {}, 'create a new FaasClient');
    for (const id of ids) {
      let set = this.listeners.get(id);
      if (!set) {
        this.listeners.set(id, (set = new Set()));
        this.toWatch.push(id);
      }
      set.add(listener);
    }
    this.ensureConnected();
    this.scheduleFlush();
    this.updateRef();
    return () => {
      for (const id of ids) {
        const set = this.listeners.get(id);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) this.listeners.delete(id);
      }
      this.updateRef();
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
  }

  private ensureConnected(): void {
    if (this.ws || this.closed) return;
    const url = this.serviceUrl.replace(/^http/, 'ws').replace(/\/$/, '') + ROUTES.stream;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` }, perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    this.ws = ws;
    ws.on('upgrade', (res) => {
      this.socket = res.socket as Socket;
      this.updateRef();
    });
    ws.on('open', () => {
      this.open = true;
      this.failures = 0;
      // Re-watch everything still pending (all of it on a reconnect).
      this.toWatch = [...this.listeners.keys()];
      this.scheduleFlush();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.onResults(data as Buffer);
      else {
        const msg = JSON.parse(String(data)) as StreamErrorMessage;
        process.emitWarning(`ristretto faas stream: ${msg.code}: ${msg.message}`);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401) {
        const err = new FaasRequestError(401, 'Unauthorized', 'the service rejected the token for the result stream', { path: ROUTES.stream });
        for (const [id, set] of this.listeners) for (const l of set) l({ taskId: id, state: 'failed', endpointId: '', attempts: 0, error: err });
        this.listeners.clear();
      }
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.ws = undefined;
      this.socket = undefined;
      this.open = false;
      if (this.closed || this.listeners.size === 0) return;
      this.failures++;
      const delay = Math.min(5000, 100 * 2 ** Math.min(this.failures - 1, 8));
      this.reconnectTimer = setTimeout(() => this.ensureConnected(), delay);
    });
  }

  /** An idle stream must not keep the process alive; a stream with pending watches must. */
  private updateRef(): void {
    if (!this.socket) return;
    if (this.listeners.size > 0) this.socket.ref();
    else this.socket.unref();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.open || !this.ws || this.toWatch.length === 0) return;
      const ids = this.toWatch.filter((id) => this.listeners.has(id));
      this.toWatch = [];
      for (let i = 0; i < ids.length; i += 10_000) this.ws.send(JSON.stringify({ type: 'watch', task_ids: ids.slice(i, i + 10_000) }));
    });
  }

  private onResults(data: Buffer): void {
    const { header, blobs } = decodeFrame<StreamResults>(data);
    for (const e of header.results) {
      const set = this.listeners.get(e.task_id);
      if (!set) continue;
      this.listeners.delete(e.task_id);
      const outcome: TaskOutcome = { taskId: e.task_id, state: e.state, endpointId: e.endpoint_id, attempts: e.attempts };
      if (e.not_found) {
        outcome.error = new FaasRequestError(404, 'NotFound', `task ${e.task_id} does not exist or belongs to another user`, { taskId: e.task_id });
      } else if (e.state === 'success') {
        try {
          outcome.result = unpackValue(blobs[e.blob ?? -1] ?? new Uint8Array(0));
        } catch (err) {
          outcome.state = 'failed';
          outcome.error = taskError(
            { type: 'SerializationError', message: `decoding the result failed: ${(err as Error).message}` },
            { taskId: e.task_id, endpointId: e.endpoint_id, attempts: e.attempts },
          );
        }
      } else {
        outcome.error = taskError(e.error ?? { type: 'FunctionError', message: 'task failed without an error message' }, {
          taskId: e.task_id,
          endpointId: e.endpoint_id,
          attempts: e.attempts,
        });
      }
      for (const l of set) l(outcome);
    }
    this.updateRef();
  }
}
