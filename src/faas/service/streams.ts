/**
 * Client result streams (`/v1/stream`): a client watches task ids and receives each outcome once, as
 * soon as it is known. Outcomes finishing in the same event-loop turn go out in one binary frame.
 */
import type { WebSocket } from 'ws';
import { encodeFrame } from '../codec.ts';
import { Coalescer } from '../coalesce.ts';
import {
  TERMINAL_STATES,
  type StreamClientMessage,
  type StreamEntry,
  type StreamErrorMessage,
  type StreamResults,
  type StreamSubmit,
  type StreamSubmitted,
  type SubmitRequest,
  type SubmitResponse,
  type TaskErrorInfo,
} from '../protocol.ts';
import type { OutcomeSink } from './agents.ts';
import type { Store, TaskOutcomeRow, UserRow } from './db.ts';
import { ApiError } from './http.ts';
import type { Metrics } from './metrics.ts';

/** Checks and stores a submission (the same as `POST /v1/tasks`); throws ApiError when refused. */
export type Submitter = (user: UserRow, request: SubmitRequest) => SubmitResponse;

/** A finished task, as published by the agent hub or the cancel route. */
export interface Outcome {
  task_id: string;
  state: 'success' | 'failed' | 'cancelled';
  endpoint_id: string;
  attempts: number;
  result?: Uint8Array;
  error?: TaskErrorInfo;
}

/** Flush a frame early once this many result bytes are queued for one client. */
const FRAME_BYTES = 8 * 1024 * 1024;

class StreamConn {
  entries: StreamEntry[] = [];
  blobs: Uint8Array[] = [];
  bytes = 0;
  /** Watched ids whose start is to be reported too, and starts not sent yet. */
  readonly wantsRunning = new Set<string>();
  running: string[] = [];
  runningOn: string[] = [];
  private readonly flusher = new Coalescer(() => this.flush());
  readonly watching = new Set<string>();
  constructor(
    readonly ws: WebSocket,
    readonly user: UserRow & { token_id: string },
  ) {}

  push(o: Outcome): void {
    const e: StreamEntry = { task_id: o.task_id, state: o.state, endpoint_id: o.endpoint_id, attempts: o.attempts };
    if (o.result) {
      e.blob = this.blobs.length;
      this.blobs.push(o.result);
      this.bytes += o.result.byteLength;
    }
    if (o.error) e.error = o.error;
    this.entries.push(e);
    if (this.bytes >= FRAME_BYTES) this.flush();
    else this.flusher.schedule();
  }

  pushRunning(taskId: string, endpointId: string): void {
    this.running.push(taskId);
    this.runningOn.push(endpointId);
    this.flusher.schedule();
  }

  pushNotFound(taskId: string): void {
    this.entries.push({ task_id: taskId, state: 'failed', endpoint_id: '', attempts: 0, not_found: true });
    this.flusher.schedule();
  }

  flush(): void {
    if (this.entries.length === 0 && this.running.length === 0) return;
    const header: StreamResults = { type: 'results', results: this.entries };
    if (this.running.length) {
      header.running = this.running;
      header.running_on = this.runningOn;
    }
    const frame = encodeFrame(header, this.blobs);
    this.running = [];
    this.runningOn = [];
    this.entries = [];
    this.blobs = [];
    this.bytes = 0;
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame);
  }
}

