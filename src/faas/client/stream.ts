/**
 * The client side of `/v1/stream`: one WebSocket per client; callers watch task ids and are called
 * back once per task with its outcome. Reconnects with backoff and re-watches what is still pending
 * (the service replays finished tasks on watch, so nothing is missed across reconnects).
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { decodeFrameRaw, unpackValue } from '../codec.ts';
import { byType, streamServiceText } from '../protocol-schemas.ts';
import { parseJson } from '../schema.ts';
import {
  FaasConnectionError,
  FaasError,
  FaasProtocolError,
  FaasRequestError,
  taskError,
  type TaskFailedError,
} from '../errors.ts';
import { Backoff } from '../../util/retry.ts';
import { type BadEntry, type ReadFrame, readResultsFrame } from './results-frame.ts';
import {
  ERROR_STATUS,
  ROUTES,
  type StreamResults,
  type StreamServiceTextMessage,
  type SubmitResponse,
  type TaskState,
} from '../protocol.ts';

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
  /** Endpoints the service started tail copies on (tasks submitted with a tail policy). */
  copies?: string[];
  /** The result came from a tail copy, which ran on `endpointId`. */
  byCopy?: boolean;
}

export type OutcomeListener = (o: TaskOutcome) => void;

/** Results frames in a row that cannot be tied to tasks before every watched task fails (see onFrame). */
export const MAX_RESYNCS = 3;
/** Called when an endpoint reports the task running (tasks running a few tens of ms or longer). */
export type RunningListener = (taskId: string, endpointId: string | undefined) => void;

interface PendingSubmit {
  resolve: (r: SubmitResponse) => void;
  reject: (e: Error) => void;
  listener: OutcomeListener | undefined;
  onRunning: RunningListener | undefined;
  /** The tasks' ids, when the client made them (a deferred answer carries none). */
  ids: readonly string[] | undefined;
}

export class ResultStream {
  private ws: WebSocket | undefined;
  private socket: Socket | undefined;
  private open = false;
  /** The service's own reason for ending this connection (e.g. the token was revoked), if it gave one. */
  private endedBy: { code: string; message: string } | undefined;
  private readonly listeners = new Map<string, Set<OutcomeListener>>();
  private readonly runningListeners = new Map<string, Set<RunningListener>>();
  private toWatch: string[] = [];
  private flushScheduled = false;
  /** Reconnects: the shared policy (full jitter), 100 ms doubling up to 5 s. */
  private readonly backoff = new Backoff({ baseMs: 100, maxMs: 5000 });
  /** Watching again after the service refused a watch for its bound on watched ids (see watchRefused). */
  private readonly rewatchBackoff = new Backoff({ baseMs: 250, maxMs: 5000 });
  private rewatchTimer: NodeJS.Timeout | undefined;
  private toldRewatch = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly submits = new Map<number, PendingSubmit>();
  /**
   * Ids of submissions sent with their ids and not confirmed yet: not watched again after a reconnect
   * (the service would call them unknown while the submission is still to be retried).
   */
  private readonly unconfirmed = new Set<string>();
  private nextReq = 1;

  constructor(
    private readonly serviceUrl: string,
    private readonly token: string,
    /** The name of an endpoint id, when the client knows it (for error messages). */
    private readonly endpointName: (id: string) => string | undefined = () => undefined,
  ) {}

