/**
 * The endpoint agent: connects OUT to the service over a WebSocket (so sites need no inbound ports),
 * registers or re-attaches by name, runs dispatched tasks on a worker-process pool, returns results
 * batched per event-loop turn, heartbeats with its capacity, and reconnects with jittered backoff.
 *
 * Results stay in memory until the service acknowledges them, so a service restart or a dropped
 * connection loses nothing: the agent re-sends them after re-attaching.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import WebSocket from 'ws';
import { decodeFrameRaw, encodeFrame } from '../codec.ts';
import { AGENT_MAX_MESSAGE_BYTES, byType, MAX_CACHED_HASHES, serviceText, validate } from '../protocol-schemas.ts';
import { parseJson } from '../schema.ts';
import { brokenInvariant } from '../../errors/index.ts';
import { FaasConfigError, type FaasError, FaasProtocolError, MODULE_MISSING } from '../errors.ts';
import {
  type AgentHello,
  type AgentResults,
  type AgentTextMessage,
  DEFAULT_HEARTBEAT_MS,
  PROTOCOL_VERSION,
  type ResultEntry,
  ROUTES,
  type ServiceTasks,
  type ServiceTextMessage,
  type Sharing,
  type TaskErrorInfo,
} from '../protocol.ts';
import { Coalescer } from '../coalesce.ts';
import { Backoff } from '../../util/retry.ts';
import { noticeDelayMs, prefetchFor } from '../scheduling.ts';
import { FunctionCache } from './function-cache.ts';
import { MISMATCH } from './verified-load.ts';
import type { BlockOptions } from './blocks.ts';
import { prepareWorkerEntry, WorkerPool } from './pool.ts';
import type { WorkerDone } from './worker-messages.ts';

export interface AgentOptions {
  serviceUrl: string;
  token: string;
  name: string;
  /** Worker processes. */
  workers: number;
  /** Tasks running at once per worker process (default 1; raise for I/O-bound or sleeping functions). */
  concurrency?: number;
  /** Tasks the service may send beyond the capacity (workers x concurrency). Default: about 25 ms of work (prefetchFor in ../scheduling.ts). */
  prefetch?: number;
  /** Functions this endpoint accepts (ids); undefined keeps what the service has. */
  allowedFunctions?: string[];
  /**
   * Ristretto processor bundles (sha256) the chunk function may load here; undefined = any. Workers get
   * them as RISTRETTO_ALLOWED_BUNDLES (executors/faas/remote/run-task.ts checks it).
   */
  allowedBundles?: string[];
  /**
   * Stage-out locations (directories, http(s) base URLs) the chunk function may write to; undefined =
   * any. Workers get them as RISTRETTO_STAGEOUT_ALLOW (executors/faas/stageout.ts checks it), and the
   * site's RISTRETTO_STAGEOUT_TOKEN is sent only there.
   */
  stageoutAllow?: string[];
  sharing?: Sharing;
  /**
   * Longest a task may run here, in seconds, whatever timeout its submitter gave it (`--max-task-seconds`):
   * the task then fails with TaskTimeout naming this limit. Undefined: only the task's own timeout.
   */
  maxTaskSeconds?: number;
  /** Capability tags sent in every hello (`gpu`, `site=T2_US`); checked with checkTags in ../capabilities.ts. */
  tags?: string[];
  /** Path prefixes the workers read locally, sent in every hello; the FaaS executor sends chunks of such files here first. */
  localPaths?: string[];
  cacheDir: string;
  /** Get workers from batch-job blocks (`--provider`) instead of forking `workers` processes. */
  blocks?: BlockOptions;
  log?: (msg: string) => void;
  /** Longest wait between reconnection attempts. */
  maxBackoffMs?: number;
  /** Called on every successful (re-)attach. */
  onAttached?: (endpointId: string) => void;
  /**
   * Called when the agent stops for good after its first attach (token revoked, or another live agent
   * took the endpoint's name while this one was away); before it, start() rejects instead.
   */
  onFatal?: (e: FaasError) => void;
}

/** Environment variable listing the processor bundle hashes workers may run (comma-separated). */
export const ALLOWED_BUNDLES_ENV = 'RISTRETTO_ALLOWED_BUNDLES';
/** Environment variable listing the stage-out locations workers may use (comma-separated; empty = none). */
export const STAGEOUT_ALLOW_ENV = 'RISTRETTO_STAGEOUT_ALLOW';

interface Held {
  taskId: string;
  functionId: string;
  hash: string;
}

interface Unacked {
  entry: ResultEntry;
  blob: Uint8Array | undefined;
  sent: boolean;
}