export class ResultStreams implements OutcomeSink {
  private readonly watchers = new Map<string, Set<StreamConn>>();

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly submitter: Submitter,
  ) {}

  attach(ws: WebSocket, user: UserRow & { token_id: string }): void {
    this.metrics.streamConnects++;
    const conn = new StreamConn(ws, user);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.refuse(conn, 'stream messages must be JSON text frames');
      let msg: StreamClientMessage;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return this.refuse(conn, 'stream message is not valid JSON');
      }
      if (msg?.type === 'submit') return this.submit(conn, msg);
      if (!Array.isArray(msg?.task_ids)) return this.refuse(conn, 'stream message needs task_ids: string[]');
      if (msg.type === 'watch') this.watch(conn, msg.task_ids, msg.running === true);
      else if (msg.type === 'unwatch') this.unwatch(conn, msg.task_ids);
      else this.refuse(conn, `unknown stream message type "${(msg as { type: string }).type}"`);
    });
    ws.on('close', () => this.unwatch(conn, [...conn.watching]));
    ws.on('error', () => {});
  }

  private refuse(conn: StreamConn, message: string): void {
    conn.ws.send(JSON.stringify({ type: 'error', code: 'BadRequest', message }));
  }

  /**
   * A submission over the stream saves the HTTP request and, with `watch`, the watch message: the
   * outcome is pushed as soon as it is known. The answer goes out before any outcome of these tasks
   * (same socket, and the tasks cannot finish within this synchronous turn).
   */
  private submit(conn: StreamConn, msg: StreamSubmit): void {
    const req = Number(msg.req);
    let reply: StreamSubmitted | StreamErrorMessage;
    try {
      // The connection outlives single requests: a token revoked since the upgrade stops it here.
      if (!this.store.tokenActive(conn.user.token_id)) throw new ApiError('Unauthorized', 'invalid or revoked token');
      const r = this.submitter(conn.user, msg.request);
      this.metrics.streamSubmits++;
      if (msg.watch) for (const id of r.task_ids) this.addWatcher(conn, id, msg.running === true);
      reply = { type: 'submitted', req, batch_id: r.batch_id, task_ids: r.task_ids };
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      reply = { type: 'error', req, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
    }
    // Sent before the watch above can flush (outcomes leave in a later turn), so ids arrive first.
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(reply));
  }

  private watch(conn: StreamConn, ids: string[], running: boolean): void {
    // better-sqlite3 is synchronous: registering and checking happen in one turn, so no outcome can
    // slip in between.
    const rows = new Map<string, TaskOutcomeRow>();
    const strIds = ids.map(String);
    for (let i = 0; i < strIds.length; i += 5000) for (const r of this.store.taskOutcomes(strIds.slice(i, i + 5000))) rows.set(r.id, r);
    for (const id of strIds) {
      const row = rows.get(id);
      if (!row || row.owner_id !== conn.user.id) {
        conn.pushNotFound(id);
        continue;
      }
      if (TERMINAL_STATES.has(row.state)) {
        conn.push({
          task_id: row.id,
          state: row.state as Outcome['state'],
          endpoint_id: row.endpoint_id,
          attempts: row.attempts,
          ...(row.result ? { result: row.result } : {}),
          ...(row.error ? { error: JSON.parse(row.error) } : {}),
        });
        continue;
      }
      this.addWatcher(conn, id, running);
      // Already running: say so now, the notice from the endpoint has come and gone.
      if (running && row.state === 'running') conn.pushRunning(id, row.endpoint_id);
    }
  }

  private addWatcher(conn: StreamConn, id: string, running: boolean): void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(conn);
    conn.watching.add(id);
    if (running) conn.wantsRunning.add(id);
  }

  private unwatch(conn: StreamConn, ids: string[]): void {
    for (const id of ids) {
      conn.watching.delete(id);
      conn.wantsRunning.delete(id);
      const set = this.watchers.get(id);
      if (set) {
        set.delete(conn);
        if (set.size === 0) this.watchers.delete(id);
      }
    }
  }

  /** Deliver finished tasks to whoever watches them. */
  publish(outcomes: Iterable<Outcome>): void {
    for (const o of outcomes) {
      const set = this.watchers.get(o.task_id);
      if (!set) continue;
      this.watchers.delete(o.task_id);
      for (const conn of set) {
        conn.watching.delete(o.task_id);
        conn.wantsRunning.delete(o.task_id);
        conn.push(o);
      }
    }
  }

  /** Tell watchers that asked for it that these tasks started running. */
  publishRunning(taskIds: Iterable<string>, endpointId: string): void {
    for (const id of taskIds) {
      const set = this.watchers.get(id);
      if (!set) continue;
      for (const conn of set) if (conn.wantsRunning.has(id)) conn.pushRunning(id, endpointId);
    }
  }
}