  /**
   * Call `listener` once with the outcome of each id, and `onRunning` (if given) when an endpoint
   * reports one running. Returns a function that stops watching.
   */
  watch(ids: readonly string[], listener: OutcomeListener, onRunning?: RunningListener): () => void {
    if (this.closed) throw new FaasError('the result stream is closed', {}, 'create a new FaasClient');
    for (const id of ids) {
      // A new running listener on an id already watched needs the watch sent again, with the flag.
      const fresh = this.addListener(id, listener, onRunning);
      if (fresh) this.toWatch.push(id);
    }
    this.ensureConnected();
    this.scheduleFlush();
    this.updateRef();
    return () => {
      for (const id of ids) {
        const set = this.listeners.get(id);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) {
          this.listeners.delete(id);
          this.runningListeners.delete(id);
        } else if (onRunning) this.runningListeners.get(id)?.delete(onRunning);
      }
      this.updateRef();
    };
  }

  /** Whether `submit` can be used now (the stream is open; it connects on first use). */
  get ready(): boolean {
    this.ensureConnected();
    return this.open;
  }

  /**
   * Submit over the stream: `requestJson` is the body of `POST /v1/tasks` as JSON text. With a
   * listener the service also watches the new tasks in the same step, so each outcome arrives one
   * round trip after the task finishes, with no watch request in between. Rejects with
   * FaasRequestError when the service refuses the submission (nothing was stored), or with
   * FaasConnectionError when the stream closed before the answer (the tasks may or may not exist).
   *
   * `ids`: the request names every task (TaskSpec.id, in this order). Outcomes are then matched from
   * the start, and the service's answer rides along with a later results frame instead of being a
   * message of its own (StreamSubmit.defer_reply); the promise resolves when it arrives.
   */
  submit(
    requestJson: string,
    listener?: OutcomeListener,
    onRunning?: RunningListener,
    ids?: readonly string[],
  ): Promise<SubmitResponse> {
    if (!this.open || !this.ws)
      return Promise.reject(
        new FaasConnectionError('the result stream is not connected', { service: this.serviceUrl }),
      );
    const req = this.nextReq++;
    const p = new Promise<SubmitResponse>((resolve, reject) =>
      this.submits.set(req, { resolve, reject, listener, onRunning, ids }),
    );
    const deferred = ids !== undefined && listener !== undefined;
    if (deferred)
      for (const id of ids) {
        this.addListener(id, listener, onRunning);
        this.unconfirmed.add(id);
      }
    const running = listener && onRunning ? ',"running":true' : '';
    this.ws.send(
      `{"type":"submit","req":${req},"watch":${listener ? 'true' : 'false'}${running}${deferred ? ',"defer_reply":true' : ''},"request":${requestJson}}`,
    );
    this.updateRef();
    return p;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.rewatchTimer);
    this.ws?.terminate();
  }

  private ensureConnected(): void {
    if (this.ws || this.closed) return;
    const url = this.serviceUrl.replace(/^http/, 'ws').replace(/\/$/, '') + ROUTES.stream;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.token}` },
      perMessageDeflate: false,
      maxPayload: 1024 * 1024 * 1024,
    });
    this.ws = ws;
    ws.on('upgrade', (res) => {
      this.socket = res.socket as Socket;
      this.updateRef();
    });
    ws.on('open', () => {
      this.open = true;
      this.endedBy = undefined;
      this.backoff.reset();
      // Re-watch everything still pending (all of it on a reconnect), but for submissions whose
      // answer never came: they are retried (see FaasClient.submitWatched), and watched then.
      this.toWatch = [...this.listeners.keys()].filter((id) => !this.unconfirmed.has(id));
      this.scheduleFlush();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.onFrame(data as Buffer);
      let raw: unknown;
      let text: StreamServiceTextMessage;
      try {
        raw = parseJson(String(data));
        const v = byType(streamServiceText, raw);
        if (!v)
          throw new FaasProtocolError(
            `unknown message type ${JSON.stringify((raw as { type?: unknown })?.type ?? null).slice(0, 100)}`,
          );
        text = v.check(raw, 'stream message') as StreamServiceTextMessage;
      } catch (e) {
        // Not from a service speaking this protocol: say so once per message, keep the stream. A
        // submission it names is failed, not left waiting for an answer that is not coming.
        const why = `a malformed message from the service: ${(e as Error).message}`;
        const req = typeof raw === 'object' && raw !== null ? (raw as { req?: unknown }).req : undefined;
        if (typeof req === 'number' && this.failSubmit(req, why)) return;
        process.emitWarning(`ristretto faas stream: ignored ${why}`);
        return;
      }
      this.onText(text);
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401) {
        const err = new FaasRequestError(401, 'Unauthorized', 'the service rejected the token for the result stream', {
          path: ROUTES.stream,
        });
        for (const [id, set] of this.listeners)
          for (const l of set) l({ taskId: id, state: 'failed', endpointId: '', attempts: 0, error: err });
        this.listeners.clear();
      }
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.ws = undefined;
      this.socket = undefined;
      this.open = false;
      this.failSubmits();
      if (this.closed || this.listeners.size === 0) return;
      this.reconnectTimer = setTimeout(() => this.ensureConnected(), this.backoff.next());
    });
  }

  private onText(msg: StreamServiceTextMessage): void {
    const req = msg.req;
    const pending = req === undefined ? undefined : this.submits.get(req);
    if (req === undefined || !pending) {
      if (msg.type === 'error' && msg.code === 'Unauthorized')
        this.endedBy = msg; // the close follows
      else if (msg.type === 'error' && msg.code === 'QuotaExceeded') this.watchRefused(msg.message);
      else if (msg.type === 'error') process.emitWarning(`ristretto faas stream: ${msg.code}: ${msg.message}`);
      return;
    }
    this.submits.delete(req);
    if (msg.type === 'error') {
      this.forgetUnconfirmed(pending);
      pending.reject(
        new FaasRequestError(
          ERROR_STATUS[msg.code] ?? 400,
          msg.code,
          msg.message,
          { path: `${ROUTES.stream} submit` },
          msg.details,
        ),
      );
    } else {
      // The service already watches these ids for this connection; only the local side is missing.
      if (pending.listener) for (const id of msg.task_ids) this.addListener(id, pending.listener, pending.onRunning);
      if (pending.ids) for (const id of pending.ids) this.unconfirmed.delete(id);
      pending.resolve({ batch_id: msg.batch_id, task_ids: msg.task_ids });
    }
    this.updateRef();
  }

  /**
   * The service refused a watch: its user's streams watch as many tasks as they may (QuotaExceeded).
   * Its ids are still listened for here, so everything pending is watched again later, as watched
   * tasks finish (ids this stream already watches take no more room). Said once.
   */
  private watchRefused(message: string): void {
    if (!this.toldRewatch) {
      this.toldRewatch = true;
      process.emitWarning(`ristretto faas stream: ${message}; watching again as watched tasks finish`);
    }
    if (this.rewatchTimer || this.closed) return;
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = undefined;
      this.toWatch = [...this.listeners.keys()].filter((id) => !this.unconfirmed.has(id));
      this.scheduleFlush();
    }, this.rewatchBackoff.next());
  }

  /** Deferred answers (StreamResults.submitted): the submissions are stored. */
  private confirm(submitted: readonly { req: number; batch_id: string }[]): void {
    for (const { req, batch_id } of submitted) {
      const pending = this.submits.get(req);
      if (!pending?.ids) continue;
      this.submits.delete(req);
      for (const id of pending.ids) this.unconfirmed.delete(id);
      pending.resolve({ batch_id, task_ids: [...pending.ids] });
    }
  }

  /** A submission that named its tasks failed: stop listening for them here (a retry listens again). */
  private forgetUnconfirmed(p: PendingSubmit): void {
    if (!p.ids || !p.listener) return;
    for (const id of p.ids) {
      if (!this.unconfirmed.delete(id)) continue;
      const set = this.listeners.get(id);
      set?.delete(p.listener);
      if (set?.size === 0) {
        this.listeners.delete(id);
        this.runningListeners.delete(id);
      } else if (p.onRunning) this.runningListeners.get(id)?.delete(p.onRunning);
    }
  }

  private failSubmits(): void {
    if (this.submits.size === 0) return;
    // Closed by the service for a reason it named (a revoked token): that reason, as over HTTP.
    const why = this.endedBy;
    const err = why
      ? new FaasRequestError(401, why.code, why.message, {
          path: `${ROUTES.stream} submit`,
        })
      : new FaasConnectionError(
          'the connection to the FaaS service closed before it confirmed a submission; the tasks may or may not have been created',
          { service: this.serviceUrl },
          'check the task list (or batch) before submitting again',
        );
    for (const p of this.submits.values()) {
      this.forgetUnconfirmed(p);
      p.reject(err);
    }
    this.submits.clear();
  }

  /** Returns whether the service must be told (a new id, or a first running listener for it). */
  private addListener(id: string, listener: OutcomeListener, onRunning?: RunningListener): boolean {
    let set = this.listeners.get(id);
    let fresh = !set;
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    if (onRunning) {
      let r = this.runningListeners.get(id);
      if (!r) {
        this.runningListeners.set(id, (r = new Set()));
        fresh = true;
      }
      r.add(onRunning);
    }
    return fresh;
  }

  /** An idle stream must not keep the process alive; a stream with pending watches must. */
  private updateRef(): void {
    if (!this.socket) return;
    if (this.listeners.size > 0 || this.submits.size > 0) this.socket.ref();
    else this.socket.unref();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.open || !this.ws || this.toWatch.length === 0) return;
      const ids = [...new Set(this.toWatch)].filter((id) => this.listeners.has(id));
      this.toWatch = [];
      const plain = ids.filter((id) => !this.runningListeners.has(id));
      const running = ids.filter((id) => this.runningListeners.has(id));
      for (let i = 0; i < plain.length; i += 10_000)
        this.ws.send(JSON.stringify({ type: 'watch', task_ids: plain.slice(i, i + 10_000) }));
      for (let i = 0; i < running.length; i += 10_000)
        this.ws.send(JSON.stringify({ type: 'watch', task_ids: running.slice(i, i + 10_000), running: true }));
    });
  }

  /**
   * A binary results frame. Each entry is checked on its own (results-frame.ts): the good ones are
   * delivered, a malformed one fails its task with a FaasProtocolError naming the task and the field.
   * A frame that cannot be read at all, or an entry naming no task, leaves outcomes unknown that some
   * caller may wait for: the stream reconnects and watches again (the service replays finished tasks),
   * and after MAX_RESYNCS such frames in a row fails every watched task instead of waiting forever.
   */
  private onFrame(data: Buffer): void {
    let frame: ReadFrame;
    let blobs: Uint8Array[];
    try {
      const raw = decodeFrameRaw(data);
      blobs = raw.blobs;
      frame = readResultsFrame(parseJson(raw.json));
    } catch (e) {
      return this.resync(`an unreadable results frame (${(e as Error).message.slice(0, 200)})`);
    }
    this.onResults(frame.header, blobs);
    for (const b of frame.bad) this.failEntry(b);
    for (const req of frame.badSubmitted) this.failSubmit(req, 'a malformed confirmation from the service');
    if (frame.unattributed.length) this.resync(frame.unattributed.slice(0, 3).join('; '));
    else this.resyncs = 0;
  }

  /** Consecutive frames with outcomes that could not be tied to a task (see onFrame). */
  private resyncs = 0;

  private resync(why: string): void {
    if (++this.resyncs > MAX_RESYNCS) {
      const err = new FaasProtocolError(
        `the service sent ${this.resyncs} results frames in a row that could not be read (last: ${why})`,
        { service: this.serviceUrl },
        'check that the service runs the same Ristretto version as this client',
      );
      for (const [id, set] of this.listeners)
        for (const l of set) l({ taskId: id, state: 'failed', endpointId: '', attempts: 0, error: err });
      this.listeners.clear();
      this.runningListeners.clear();
      this.resyncs = 0;
      this.updateRef();
      return;
    }
    process.emitWarning(`ristretto faas stream: ${why}; reconnecting to watch the pending tasks again`);
    // The close handler reconnects (with backoff) and re-watches every id still listened for.
    this.ws?.terminate();
  }

  /** A results entry naming its task but malformed: that task fails, loudly (see onFrame). */
  private failEntry(b: BadEntry): void {
    const set = this.listeners.get(b.taskId);
    if (!set) return;
    this.listeners.delete(b.taskId);
    this.runningListeners.delete(b.taskId);
    const err = new FaasProtocolError(
      `task ${b.taskId}: the service sent its outcome with a malformed field ${b.field} (${b.problem}); its result cannot be used`,
      { taskId: b.taskId, field: b.field, service: this.serviceUrl },
      'check that the service runs the same Ristretto version as this client; the task can be submitted again',
    );
    const o: TaskOutcome = {
      taskId: b.taskId,
      state: 'failed',
      endpointId: b.endpointId,
      attempts: b.attempts,
      error: err,
    };
    for (const l of set) l(o);
    this.updateRef();
  }

  /** Reject the pending submission `req` (true when there was one). */
  private failSubmit(req: number, why: string): boolean {
    const pending = this.submits.get(req);
    if (!pending) return false;
    this.submits.delete(req);
    this.forgetUnconfirmed(pending);
    pending.reject(
      new FaasProtocolError(
        `submission ${req}: ${why}; its tasks may or may not have been created`,
        { service: this.serviceUrl },
        'check the task list (or batch) before submitting again',
      ),
    );
    this.updateRef();
    return true;
  }

  private onResults(header: StreamResults, blobs: Uint8Array[]): void {
    // First: a submission's answer comes before its outcomes.
    if (header.submitted) this.confirm(header.submitted);
    const running = header.running ?? [];
    for (let i = 0; i < running.length; i++)
      for (const l of this.runningListeners.get(running[i]) ?? []) l(running[i], header.running_on?.[i]);
    for (const e of header.results) {
      const set = this.listeners.get(e.task_id);
      if (!set) continue;
      this.listeners.delete(e.task_id);
      this.runningListeners.delete(e.task_id);
      const outcome: TaskOutcome = {
        taskId: e.task_id,
        state: e.state,
        endpointId: e.endpoint_id,
        attempts: e.attempts,
      };
      if (e.copies) outcome.copies = e.copies;
      if (e.by_copy) outcome.byCopy = true;
      if (e.not_found) {
        outcome.error = new FaasRequestError(
          404,
          'NotFound',
          `task ${e.task_id} does not exist or belongs to another user`,
          { taskId: e.task_id },
        );
      } else if (e.state === 'success') {
        try {
          outcome.result = unpackValue(blobs[e.blob ?? -1] ?? new Uint8Array(0));
        } catch (err) {
          outcome.state = 'failed';
          outcome.error = taskError(
            { type: 'SerializationError', message: `decoding the result failed: ${(err as Error).message}` },
            {
              taskId: e.task_id,
              endpointId: e.endpoint_id,
              endpointName: this.endpointName(e.endpoint_id),
              attempts: e.attempts,
            },
          );
        }
      } else {
        outcome.error = taskError(
          e.error ?? { type: 'FunctionError', message: 'task failed without an error message' },
          {
            taskId: e.task_id,
            endpointId: e.endpoint_id,
            endpointName: this.endpointName(e.endpoint_id),
            attempts: e.attempts,
          },
        );
      }
      for (const l of set) l(outcome);
    }
    this.updateRef();
  }
}
