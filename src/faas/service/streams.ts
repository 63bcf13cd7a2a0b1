/**
 * Client result streams (`/v1/stream`): a client watches task ids and receives each outcome once, as
 * soon as it is known. Outcomes finishing in the same event-loop turn go out in one binary frame.
 */
import type { RawData, WebSocket } from 'ws';
import { encodeFrame } from '../codec.ts';
import { Coalescer } from '../coalesce.ts';
import { STREAM_SEND_BUDGET_BYTES, streamClientText, byType } from '../protocol-schemas.ts';
import {
  TERMINAL_STATES,
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
import { ApiError, parseUntrusted, toApiError } from './http.ts';
import type { Metrics } from './metrics.ts';
import { checkOpenTasks, checkWatched, openTaskLimit, watchLimits } from './quotas.ts';
import { checkBatchSize, storedError } from './routes.ts';
import { Turns } from './turns.ts';

/** Stores a submission that passed the schema (the same as `POST /v1/tasks`); throws ApiError when refused. */
export type Submitter = (user: UserRow, request: SubmitRequest) => SubmitResponse;

/** A finished task, as published by the agent hub or the cancel route. */
export interface Outcome {
  task_id: string;
  state: 'success' | 'failed' | 'cancelled';
  endpoint_id: string;
  attempts: number;
  result?: Uint8Array;
  error?: TaskErrorInfo;
  /** Endpoints the service started tail copies on (see StreamEntry.copies). */
  copies?: string[];
  /** The result came from a tail copy. */
  by_copy?: boolean;
}

/**
 * Result streams one user may have open at once. Each may hold up to STREAM_SEND_BUDGET_BYTES of
 * results and a message of up to max_request_bytes being received; one user opened 3,000 (issue 14).
 * A FaasClient holds one, so this leaves room for many clients of one user at once.
 */
export const MAX_STREAMS_PER_USER = 32;

/** Flush a frame early once this many result bytes are queued for one client. */
const FRAME_BYTES = 8 * 1024 * 1024;
/**
 * How long a deferred `submitted` answer (StreamSubmit.defer_reply) waits for a results frame to ride
 * along with. A CPU-bound chunk takes longer, so its answer leaves alone then; a client streaming
 * chunks has results coming back all the time, and its answers cost no message of their own.
 */
const DEFERRED_REPLY_MS = 50;

/** An outcome waiting for its frame; `stored`: its result is read from the store when the frame is built. */
interface Queued {
  entry: StreamEntry;
  result?: Uint8Array;
  stored?: boolean;
}

/**
 * One client connection. Outcomes wait in `queue` until a frame takes them; frames leave while the
 * bytes sent and not yet written to the socket stay under STREAM_SEND_BUDGET_BYTES. Over it, the
 * connection stops reading the client's messages (no new watches) and outcomes are held as ids, their
 * results read again when the socket drains: a client that does not read costs a bounded amount.
 */
class StreamConn {
  /** Outcomes not yet in a frame, from `head` on (taken from the front without copying the rest). */
  private queue: Queued[] = [];
  private head = 0;
  /** Result bytes held in `queue`. */
  private queuedBytes = 0;
  /** Ids in `queue`: watched again meanwhile, they are not queued twice. */
  readonly queuedIds = new Set<string>();
  /** Bytes handed to the socket whose write has not completed. */
  private unsent = 0;
  /** Watched ids whose start is to be reported too, and starts not sent yet. */
  readonly wantsRunning = new Set<string>();
  running: string[] = [];
  runningOn: string[] = [];
  /** Deferred `submitted` answers not sent yet. */
  submitted: { req: number; batch_id: string }[] = [];
  private submittedTimer: NodeJS.Timeout | undefined;
  private readonly flusher = new Coalescer(() => this.flush());
  readonly watching = new Set<string>();
  private ended = false;
  /** When this client was last heard (a message or a pong), and the service's stalled total then (see sweep). */
  lastHeard = Date.now();
  stalledAtHeard = 0;
  constructor(
    readonly ws: WebSocket,
    readonly user: UserRow & { token_id: string },
    /** The stored result of a finished task (read when its frame is built). */
    private readonly storedResult: (taskId: string) => Uint8Array | null,
  ) {}

  /** Queue an outcome; `stored` marks a success whose result is to be read from the store. */
  push(o: Outcome, stored = false): void {
    const e: StreamEntry = { task_id: o.task_id, state: o.state, endpoint_id: o.endpoint_id, attempts: o.attempts };
    if (o.error) e.error = o.error;
    if (o.copies) e.copies = o.copies;
    if (o.by_copy) e.by_copy = true;
    this.enqueue(e, o.result, stored);
  }

  pushNotFound(taskId: string): void {
    this.enqueue({ task_id: taskId, state: 'failed', endpoint_id: '', attempts: 0, not_found: true });
  }

  private enqueue(entry: StreamEntry, result?: Uint8Array, stored = false): void {
    if (this.ended || this.queuedIds.has(entry.task_id)) return;
    const q: Queued = { entry };
    if (result && this.queuedBytes + result.byteLength <= STREAM_SEND_BUDGET_BYTES) {
      q.result = result;
      this.queuedBytes += result.byteLength;
    } else if (result || stored) q.stored = true; // held as an id: read again when its frame is built
    this.queue.push(q);
    this.queuedIds.add(entry.task_id);
    if (this.queuedBytes >= FRAME_BYTES) this.flush();
    else this.flusher.schedule();
  }

  pushRunning(taskId: string, endpointId: string): void {
    this.running.push(taskId);
    this.runningOn.push(endpointId);
    this.flusher.schedule();
  }

  /** A stored submission whose answer waits for the next results frame (or DEFERRED_REPLY_MS). */
  pushSubmitted(req: number, batchId: string): void {
    this.submitted.push({ req, batch_id: batchId });
    this.submittedTimer ??= setTimeout(() => this.flush(), DEFERRED_REPLY_MS);
  }

  /** The connection closed: nothing more to send. */
  closed(): void {
    this.ended = true;
    clearTimeout(this.submittedTimer);
    this.submittedTimer = undefined;
    this.queue = [];
    this.head = 0;
    this.queuedIds.clear();
    this.queuedBytes = 0;
  }

  /** Bytes this connection holds: results queued in memory and frames not yet written to the socket. */
  get held(): number {
    return this.queuedBytes + this.unsent;
  }

  /** Read this client's messages again, unless it is over its send budget (then the socket's drain does). */
  resumeReading(): void {
    if (!this.ended && this.unsent < STREAM_SEND_BUDGET_BYTES && !this.readingHeld() && this.ws.isPaused)
      this.ws.resume();
  }

  /** True while messages of this connection wait for their turn (turns.ts paused it); set by attach. */
  readingHeld: () => boolean = () => false;

  /** Send a text message (answers, errors), counted against the budget like frames. */
  sendText(text: string): void {
    this.send(text, Buffer.byteLength(text));
  }

  /** Build and send frames while the budget allows; the rest leaves when the socket drains. */
  flush(): void {
    while (!this.ended && this.unsent < STREAM_SEND_BUDGET_BYTES) {
      if (this.head === this.queue.length && this.running.length === 0 && this.submitted.length === 0) return;
      const header: StreamResults = { type: 'results', results: [] };
      const blobs: Uint8Array[] = [];
      let bytes = 0;
      // At least one outcome per frame, however large its result.
      while (this.head < this.queue.length && (header.results.length === 0 || bytes < FRAME_BYTES)) {
        const q = this.queue[this.head++];
        this.queuedIds.delete(q.entry.task_id);
        let result = q.result;
        if (q.result) this.queuedBytes -= q.result.byteLength;
        else if (q.stored) result = this.storedResult(q.entry.task_id) ?? undefined;
        if (result) {
          q.entry.blob = blobs.length;
          blobs.push(result);
          bytes += result.byteLength;
        }
        header.results.push(q.entry);
      }
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.running.length) {
        header.running = this.running;
        header.running_on = this.runningOn;
        this.running = [];
        this.runningOn = [];
      }
      if (this.submitted.length) {
        header.submitted = this.submitted;
        this.submitted = [];
        clearTimeout(this.submittedTimer);
        this.submittedTimer = undefined;
      }
      const frame = encodeFrame(header, blobs);
      this.send(frame, frame.byteLength);
    }
    // Over budget: read no more of this client's messages until its socket drains.
    if (!this.ended && this.ws.readyState === this.ws.OPEN && !this.ws.isPaused) this.ws.pause();
  }

  private send(data: Buffer | string, size: number): void {
    if (this.ended || this.ws.readyState !== this.ws.OPEN) return;
    this.unsent += size;
    this.ws.send(data, () => {
      this.unsent -= size;
      if (this.ended || this.unsent >= STREAM_SEND_BUDGET_BYTES) return;
      // Not while turns.ts holds this connection's earlier messages: they must run first.
      this.resumeReading();
      if (this.head < this.queue.length || this.running.length || this.submitted.length) this.flusher.schedule();
    });
  }
}