export class EndpointAgent {
  private ws: WebSocket | undefined;
  private pool: WorkerPool | undefined;
  private readonly cache: FunctionCache;
  private readonly held = new Map<string, Held>();
  private readonly unacked = new Map<string, Unacked>();
  /** Tasks due a "started" notice, with when they started. */
  private started: { id: string; at: number }[] = [];
  /** Tasks that started running, oldest first, until they are old enough for a "started" notice. */
  private startedQueue: { id: string; at: number }[] = [];
  private startedTimer: NodeJS.Timeout | undefined;
  private lost: { task_id: string; reason: string; started_at: number }[] = [];
  /** Cancelled tasks whose slots are free again, to report. */
  private released: string[] = [];
  private readonly flusher = new Coalescer(() => this.flush());
  private advertisedPrefetch = 0;
  private attached = false;
  private stopped = false;
  /** Reconnects: the shared policy (full jitter), 100 ms doubling up to maxBackoffMs. */
  private readonly backoff: Backoff;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private maxResultBytes = Infinity;
  private endpointId: string | undefined;
  private firstAttach: { resolve: (id: string) => void; reject: (e: Error) => void } | undefined;
  private readonly log: (msg: string) => void;
  /** Sent in every hello: the service tells this agent's reconnects from a second agent with its name. */
  private readonly instance = randomUUID();

