/**
 * Client result streams (`/v1/stream`): a client watches task ids and receives each outcome once, as
 * soon as it is known. Outcomes finishing in the same event-loop turn go out in one binary frame.
 */
import type { WebSocket } from 'ws';
import { encodeFrame } from '../codec.ts';
import { Coalescer } from '../coalesce.ts';
import { TERMINAL_STATES, type StreamClientMessage, type StreamEntry, type StreamResults, type TaskErrorInfo } from '../protocol.ts';
import type { Store, TaskRow, UserRow } from './db.ts';
import type { Metrics } from './metrics.ts';

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
  private readonly flusher = new Coalescer(() => this.flush(), 2);
  readonly watching = new Set<string>();
  constructor(
    readonly ws: WebSocket,
    readonly user: UserRow,
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

  pushNotFound(taskId: string): void {
    this.entries.push({ task_id: taskId, state: 'failed', endpoint_id: '', attempts: 0, not_found: true });
    this.flusher.schedule();
  }

  flush(): void {
    if (this.entries.length === 0) return;
    const header: StreamResults = { type: 'results', results: this.entries };
    const frame = encodeFrame(header, this.blobs);
    this.entries = [];
    this.blobs = [];
    this.bytes = 0;
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame);
  }
}

export class ResultStreams {
  private readonly watchers = new Map<string, Set<StreamConn>>();

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
  ) {}

  attach(ws: WebSocket, user: UserRow): void {
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
      if (!Array.isArray(msg.task_ids)) return this.refuse(conn, 'stream message needs task_ids: string[]');
      if (msg.type === 'watch') this.watch(conn, msg.task_ids);
      else if (msg.type === 'unwatch') this.unwatch(conn, msg.task_ids);
      else this.refuse(conn, `unknown stream message type "${(msg as { type: string }).type}"`);
    });
    ws.on('close', () => this.unwatch(conn, [...conn.watching]));
    ws.on('error', () => {});
  }

  private refuse(conn: StreamConn, message: string): void {
    conn.ws.send(JSON.stringify({ type: 'error', code: 'BadRequest', message }));
  }

  private watch(conn: StreamConn, ids: string[]): void {
    // better-sqlite3 is synchronous: registering and checking happen in one turn, so no outcome can
    // slip in between.
    // Owner and state only: most watched tasks are unfinished, and full rows cost 3x as much to read.
    const rows = new Map<string, { owner_id: string; state: TaskRow['state'] }>();
    const strIds = ids.map(String);
    for (let i = 0; i < strIds.length; i += 5000) for (const r of this.store.taskStates(strIds.slice(i, i + 5000))) rows.set(r.id, r);
    for (const id of strIds) {
      const s = rows.get(id);
      if (!s || s.owner_id !== conn.user.id) {
        conn.pushNotFound(id);
        continue;
      }
      if (TERMINAL_STATES.has(s.state)) {
        const row = this.store.task(id)!;
        conn.push({
          task_id: row.id,
          state: row.state as Outcome['state'],
          endpoint_id: row.endpoint_id,
          attempts: row.attempts,
          ...(row.state === 'success' ? { result: this.store.result(row.id) ?? undefined } : {}),
          ...(row.error ? { error: JSON.parse(row.error) } : {}),
        });
        continue;
      }
      let set = this.watchers.get(id);
      if (!set) this.watchers.set(id, (set = new Set()));
      set.add(conn);
      conn.watching.add(id);
    }
  }

  private unwatch(conn: StreamConn, ids: string[]): void {
    for (const id of ids) {
      conn.watching.delete(id);
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
        conn.push(o);
      }
    }
  }
}