export class ResultStreams implements OutcomeSink {
  private readonly watchers = new Map<string, Set<StreamConn>>();
  private readonly conns = new Set<StreamConn>();
  /** Open streams per user id (see MAX_STREAMS_PER_USER). */
  private readonly openPerUser = new Map<string, number>();
  /** Ids watched per user id, summed over their streams (see quotas.ts). */
  private readonly watchedPerUser = new Map<string, number>();
  /** Client messages (streams and HTTP routes) take turns on the service's thread: see turns.ts. */
  readonly turns = new Turns((e) => this.log(`client message: ${(e as Error)?.stack ?? e}`));

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly submitter: Submitter,
    private readonly log: (msg: string) => void = () => {},
    /** The service's open-task limit (`serve --max-open-tasks`, 0 = none); watch limits follow from it. */
    private readonly maxOpenTasks = 0,
  ) {}

  attach(ws: WebSocket, user: UserRow & { token_id: string }): void {
    this.metrics.streamConnects++;
    const open = this.openPerUser.get(user.id) ?? 0;
    if (open >= MAX_STREAMS_PER_USER) {
      const message = `user ${user.name} has ${open} result streams open, the most one user may have: close one first (each FaasClient holds one)`;
      ws.send(JSON.stringify({ type: 'error', code: 'Forbidden', message, details: { limit: MAX_STREAMS_PER_USER } }));
      ws.close(1008, 'Forbidden');
      return;
    }
    this.openPerUser.set(user.id, open + 1);
    const conn = new StreamConn(ws, user, (id) => this.store.result(id));
    // Only stalls from now on are discounted from this stream's silence, not the service's past ones.
    conn.stalledAtHeard = this.stalledMs;
    this.conns.add(conn);
    // Messages take turns with other users' (see turns.ts); over its send budget a stream stays paused.
    const reader = { pause: () => ws.pause(), resume: () => conn.resumeReading() };
    conn.readingHeld = () => this.turns.holds(reader);
    const heard = () => {
      conn.lastHeard = Date.now();
      conn.stalledAtHeard = this.stalledMs;
    };
    ws.on('pong', heard);
    ws.on('message', (data, isBinary) => {
      heard();
      this.turns.run(user.id, reader, () => this.onMessage(conn, data, isBinary));
    });
    ws.on('close', () => {
      const left = (this.openPerUser.get(user.id) ?? 1) - 1;
      if (left > 0) this.openPerUser.set(user.id, left);
      else this.openPerUser.delete(user.id);
      conn.closed();
      this.conns.delete(conn);
      this.unwatch(conn, [...conn.watching]);
    });
    ws.on('error', () => {});
  }

  /** One client message: whatever it does wrong is answered on this stream and ends nothing else. */
  private onMessage(conn: StreamConn, data: RawData, isBinary: boolean): void {
    let req: number | undefined;
    try {
      if (isBinary) throw new ApiError('BadRequest', 'stream messages must be JSON text frames');
      let raw: unknown;
      const text = String(data);
      try {
        raw = parseUntrusted(text, 'stream message');
      } catch (e) {
        req = topLevelReq(text); // refused unparsed (too deep, too large): still answer its `req`
        throw e;
      }
      req = requestNumber(raw);
      const v = byType(streamClientText, raw);
      if (!v)
        throw new ApiError(
          'BadRequest',
          `stream messages are "watch", "unwatch" or "submit", got ${describeType(raw)}`,
        );
      if (v === streamClientText.submit) checkBatchSize((raw as { request?: unknown }).request);
      const msg = v.check(raw, 'stream message');
      // One transaction per message; the answer to a submission leaves after it commits, so a
      // client never holds ids of tasks the service could still lose.
      const answer = this.store.atomically(() => {
        if (msg.type === 'submit') return this.submit(conn, msg);
        if (msg.type === 'watch') this.watch(conn, msg.task_ids, msg.running === true);
        else this.unwatch(conn, msg.task_ids);
        return undefined;
      });
      if (answer) this.reply(conn, answer);
    } catch (e) {
      const err = toApiError(e);
      if (err.code === 'InternalError') this.log(`stream of user ${conn.user.name}: ${(e as Error)?.stack ?? e}`);
      this.reply(conn, {
        type: 'error',
        code: err.code,
        message: err.message,
        ...(req !== undefined ? { req } : {}),
        ...(err.details ? { details: err.details } : {}),
      });
    }
  }

  /** Milliseconds the service's own event loop was stalled (late sweeps, summed), and when it last swept. */
  private stalledMs = 0;
  private lastSweep = Date.now();

  /**
   * Called every heartbeat: close the streams of revoked tokens, ping the others, and end those not heard
   * from (no message, no pong) for `idleMs`. A client that stopped half-way through a frame (up to the
   * request limit buffered for it) or went away without closing otherwise holds its memory forever; it
   * cannot answer a ping mid-frame. Time the service itself was stalled, or a stream it paused (its
   * messages wait their turn, or it is over its send budget), does not count as the client's silence.
   */
  sweep(heartbeatMs: number, idleMs: number): void {
    const now = Date.now();
    this.stalledMs += Math.max(0, now - this.lastSweep - heartbeatMs);
    this.lastSweep = now;
    this.sweepRevoked();
    for (const conn of this.conns) {
      if (conn.ws.isPaused) {
        conn.lastHeard = now;
        conn.stalledAtHeard = this.stalledMs;
        continue;
      }
      const silent = now - conn.lastHeard - (this.stalledMs - conn.stalledAtHeard);
      if (silent <= idleMs) {
        if (conn.ws.readyState === conn.ws.OPEN) conn.ws.ping();
        continue;
      }
      this.log(`stream of user ${conn.user.name}: nothing heard for ${silent} ms, closing`);
      // Its 'close' handler forgets the connection and what it watched.
      conn.ws.terminate();
    }
  }

  /** Close the streams of revoked tokens (they would go on receiving results). Called periodically. */
  sweepRevoked(): void {
    const active = new Map<string, boolean>();
    for (const conn of this.conns) {
      const id = conn.user.token_id;
      let ok = active.get(id);
      if (ok === undefined) active.set(id, (ok = this.store.tokenActive(id)));
      if (ok) continue;
      this.reply(conn, { type: 'error', code: 'Unauthorized', message: 'token revoked' });
      conn.ws.close(1008, 'Unauthorized');
      conn.closed();
      this.conns.delete(conn);
      this.unwatch(conn, [...conn.watching]);
    }
  }

  /** Bytes all result streams hold for their clients (see StreamConn.held), for the admin metrics. */
  heldBytes(): number {
    let n = 0;
    for (const conn of this.conns) n += conn.held;
    return n;
  }

  close(): void {
    for (const conn of this.conns) conn.ws.terminate();
    this.conns.clear();
  }

  private reply(conn: StreamConn, msg: StreamSubmitted | StreamErrorMessage): void {
    conn.sendText(JSON.stringify(msg));
  }

  /**
   * A submission over the stream saves the HTTP request and, with `watch`, the watch message: the
   * outcome is pushed as soon as it is known. The answer goes out before any outcome of these tasks
   * (same socket, and the tasks cannot finish within this synchronous turn).
   */
  private submit(conn: StreamConn, msg: StreamSubmit): StreamSubmitted | undefined {
    // The connection outlives single requests: a token revoked since the upgrade stops it here.
    if (!this.store.tokenActive(conn.user.token_id)) throw new ApiError('Unauthorized', 'invalid or revoked token');
    // Before anything is stored: a submission is refused whole, never stored and left unwatched. The
    // open-task quota first (the submitter checks it again): its refusal says what to wait for.
    if (msg.watch) {
      checkOpenTasks(this.store, conn.user, this.maxOpenTasks, msg.request.tasks.length);
      this.checkWatchRoom(conn, msg.request.tasks.length);
    }
    const r = this.submitter(conn.user, msg.request);
    this.metrics.streamSubmits++;
    if (msg.watch) for (const id of r.task_ids) this.addWatcher(conn, id, msg.running === true);
    // The client named every task: it needs only to hear that they are stored, with its next results.
    // (Pushed before any outcome of these tasks can be: the frame carries both, answer first.)
    if (msg.defer_reply && msg.request.tasks[0]?.id !== undefined) {
      conn.pushSubmitted(msg.req, r.batch_id);
      return undefined;
    }
    // Sent in this turn, before the watch above can flush (outcomes leave in a later turn), so ids arrive first.
    return { type: 'submitted', req: msg.req, batch_id: r.batch_id, task_ids: r.task_ids };
  }

  /**
   * Each id once: one already watched on this connection, or whose outcome is queued for it, adds
   * nothing; finished ones are queued with their results left in the store until their frame is built.
   */
  private watch(conn: StreamConn, ids: string[], running: boolean): void {
    const fresh: string[] = [];
    for (const id of new Set(ids)) {
      if (conn.queuedIds.has(id)) continue;
      if (conn.watching.has(id)) {
        if (running) conn.wantsRunning.add(id);
        continue;
      }
      fresh.push(id);
    }
    // better-sqlite3 is synchronous: registering and checking happen in one turn, so no outcome can
    // slip in between.
    const rows = new Map<string, TaskOutcomeRow>();
    for (let i = 0; i < fresh.length; i += 5000)
      for (const r of this.store.taskOutcomes(fresh.slice(i, i + 5000))) rows.set(r.id, r);
    // Refused whole, before anything is queued: only unfinished tasks of the user stay watched.
    let adding = 0;
    for (const id of fresh) {
      const row = rows.get(id);
      if (row && row.owner_id === conn.user.id && !TERMINAL_STATES.has(row.state)) adding++;
    }
    if (adding) this.checkWatchRoom(conn, adding);
    for (const id of fresh) {
      const row = rows.get(id);
      if (!row || row.owner_id !== conn.user.id) {
        conn.pushNotFound(id);
        continue;
      }
      if (TERMINAL_STATES.has(row.state)) {
        const error = storedError(row);
        conn.push(
          {
            task_id: row.id,
            state: row.state as Outcome['state'],
            endpoint_id: row.endpoint_id,
            attempts: row.attempts,
            ...(error ? { error } : {}),
          },
          row.state === 'success',
        );
        continue;
      }
      this.addWatcher(conn, id, running);
      // Already running: say so now, the notice from the endpoint has come and gone.
      if (running && row.state === 'running') conn.pushRunning(id, row.endpoint_id);
    }
  }

  /** Refuse (QuotaExceeded) watching `asked` more ids on `conn` beyond its or its user's watch limit. */
  private checkWatchRoom(conn: StreamConn, asked: number): void {
    const limits = watchLimits(openTaskLimit(this.store, conn.user, this.maxOpenTasks));
    checkWatched(conn.user, limits, conn.watching.size, this.watchedPerUser.get(conn.user.id) ?? 0, asked);
  }

  /** Count ids a user's streams watch (n > 0) or stopped watching (n < 0). */
  private countWatched(userId: string, n: number): void {
    const left = (this.watchedPerUser.get(userId) ?? 0) + n;
    if (left > 0) this.watchedPerUser.set(userId, left);
    else this.watchedPerUser.delete(userId);
  }

  private addWatcher(conn: StreamConn, id: string, running: boolean): void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(conn);
    if (!conn.watching.has(id)) {
      conn.watching.add(id);
      this.countWatched(conn.user.id, 1);
    }
    if (running) conn.wantsRunning.add(id);
  }

  private unwatch(conn: StreamConn, ids: string[]): void {
    for (const id of ids) {
      if (conn.watching.delete(id)) this.countWatched(conn.user.id, -1);
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
        if (conn.watching.delete(o.task_id)) this.countWatched(conn.user.id, -1);
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

/**
 * `"req": N` among the top-level members of a JSON text that is not parsed (one pass; strings skipped,
 * depth counted), so a message refused for its depth or size is answered with its `req` too.
 */
export function topLevelReq(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: a top-level key "req" followed by a colon and digits is the answer
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (depth === 1 && j === i + 4 && text.startsWith('req', i + 1)) {
        const m = /^\s*:\s*(\d{1,15})\s*[,}]/.exec(text.slice(j + 1, j + 40));
        if (m) return Number(m[1]);
      }
      i = j;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return undefined;
}

/** The `req` of a submit message, when it has a usable one (to answer even a malformed submission). */
function requestNumber(raw: unknown): number | undefined {
  const req = typeof raw === 'object' && raw !== null ? (raw as { req?: unknown }).req : undefined;
  return typeof req === 'number' && Number.isSafeInteger(req) && req >= 0 ? req : undefined;
}

function describeType(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw;
  const t = (raw as { type?: unknown }).type;
  return t === undefined ? 'no type' : `type ${JSON.stringify(t).slice(0, 100)}`;
}