  constructor(private readonly opts: AgentOptions) {
    if (!/^[A-Za-z0-9][\w.-]{0,99}$/.test(opts.name)) {
      throw new FaasConfigError(
        `invalid endpoint name "${opts.name}"`,
        { name: opts.name },
        'use 1-100 letters, digits, ".", "_" or "-"',
      );
    }
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new FaasConfigError(`workers must be a positive integer, got ${opts.workers}`, { workers: opts.workers });
    }
    this.cache = new FunctionCache(opts.cacheDir);
    this.backoff = new Backoff({ baseMs: 100, maxMs: opts.maxBackoffMs ?? 5000 });
    this.log = opts.log ?? ((m) => process.stderr.write(`[faas-endpoint ${opts.name}] ${m}\n`));
  }

  /** Start workers and connect; resolves with the endpoint id at the first successful attach. */
  async start(): Promise<string> {
    // Workers start from a plain-JS build of their entry (no tsx) once it is built or found cached.
    await prepareWorkerEntry();
    if (this.stopped) throw new FaasConfigError(`endpoint ${this.opts.name} was stopped before it started`);
    this.pool = new WorkerPool(
      {
        size: this.opts.workers,
        ...(this.opts.blocks ? { blocks: this.opts.blocks } : {}),
        concurrency: this.opts.concurrency ?? 1,
        endpointName: this.opts.name,
        maxResultBytes: () => this.maxResultBytes,
        log: this.log,
        ...(this.opts.maxTaskSeconds ? { maxTaskMs: Math.round(this.opts.maxTaskSeconds * 1000) } : {}),
        env: {
          ...(this.opts.allowedBundles ? { [ALLOWED_BUNDLES_ENV]: this.opts.allowedBundles.join(',') } : {}),
          ...(this.opts.stageoutAllow ? { [STAGEOUT_ALLOW_ENV]: this.opts.stageoutAllow.join(',') } : {}),
        },
      },
      {
        started: (id, at) => this.onStarted(id, at),
        done: (r) => this.onDone(r),
        lost: (id, reason, at) => this.onLost(id, reason, at),
        released: (id) => {
          this.released.push(id);
          this.scheduleFlush();
        },
      },
    );
    const p = new Promise<string>((resolve, reject) => (this.firstAttach = { resolve, reject }));
    // Attach once the workers are up: tasks sent earlier would all land on the first worker to start.
    // A pool that cannot start (blocks: the worker listener's port is taken) fails start() with its reason.
    void this.pool.whenReady().then(
      () => this.connect(),
      (e: unknown) => {
        this.firstAttach?.reject(e instanceof Error ? e : new Error(String(e)));
        void this.stop();
      },
    );
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.startedTimer);
    clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
    await this.pool?.close();
  }

  // ---------------------------------------------------------------- connection

  private connect(): void {
    if (this.stopped) return;
    const url = this.opts.serviceUrl.replace(/^http/, 'ws').replace(/\/$/, '') + ROUTES.agent;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.opts.token}` },
      perMessageDeflate: false,
      maxPayload: AGENT_MAX_MESSAGE_BYTES,
    });
    this.ws = ws;
    ws.on('open', () => {
      const hello: AgentHello = {
        type: 'hello',
        name: this.opts.name,
        capacity: this.startedPool().capacity,
        prefetch: (this.advertisedPrefetch = this.prefetch()),
        // The service refuses more; a function left out is sent again with its next task.
        cached_hashes: this.cache.recent(MAX_CACHED_HASHES),
        holding: [...this.held.keys()],
        ...(this.opts.allowedFunctions ? { allowed_functions: this.opts.allowedFunctions } : {}),
        ...(this.opts.sharing ? { sharing: this.opts.sharing } : {}),
        agent_version: PROTOCOL_VERSION,
        hostname: hostname(),
        pid: process.pid,
        instance: this.instance,
        ...(this.opts.tags?.length ? { tags: this.opts.tags } : {}),
        ...(this.opts.localPaths?.length ? { local_paths: this.opts.localPaths } : {}),
      };
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data, isBinary) => {
      try {
        if (isBinary) this.onTasks(data as Buffer);
        else this.onText(checkServiceText(String(data)));
      } catch (e) {
        this.log(`bad message from service: ${(e as Error).message}`);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      // The upgrade was refused; 401 will not fix itself, anything else may (service restarting).
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401)
        return this.fatal(
          new FaasConfigError(
            'the service rejected the endpoint token (401)',
            { service: this.opts.serviceUrl },
            'check RISTRETTO_TOKEN or --token-file',
          ),
        );
      this.log(`service refused the connection (HTTP ${status}); retrying`);
      ws.terminate();
    });
    ws.on('error', (e) => {
      if (this.backoff.failures % 10 === 0) this.log(`connection error: ${e.message}`);
    });
    ws.on('close', () => this.onClose(ws));
  }

  private onClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    if (this.attached && !this.stopped) this.log('disconnected from service; reconnecting');
    this.attached = false;
    clearInterval(this.heartbeat);
    for (const u of this.unacked.values()) u.sent = false;
    this.lost = [];
    this.started = [];
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
  }

  private fatal(e: FaasError): void {
    this.stopped = true;
    this.ws?.terminate();
    // Told once the workers are gone: a caller that exits at once leaves none behind.
    const closed = this.pool?.close() ?? Promise.resolve();
    const first = this.firstAttach;
    this.firstAttach = undefined;
    if (first) void closed.finally(() => first.reject(e));
    else if (this.opts.onFatal) this.opts.onFatal(e);
    else this.log(e.message);
  }

  private onText(msg: ServiceTextMessage): void {
    switch (msg.type) {
      case 'welcome': {
        this.attached = true;
        this.backoff.reset();
        this.endpointId = msg.endpoint_id;
        this.maxResultBytes = msg.limits.max_result_bytes;
        const hb = msg.heartbeat_ms || DEFAULT_HEARTBEAT_MS;
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.sendHeartbeat(), hb);
        // One line per attach: the caller's own announcement replaces the log line.
        if (this.opts.onAttached) this.opts.onAttached(msg.endpoint_id);
        else this.log(`attached as endpoint ${msg.endpoint_id}`);
        if (this.firstAttach) {
          this.firstAttach.resolve(msg.endpoint_id);
          this.firstAttach = undefined;
        }
        this.scheduleFlush();
        return;
      }
      case 'ack':
        return this.acked(msg.task_ids);
      case 'cancel':
        for (const id of msg.task_ids) {
          // The pool reports the slot free (at once, or when a running task ends); a task it no longer
          // holds (finished, result not yet acknowledged) takes no slot.
          if (!this.pool?.cancel(id)) this.released.push(id);
          this.held.delete(id);
          this.unacked.delete(id);
        }
        if (this.released.length) this.scheduleFlush();
        return;
      case 'recall': {
        // Another endpoint is idle: give back tasks that would otherwise wait here for a slot.
        const back: string[] = [];
        for (const id of msg.task_ids) {
          if (back.length >= msg.max) break;
          if (this.held.has(id) && !this.unacked.has(id) && this.pool?.takeBack(id)) {
            this.held.delete(id);
            back.push(id);
          }
        }
        this.sendText({ type: 'returned', seq: msg.seq, task_ids: back });
        return;
      }
      case 'error':
        if (msg.code === 'Unauthorized')
          return this.fatal(
            new FaasConfigError(
              `service: ${msg.message}`,
              { code: msg.code },
              "the endpoint's token is revoked or unknown: ask the service admin for a new one (ristretto faas token create USER) and start the endpoint with it",
            ),
          );
        // Another live agent has this endpoint: retrying would only take it from that one (issue 14).
        if (msg.code === 'Conflict') return this.fatal(new FaasConfigError(msg.message, { code: msg.code }));
        this.log(`service error ${msg.code}: ${msg.message}`);
        return;
    }
  }

  private sendHeartbeat(): void {
    if (!this.attached || !this.pool) return;
    this.advertisedPrefetch = this.prefetch();
    this.sendText({
      type: 'heartbeat',
      capacity: this.pool.capacity,
      prefetch: this.advertisedPrefetch,
      busy: this.pool.busy(),
      queued: this.pool.queued(),
    });
  }

  private sendText(msg: AgentTextMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  // ---------------------------------------------------------------- tasks

  /** The service stored these results: forget them. */
  private acked(ids: readonly string[]): void {
    for (const id of ids) {
      this.unacked.delete(id);
      this.held.delete(id);
    }
  }

  private onTasks(data: Buffer): void {
    const { json, blobs } = decodeFrameRaw(data);
    const header: ServiceTasks = validate.serviceTasks.check(parseJson(json), 'tasks frame');
    if (header.ack) this.acked(header.ack);
    const bad = new Map<string, TaskErrorInfo>();
    for (const f of header.functions) {
      try {
        this.cache.put(f.hash, f.code);
      } catch (e) {
        bad.set(f.hash, { type: 'FunctionLoadFailed', message: (e as Error).message });
      }
    }
    const allowed = this.opts.allowedFunctions;
    for (const t of header.tasks) {
      if (this.held.has(t.task_id)) continue;
      this.held.set(t.task_id, { taskId: t.task_id, functionId: t.function_id, hash: t.hash });
      const now = Date.now();
      // Defense in depth: the service checks the allowlist at submission; the agent checks it again.
      if (allowed && allowed.length > 0 && !allowed.includes(t.function_id)) {
        this.onDone({
          task_id: t.task_id,
          ok: false,
          started_at: now,
          completed_at: now,
          error: { type: 'Forbidden', message: `endpoint ${this.opts.name} does not allow function ${t.function_id}` },
        });
        continue;
      }
      const err =
        bad.get(t.hash) ??
        (this.cache.has(t.hash)
          ? undefined
          : { type: 'FunctionLoadFailed' as const, message: `function ${t.hash} ${MODULE_MISSING}` });
      if (err) {
        this.onDone({ task_id: t.task_id, ok: false, started_at: now, completed_at: now, error: err });
        continue;
      }
      const blob = blobs[t.blob];
      if (!blob) {
        this.onDone({
          task_id: t.task_id,
          ok: false,
          started_at: now,
          completed_at: now,
          error: { type: 'SerializationError', message: `the service sent no arguments for task ${t.task_id}` },
        });
        continue;
      }
      // Copy the arguments out of the frame so the frame can be freed while tasks wait.
      const args = Uint8Array.prototype.slice.call(blob);
      this.startedPool().submit({
        task_id: t.task_id,
        hash: t.hash,
        path: this.cache.path(t.hash),
        args,
        attempt: t.attempt,
        timeout_ms: t.timeout_ms,
        ...(t.group ? { group: t.group } : {}),
        owner: ownerOfGroup(t.group),
      });
    }
  }

  private onStarted(taskId: string, at: number): void {
    if (!this.held.has(taskId)) return;
    this.startedQueue.push({ id: taskId, at });
    this.startedTimer ??= setTimeout(() => this.noticeStarted(), this.noticeDelay());
  }

  /**
   * Drop finished tasks from the front of the notice queue and re-arm the timer for the first one still
   * running (or stop it). Most tasks end before their notice is due: without this the timer would still
   * wake the agent once per task, to find nothing to report.
   */
  private dropFinishedNotices(): void {
    const q = this.startedQueue;
    let i = 0;
    while (i < q.length && (!this.held.has(q[i].id) || this.unacked.has(q[i].id))) i++;
    if (i === 0) return;
    this.startedQueue = i === q.length ? [] : q.slice(i);
    clearTimeout(this.startedTimer);
    this.startedTimer = undefined;
    if (this.startedQueue.length === 0) return;
    const due = this.startedQueue[0].at + this.noticeDelay() - Date.now();
    this.startedTimer = setTimeout(() => this.noticeStarted(), Math.max(0, due));
  }

  /** How long a task runs before its "started" notice (see noticeDelayMs in ../scheduling.ts). */
  private noticeDelay(): number {
    return noticeDelayMs(this.pool?.averageTaskMs);
  }

  /** Report tasks that are still running noticeDelay() after they started. */
  private noticeStarted(): void {
    this.startedTimer = undefined;
    const q = this.startedQueue;
    const cutoff = Date.now() - this.noticeDelay();
    let i = 0;
    for (; i < q.length && q[i].at <= cutoff; i++) {
      const id = q[i].id;
      if (this.held.has(id) && !this.unacked.has(id)) this.started.push(q[i]);
    }
    this.startedQueue = i === q.length ? [] : q.slice(i);
    if (this.startedQueue.length)
      this.startedTimer = setTimeout(() => this.noticeStarted(), this.startedQueue[0].at - cutoff);
    if (this.started.length) this.scheduleFlush();
  }

  private onDone(r: WorkerDone): void {
    const held = this.held.get(r.task_id);
    if (!held) return;
    // A worker found the cached module changed (a task rewrote it): put it back for the next tasks.
    if (r.error?.type === 'FunctionLoadFailed' && r.error.message.includes(MISMATCH))
      this.log(`function module ${held.hash} was changed on disk: ${this.cache.repair(held.hash)}`);
    const entry: ResultEntry = { task_id: r.task_id, ok: r.ok, started_at: r.started_at, completed_at: r.completed_at };
    if (r.error) entry.error = r.error;
    this.unacked.set(r.task_id, { entry, blob: r.ok ? r.result : undefined, sent: false });
    this.dropFinishedNotices();
    this.scheduleFlush();
  }

  private onLost(taskId: string, reason: string, startedAt: number): void {
    if (!this.held.delete(taskId)) return;
    this.lost.push({ task_id: taskId, reason, started_at: startedAt });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flusher.schedule();
  }

  /** Tasks the service may send beyond the capacity: --prefetch, else prefetchFor in ../scheduling.ts. */
  private prefetch(): number {
    if (this.opts.prefetch !== undefined) return this.opts.prefetch;
    const pool = this.startedPool();
    return prefetchFor(pool.capacity, pool.averageTaskMs);
  }

  /** The worker pool; start() makes it before anything connects or runs. */
  private startedPool(): WorkerPool {
    return this.pool ?? brokenInvariant('the agent was used before start()');
  }

  /** Send everything produced since the last flush: started notices, lost tasks, one results frame. */
  private flush(): void {
    if (!this.attached || this.ws?.readyState !== WebSocket.OPEN) return;
    const p = this.prefetch();
    if (p > 2 * this.advertisedPrefetch || p < this.advertisedPrefetch / 2) this.sendHeartbeat();
    if (this.started.length) {
      // A task that already finished needs no "running" notice: its result says when it started.
      const due = this.started.filter((t) => !this.unacked.has(t.id));
      if (due.length)
        this.sendText({ type: 'started', task_ids: due.map((t) => t.id), started_at: due.map((t) => t.at) });
      this.started = [];
    }
    if (this.lost.length) {
      this.sendText({ type: 'lost', tasks: this.lost });
      this.lost = [];
    }
    if (this.released.length) {
      this.sendText({ type: 'released', task_ids: this.released });
      this.released = [];
    }
    const header: AgentResults = { type: 'results', results: [] };
    const blobs: Uint8Array[] = [];
    let bytes = 0;
    for (const u of this.unacked.values()) {
      if (u.sent) continue;
      u.sent = true;
      const e = { ...u.entry };
      if (u.blob) {
        e.blob = blobs.length;
        blobs.push(u.blob);
        bytes += u.blob.byteLength;
      }
      header.results.push(e);
      // Keep frames moderate so one huge batch does not delay everything behind it.
      if (bytes > 8 * 1024 * 1024) {
        this.ws.send(encodeFrame(header, blobs));
        header.results = [];
        blobs.length = 0;
        bytes = 0;
      }
    }
    if (header.results.length) this.ws.send(encodeFrame(header, blobs));
  }

  /** The endpoint id once attached. */
  get id(): string | undefined {
    return this.endpointId;
  }
}

/**
 * The user who submitted a task, from its fair-share group: the service makes every group the
 * submitter's user id, or that id, "/" and the group the client named (groupOf in
 * ../service/routes.ts), so a client cannot pass for another user. The pool runs each user's tasks in
 * workers of their own (pool.ts). Tasks stored before groups existed have none: one owner, "".
 */
export function ownerOfGroup(group: string | undefined): string {
  if (!group) return '';
  const slash = group.indexOf('/');
  return slash < 0 ? group : group.slice(0, slash);
}

/** Parse and check a text message from the service (an unexpected one is logged and ignored). */
function checkServiceText(text: string): ServiceTextMessage {
  const raw = parseJson(text);
  const v = byType(serviceText, raw);
  if (!v)
    throw new FaasProtocolError(
      `unknown message type ${JSON.stringify((raw as { type?: unknown })?.type ?? null).slice(0, 100)}`,
    );
  return v.check(raw, `service "${(raw as { type: string }).type}" message`) as ServiceTextMessage;
}
