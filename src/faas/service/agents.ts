/**
 * The service side of endpoint agents (`/v1/agent`): attach/re-attach by name, dispatch with flow
 * control (at most capacity + prefetch tasks in flight per endpoint), store results once, re-queue
 * tasks lost with a worker or an endpoint, heartbeats.
 *
 * The placement rules' constants (recall patience and window) are in ../scheduling.ts with the rest
 * of the scheduling policy.
 *
 * Dispatch and outgoing frames are coalesced per event-loop turn, so a burst of submissions or results
 * turns into a few large frames, while a lone task is still sent at once.
 */
import type { WebSocket } from 'ws';
import { CodecError, checkPacked, decodeFrameRaw, encodeFrame } from '../codec.ts';
import { DISPATCH_FRAME_BYTES, agentText, byType, validate } from '../protocol-schemas.ts';
import { type CachedFunction, FunctionCache } from './function-cache.ts';
import { Coalescer } from '../coalesce.ts';
import {
  type AgentHello,
  type AgentLost,
  type AgentResults,
  type AgentReturned,
  type AgentStarted,
  type AgentTextMessage,
  type DispatchEntry,
  type Limits,
  type ServiceTasks,
  type ServiceTextMessage,
  type TaskErrorInfo,
  TERMINAL_STATES,
} from '../protocol.ts';
import { REATTACH_GRACE_HEARTBEATS, RECALL_PATIENCE_MS, TAIL_TICK_MS, recallWindow } from '../scheduling.ts';
import { checkEndpointRegistration, resolveSharing } from './access.ts';
import type { ClaimedTask, Completion, Store, UserRow } from './db.ts';
import { ApiError, parseUntrusted, toApiError } from './http.ts';
import type { Metrics } from './metrics.ts';
import type { Outcome } from './streams.ts';
import { TailScheduler } from './scheduler.ts';
import { internalError } from '../../errors/index.ts';

/** Most tasks per dispatch frame. */
const MAX_DISPATCH = 2000;
/**
 * Results are acknowledged at most this long after they arrive: with the next tasks sent to that agent
 * (a chunk stream sends one soon after each result), else in an ack message of their own.
 */
const ACK_DELAY_MS = 50;
/**
 * An agent heard from within this many heartbeats is alive: another agent process asking for its
 * endpoint is refused. Below the sweep's 3, so a restart replaces a dead connection before the sweep.
 */
const LIVE_HEARTBEATS = 2;
/** Do not queue more dispatch frames while this many bytes are still unsent on the socket. */
const MAX_BUFFERED = 16 * 1024 * 1024;
/**
 * Open `/v1/agent` sockets per user, attached or not. Each may hold a frame of up to the service's
 * WebSocket payload limit while it arrives, so this bounds what one user's sockets can pin in memory
 * (issue 14: 40 half-sent 60 MiB frames took the service to 2.5 GB). A user attaches one socket per
 * endpoint name; a site with more endpoints under one user raises it.
 */
export const MAX_AGENT_SOCKETS_PER_USER = 16;
/** A new agent socket has this long (or 3 heartbeats, if longer) to send its hello. */
const HELLO_WAIT_MS = 10_000;

/** A "recall" sent to an agent: up to `max` of its unstarted tasks, for `target`'s idle slots. */
interface Recall {
  seq: number;
  target: AgentConn;
  ids: string[];
  max: number;
  at: number;
}

/** Where the hub reports task progress (the client result streams). */
export interface OutcomeSink {
  /** Tasks finished. */
  publish(outcomes: Outcome[]): void;
  /** Tasks an endpoint reports running. */
  publishRunning(taskIds: string[], endpointId: string): void;
}

export interface HubOptions {
  heartbeatMs: number;
  limits: Limits;
  log: (msg: string) => void;
}

class AgentConn {
  endpointId = '';
  name = '';
  capacity = 0;
  prefetch = 0;
  busy = 0;
  /** Task id → attempt number, for tasks dispatched to this connection and not finished. */
  readonly inflight = new Map<string, number>();
  /** Function hashes this agent has (reported cached or sent on this connection). */
  readonly hashes = new Set<string>();
  lastSeen = Date.now();
  /** AgentHub.stalledMs when lastSeen was set: the service's own stalls since then are not this agent's silence. */
  stalledAtSeen = 0;
  attached = false;
  /** Who runs this agent, from its hello: named when a second agent asks for the same endpoint. */
  hostname = '';
  pid: number | undefined;
  /** The agent process's id for itself: a reconnect of the same agent replaces its old connection. */
  instance: string | undefined;
  /** When this connection attached. */
  since = 0;
  /**
   * No task of this endpoint waits in the database (the last claim came back short and nothing was
   * queued since): new tasks may then go straight to the agent without a claim, keeping FIFO order.
   */
  queueEmpty = false;
  /** Fair-share group that got the last claimed task: the next claim starts with the group after it. */
  lastGroup: string | undefined;
  /** The recall sent to this agent and not yet answered. */
  recall: Recall | undefined;
  /** Tasks this agent kept when recalled (started or handed to a worker): never asked for again. */
  readonly kept = new Set<string>();
  /** Idle slots of this endpoint that recalls sent on its behalf may fill. */
  expecting = 0;
  /** Hub dispatch count when this endpoint last found nothing to recall: look again only after new dispatches. */
  recallLook = -1;
  /** Result ids to acknowledge; acks are not urgent and leave together, off the result path. */
  acks: string[] = [];
  ackTimer: NodeJS.Timeout | undefined;
  constructor(
    readonly ws: WebSocket,
    readonly user: UserRow & { token_id: string },
  ) {}
  send(msg: ServiceTextMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}

export class AgentHub {
  private readonly conns = new Map<string, AgentConn>();
  /** Every open agent socket, attached or still before its hello (see MAX_AGENT_SOCKETS_PER_USER). */
  private readonly sockets = new Set<AgentConn>();
  private readonly pending = new Set<string>();
  private readonly dispatcher = new Coalescer(() => this.dispatchPending());
  private readonly fnCache = new FunctionCache();
  private readonly timer: NodeJS.Timeout;
  /**
   * Waiting tasks with alternates (late binding), an upper bound: kept from submissions and claims,
   * recounted whenever a look for such tasks comes back short. At 0 nobody looks.
   */
  private movableWaiting: number;
  /** Dispatch frames sent: held tasks change only with new dispatches (see AgentConn.recallLook). */
  private dispatches = 0;
  private recalls = 0;
  /**
   * Milliseconds the service's event loop was blocked (how late the sweep timer fired, summed), and
   * when the sweep last ran. Heartbeats that arrive during a stall wait in the sockets until it ends,
   * while the sweep's timer runs before they are read: see sweep().
   */
  private stalledMs = 0;
  private lastSweep = Date.now();
  /**
   * Endpoints that had tasks in flight when the service started and whose agents have not re-attached
   * yet; until they do, or the grace window ends, no other endpoint takes their tasks: the agent may
   * still be running them, and would otherwise come back to find them started again elsewhere.
   */
  private readonly away: Set<string>;
  /** Tail copies: which straggler gets a copy where (see scheduler.ts). */
  readonly tails: TailScheduler;
  private readonly tailTimer: NodeJS.Timeout;
  private readonly graceTimer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly sink: OutcomeSink,
    private readonly opts: HubOptions,
  ) {
    this.movableWaiting = store.countMovableWaiting();
    this.away = new Set(store.inFlightAtOpen);
    this.timer = setInterval(() => this.sweep(), opts.heartbeatMs);
    this.timer.unref();
    this.tails = new TailScheduler(store, {
      idleSlots: (id) => this.idleSlots(id),
      sendCopy: (id, t) => this.sendCopy(id, t),
    });
    this.tailTimer = setInterval(() => {
      if (this.tails.size === 0) return;
      // Outside any message handler: a failure must not reach the event loop (and end the service).
      try {
        this.tails.tick(Date.now());
      } catch (e) {
        this.opts.log(`tail copies: ${(e as Error)?.stack ?? e}`);
      }
    }, TAIL_TICK_MS);
    this.tailTimer.unref();
    // Copies restored from the database wait for their agents to re-attach; past the grace window
    // those of agents still away are lost, so their tasks may be copied again (or rerun).
    const graceMs = REATTACH_GRACE_HEARTBEATS * opts.heartbeatMs;
    this.graceTimer = setTimeout(() => {
      try {
        // The tasks of agents still away may now run on their alternates.
        if (this.away.size) {
          this.away.clear();
          this.movable(this.conns.keys(), 0);
        }
        const gone = this.tails.expireRestored((id) => this.conns.has(id));
        const reason = `endpoint did not re-attach within ${graceMs / 1000} s of a service restart`;
        for (const id of this.store.dropCopies(gone, reason)) this.tails.lost(id);
        if (gone.length) this.opts.log(`tail copies: ${gone.length} lost (${reason})`);
      } catch (e) {
        this.opts.log(`tail copies: ${(e as Error)?.stack ?? e}`);
      }
    }, graceMs);
    this.graceTimer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    clearInterval(this.tailTimer);
    clearTimeout(this.graceTimer);
    for (const c of this.sockets) c.ws.terminate();
    // Their 'close' events may come after the store is closed: detach() then finds nothing to do.
    this.conns.clear();
    this.sockets.clear();
  }

  /** Live numbers of an endpoint, undefined when it is not connected. */
  live(endpointId: string): { online: boolean; busy: number; in_flight: number } | undefined {
    const c = this.conns.get(endpointId);
    return c ? { online: true, busy: c.busy, in_flight: c.inflight.size } : undefined;
  }

  onlineCount(): number {
    return this.conns.size;
  }

  /**
   * How many new tasks may skip the queue and go straight to this endpoint: its free slots when it is
   * connected and nothing of it waits in the queue, else 0. Such tasks are stored as dispatched and
   * handed to `sendDirect`, which saves a claim statement and a turn on every lone task.
   */
  directSlots(endpointId: string): number {
    const conn = this.conns.get(endpointId);
    if (!conn || !conn.queueEmpty || conn.ws.bufferedAmount > MAX_BUFFERED) return 0;
    return Math.max(0, Math.min(MAX_DISPATCH, conn.capacity + conn.prefetch - conn.inflight.size));
  }

  /** Send tasks stored as dispatched (see directSlots). */
  sendDirect(endpointId: string, tasks: ClaimedTask[]): void {
    const conn = this.conns.get(endpointId);
    // Gone since directSlots (cannot happen within one turn, but never lose tasks): queue them again.
    if (!conn)
      return this.requeue(
        endpointId,
        tasks.map((t) => ({
          task_id: t.id,
          reason: 'endpoint disconnected before dispatch',
          type: 'EndpointLost' as const,
        })),
      );
    this.send(conn, tasks);
  }

  /** A tail copy stored as dispatched: to the agent, or (endpoint gone meanwhile) dropped as lost. */
  private sendCopy(endpointId: string, task: ClaimedTask): boolean {
    const conn = this.conns.get(endpointId);
    if (!conn) {
      this.requeue(endpointId, [
        { task_id: task.id, reason: 'endpoint disconnected before dispatch', type: 'EndpointLost' },
      ]);
      return false;
    }
    this.metrics.tailCopies++;
    this.send(conn, [task]);
    return true;
  }

  /** Free worker slots of a connected endpoint with nothing of its own waiting (late binding), else 0. */
  idleSlots(endpointId: string): number {
    const conn = this.conns.get(endpointId);
    if (!conn || !conn.queueEmpty || conn.ws.bufferedAmount > MAX_BUFFERED) return 0;
    return Math.max(0, Math.min(MAX_DISPATCH, conn.capacity - conn.inflight.size));
  }

  /** `count` tasks that these endpoints may take were queued elsewhere: let them look when they have room. */
  movable(endpointIds: Iterable<string>, count: number): void {
    this.movableWaiting += count;
    for (const id of endpointIds) this.kick(id);
  }

  /** Tasks of this endpoint were queued: direct dispatch must wait until the queue drains. */
  queued(endpointId: string): void {
    const conn = this.conns.get(endpointId);
    if (conn) conn.queueEmpty = false;
    this.kick(endpointId);
  }

  /** New work may be waiting for this endpoint: dispatch in the next turn. */
  kick(endpointId: string): void {
    if (!this.conns.has(endpointId)) return;
    this.pending.add(endpointId);
    this.dispatcher.schedule();
  }

  /** Tell agents to drop cancelled tasks and free their slots. */
  cancelled(rows: { id: string; endpoint_id: string }[]): void {
    const byEndpoint = new Map<string, string[]>();
    for (const r of rows) {
      const c = this.conns.get(r.endpoint_id);
      if (!c || !c.inflight.has(r.id)) continue;
      // A running task may run on after its cancel (a worker with other tasks keeps going): its slot
      // stays taken until the agent says "released", or new work would queue behind it there.
      let list = byEndpoint.get(r.endpoint_id);
      if (!list) byEndpoint.set(r.endpoint_id, (list = []));
      list.push(r.id);
    }
    for (const [endpointId, ids] of byEndpoint) {
      this.conns.get(endpointId)?.send({ type: 'cancel', task_ids: ids }); // connected: checked above, same turn
      this.kick(endpointId);
    }
  }

  // ---------------------------------------------------------------- connection lifecycle

  attach(ws: WebSocket, user: UserRow & { token_id: string }): void {
    this.metrics.agentConnects++;
    const conn = new AgentConn(ws, user);
    conn.stalledAtSeen = this.stalledMs;
    // First, also for a socket refused below: the ws library emits 'error' for a bad frame even while
    // closing, and an 'error' with no listener would end the service.
    ws.on('error', () => {});
    let open = 0;
    for (const c of this.sockets) if (c.user.id === user.id) open++;
    if (open >= MAX_AGENT_SOCKETS_PER_USER) {
      const message = `user ${user.name} already has ${open} endpoint agent connections open (at most ${MAX_AGENT_SOCKETS_PER_USER}): stop an agent first`;
      ws.send(
        JSON.stringify({ type: 'error', code: 'Forbidden', message, details: { limit: MAX_AGENT_SOCKETS_PER_USER } }),
      );
      ws.close(1008, 'Forbidden');
      return;
    }
    this.sockets.add(conn);
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      conn.stalledAtSeen = this.stalledMs;
      try {
        // No transaction around the whole message (unlike client messages, streams.ts): each makes
        // one store call that writes, its own transaction, and a wrapper only added statements
        // (measured: bench/RESULTS.md, Session 11).
        if (isBinary) this.onBinary(conn, data as Buffer);
        else this.onText(conn, checkAgentText(String(data)));
      } catch (e) {
        // A broken message ends this agent's session only (its tasks are re-queued), never the service.
        const err = toApiError(e);
        this.opts.log(
          `agent ${conn.name || '(before hello)'}: ${err.code === 'InternalError' ? ((e as Error)?.stack ?? e) : err.message}`,
        );
        conn.send({ type: 'error', code: err.code, message: err.message });
        ws.close(1008, err.code);
      }
    });
    ws.on('close', () => {
      this.sockets.delete(conn);
      this.detach(conn);
    });
  }

  private onText(conn: AgentConn, msg: AgentTextMessage): void {
    if (msg.type === 'hello') return this.hello(conn, msg);
    if (!conn.attached) throw new ApiError('BadRequest', `expected "hello" as the first message, got "${msg.type}"`);
    switch (msg.type) {
      case 'heartbeat':
        conn.busy = msg.busy;
        conn.capacity = msg.capacity;
        conn.prefetch = msg.prefetch;
        this.kick(conn.endpointId);
        this.store.heartbeat(conn.endpointId, msg.capacity);
        return;
      case 'started':
        return this.started(conn, msg);
      case 'lost':
        return this.lost(conn, msg);
      case 'released':
        for (const id of msg.task_ids) conn.inflight.delete(id);
        this.kick(conn.endpointId);
        return;
      case 'returned':
        return this.returned(conn, msg);
      default:
        throw new ApiError('BadRequest', `unknown agent message type "${(msg as { type: string }).type}"`);
    }
  }

  private hello(conn: AgentConn, msg: AgentHello): void {
    if (conn.attached) throw new ApiError('BadRequest', 'duplicate hello');
    const { capacity, prefetch } = msg;
    const sharing = resolveSharing(this.store, msg.sharing);
    const allowed = msg.allowed_functions;
    checkEndpointRegistration(this.store, conn.user, msg.name, allowed);
    this.refuseTwin(conn, msg);
    const row = this.store.upsertEndpoint(conn.user.id, msg.name, allowed, sharing);

    const old = this.conns.get(row.id);
    if (old) {
      // The same endpoint connected again before its old connection was noticed dead.
      this.conns.delete(row.id);
      old.attached = false;
      this.forgetRecall(old);
      old.ws.terminate();
    }
    conn.endpointId = row.id;
    conn.name = row.name;
    conn.hostname = msg.hostname;
    conn.pid = msg.pid;
    conn.instance = msg.instance;
    conn.since = Date.now();
    conn.capacity = capacity;
    conn.prefetch = prefetch;
    conn.attached = true;
    for (const h of msg.cached_hashes) conn.hashes.add(h);
    this.conns.set(row.id, conn);

    // Reconcile: what the agent still holds stays in flight; whatever else was in flight there is lost.
    const holding = new Set(msg.holding);
    const lostIds = this.store.activeTasks(row.id).filter((id) => !holding.has(id));
    this.requeue(
      row.id,
      lostIds.map((id) => ({
        task_id: id,
        reason: 'endpoint reconnected without the task',
        type: 'EndpointLost' as const,
      })),
    );
    this.store.reclaim(row.id, [...holding]);
    const drop: string[] = [];
    const now = Date.now();
    for (const id of holding) {
      const t = this.store.task(id);
      if (t && t.endpoint_id === row.id && !TERMINAL_STATES.has(t.state)) {
        conn.inflight.set(id, t.attempts);
        // In flight again: a straggler held here may be copied (it was forgotten as lost or, after a
        // restart, never dispatched in this process). Its clock starts now, not at its first dispatch.
        this.tails.dispatched(id, row.id, now);
        if (t.state === 'running') this.tails.started(id, now);
      } else drop.push(id);
    }
    this.store.setEndpointOnline(row.id, capacity, prefetch);
    // Tags describe the agent as it runs now: a hello without them clears the old ones.
    this.store.setEndpointCapabilities(row.id, [...new Set(msg.tags ?? [])], [...new Set(msg.local_paths ?? [])]);
    conn.send({
      type: 'welcome',
      endpoint_id: row.id,
      name: row.name,
      heartbeat_ms: this.opts.heartbeatMs,
      limits: this.opts.limits,
    });
    if (drop.length) conn.send({ type: 'cancel', task_ids: drop });
    this.opts.log(
      `endpoint ${row.name} (${row.id}) online: capacity ${capacity}, prefetch ${prefetch}, holding ${conn.inflight.size}`,
    );
    this.kick(row.id);
    // Back after a restart: what it did not reclaim waits in the queue and may now move to alternates.
    if (this.away.delete(row.id)) this.movable(this.conns.keys(), 0);
  }

  /**
   * A second agent process for an endpoint that is attached and alive is refused (Conflict): two
   * agents with one name took the endpoint from each other on every reconnect, ~150 times in 20 s,
   * and their tasks were lost over and over (issue 14). The same agent coming back (its `instance`)
   * replaces its old connection, and so does any agent when the old connection has been silent for
   * LIVE_HEARTBEATS heartbeats (a restart after the old process or its network died unnoticed).
   */
  private refuseTwin(conn: AgentConn, msg: AgentHello): void {
    for (const old of this.conns.values()) {
      if (old.user.id !== conn.user.id || old.name !== msg.name) continue;
      if (msg.instance !== undefined && old.instance === msg.instance) return;
      if (this.silentMs(old, Date.now()) >= LIVE_HEARTBEATS * this.opts.heartbeatMs) return;
      const who = `${old.hostname || 'an unknown host'}${old.pid !== undefined ? ` pid ${old.pid}` : ''}`;
      throw new ApiError(
        'Conflict',
        `endpoint ${msg.name} is already attached from ${who} since ${new Date(old.since).toISOString()}; stop it first or use another --name`,
      );
    }
  }

  /** How long an agent has said nothing, not counting the service's own stalls since (see sweep). */
  private silentMs(c: AgentConn, now: number): number {
    return now - c.lastSeen - (this.stalledMs - c.stalledAtSeen);
  }

  private detach(conn: AgentConn): void {
    if (!conn.attached || this.conns.get(conn.endpointId) !== conn) return;
    conn.attached = false;
    clearTimeout(conn.ackTimer);
    this.conns.delete(conn.endpointId);
    this.forgetRecall(conn);
    this.store.setEndpointOffline(conn.endpointId);
    const lost = [...conn.inflight.keys()].map((id) => ({
      task_id: id,
      reason: 'endpoint disconnected',
      type: 'EndpointLost' as const,
    }));
    this.requeue(conn.endpointId, lost);
    // Its waiting tasks that have alternates can run elsewhere now.
    this.movable(this.conns.keys(), 0);
    this.opts.log(`endpoint ${conn.name} (${conn.endpointId}) offline; ${lost.length} task(s) re-queued or failed`);
  }

  /**
   * Drop dead connections (no message for 3 heartbeats) and sessions whose token was revoked. Time the
   * service itself was stalled (one heavy message of another user, a long GC) does not count as an
   * agent's silence: its heartbeats were waiting in the socket, unread, and dropping it then failed
   * other users' running tasks with EndpointLost (issue 14).
   */
  private sweep(): void {
    const now = Date.now();
    this.stalledMs += Math.max(0, now - this.lastSweep - this.opts.heartbeatMs);
    this.lastSweep = now;
    for (const c of this.sockets) {
      // Before its hello a socket is nobody's endpoint: one that has not said it within the
      // heartbeat window (a half-sent frame, an idle probe) is closed, not kept open for good.
      if (!c.attached && this.silentMs(c, now) > Math.max(3 * this.opts.heartbeatMs, HELLO_WAIT_MS)) {
        this.opts.log(`agent connection of user ${c.user.name}: no hello, closing`);
        c.ws.terminate();
        this.sockets.delete(c);
      }
    }
    for (const c of this.conns.values()) {
      const silent = this.silentMs(c, now);
      if (silent > 3 * this.opts.heartbeatMs) {
        this.opts.log(`endpoint ${c.name}: no heartbeat for ${silent} ms, closing`);
        c.ws.terminate();
        this.detach(c);
      } else if (!this.store.tokenActive(c.user.token_id)) {
        c.send({ type: 'error', code: 'Unauthorized', message: 'token revoked' });
        c.ws.close(1008, 'Unauthorized');
        this.detach(c);
      }
    }
  }

  // ---------------------------------------------------------------- tasks

  private dispatchPending(): void {
    // Most kicks (one per result frame) find nothing waiting: no transaction for those.
    let claims = this.movableWaiting > 0;
    for (const id of this.pending) if (this.conns.get(id)?.queueEmpty === false) claims = true;
    if (!claims) return this.dispatchAll();
    try {
      this.store.atomically(() => this.dispatchAll());
    } catch (e) {
      // The commit itself failed (each endpoint's own failure is caught in dispatchAll): the claims
      // are undone, tasks sent meanwhile may run twice (the first result wins); the next kick retries.
      this.opts.log(`dispatch failed: ${(e as Error)?.stack ?? e}`);
    }
  }

  private dispatchAll(): void {
    const ids = [...this.pending];
    this.pending.clear();
    for (const id of ids) {
      // Runs outside any message handler: a failure here must not reach the event loop (and end the
      // service); the endpoint is kicked again by its next result or heartbeat.
      try {
        this.dispatch(id);
      } catch (e) {
        this.opts.log(`dispatch to endpoint ${id} failed: ${(e as Error)?.stack ?? e}`);
      }
    }
  }

  private dispatch(endpointId: string): void {
    const conn = this.conns.get(endpointId);
    if (!conn) return;
    if (conn.ws.bufferedAmount > MAX_BUFFERED) {
      setTimeout(() => this.kick(endpointId), 5).unref();
      return;
    }
    const free = conn.capacity + conn.prefetch - conn.inflight.size;
    if (free <= 0) return;
    // Nothing waits: skip the claim statement (a write transaction even when it matches no row).
    if (!conn.queueEmpty) {
      const slots = Math.min(free, MAX_DISPATCH);
      // A claim holds its tasks' arguments at once: take what fits in one frame, then the rest in later
      // turns, paced by the socket (MAX_BUFFERED above).
      const want = this.store.claimableWithin(endpointId, slots, DISPATCH_FRAME_BYTES);
      const claimed = want > 0 ? this.store.claimWaiting(endpointId, want, conn.lastGroup) : [];
      conn.queueEmpty = claimed.length < want || want === 0;
      if (claimed.length > 0) {
        for (const t of claimed) if (t.movable) this.movableWaiting--;
        conn.lastGroup = claimed[claimed.length - 1].grp;
        this.send(conn, claimed);
      }
      if (!conn.queueEmpty && claimed.length === want) return this.kick(endpointId);
    }
    // Own queue drained: take tasks waiting for busier (or offline) endpoints that allow this one —
    // into idle worker slots only, so a task moves only where it starts at once.
    const idle = Math.min(conn.capacity - conn.inflight.size, MAX_DISPATCH);
    if (idle <= 0) return;
    if (this.movableWaiting > 0) {
      const fits = this.store.stealableWithin(endpointId, idle, DISPATCH_FRAME_BYTES, this.away);
      const taken = fits > 0 ? this.store.stealWaiting(endpointId, fits, this.away) : [];
      this.movableWaiting =
        taken.length < fits || fits === 0 ? this.store.countMovableWaiting() : this.movableWaiting - taken.length;
      if (taken.length > 0) {
        this.metrics.tasksMoved += taken.length;
        this.send(conn, taken);
      }
      // Capped by bytes with slots still idle: take more in a later turn.
      if (taken.length > 0 && taken.length === fits && fits < idle) return this.kick(endpointId);
    }
    this.recallFor(conn, Math.min(conn.capacity - conn.inflight.size, MAX_DISPATCH) - conn.expecting);
  }

  /**
   * Nothing waits in the service that this endpoint may run, yet it has `n` idle slots: ask agents that
   * hold more tasks than they have slots (prefetched, queued behind running ones) to give back up to
   * `n` unstarted tasks that may run here. At the end of a run the last tasks otherwise wait a whole
   * task length at one endpoint while another idles (measured: 8 analyses × 64 chunks of 200 ms on
   * 2 × 16 slots ended ~100 ms late in about half the runs).
   */
  private recallFor(conn: AgentConn, n: number): void {
    if (n <= 0 || conn.recallLook === this.dispatches) return;
    const now = Date.now();
    let waiting = false;
    for (const h of this.conns.values()) {
      if (n <= 0) return;
      if (h === conn) continue;
      if (h.recall && now - h.recall.at < RECALL_PATIENCE_MS) {
        waiting = true;
        continue;
      }
      this.forgetRecall(h);
      const queued = h.inflight.size - h.capacity;
      if (queued <= 0) continue;
      for (const id of h.kept) if (!h.inflight.has(id)) h.kept.delete(id);
      // Newest first: an agent starts its tasks about in the order they came, so the newest still wait.
      const newest = [...h.inflight.keys()].slice(-Math.min(h.inflight.size, recallWindow(queued))).reverse();
      const ids = this.store.recallable(
        h.endpointId,
        conn.endpointId,
        newest.filter((id) => !h.kept.has(id)),
      );
      if (ids.length === 0) continue;
      const max = Math.min(n, queued, ids.length);
      const seq = ++this.recalls;
      h.recall = { seq, target: conn, ids, max, at: now };
      conn.expecting += max;
      n -= max;
      waiting = true;
      h.send({ type: 'recall', seq, task_ids: ids, max });
      this.metrics.recalls++;
    }
    if (!waiting) conn.recallLook = this.dispatches;
  }

  /** The recall sent to `h` is answered or written off: its target stops counting on it. */
  private forgetRecall(h: AgentConn): void {
    const r = h.recall;
    if (!r) return;
    h.recall = undefined;
    r.target.expecting = Math.max(0, r.target.expecting - r.max);
  }

  /** An agent gave back recalled tasks: dispatch them to the endpoint they were recalled for. */
  private returned(h: AgentConn, msg: AgentReturned): void {
    // A late answer to a recall already written off is not the answer to the current one.
    const recall = h.recall && h.recall.seq === msg.seq ? h.recall : undefined;
    if (recall) this.forgetRecall(h);
    const ids: string[] = [];
    for (const id of msg.task_ids) if (h.inflight.delete(id)) ids.push(id);
    // Fewer than asked: the agent went through every id, and those it kept have started (or sit in a
    // worker's own queue) — asking for them again would only repeat the round trip.
    if (recall && ids.length < recall.max) for (const id of recall.ids) if (h.inflight.has(id)) h.kept.add(id);
    const target = recall && this.conns.get(recall.target.endpointId) === recall.target ? recall.target : undefined;
    let left = ids;
    if (target && ids.length > 0) {
      const moved = this.store.handOver(h.endpointId, target.endpointId, ids);
      this.metrics.tasksHandedOver += moved.length;
      if (moved.length) this.send(target, moved);
      const sent = new Set(moved.map((t) => t.id));
      left = ids.filter((id) => !sent.has(id));
    }
    // Nowhere to go (the endpoint that asked is gone, or the answer came late): waiting again, no
    // attempt used; any endpoint they may run on can take them.
    const back = this.store.unhold(h.endpointId, left);
    if (back.length) {
      h.queueEmpty = false;
      this.movable(
        [...this.conns.keys()].filter((id) => id !== h.endpointId),
        back.length,
      );
    }
    this.kick(h.endpointId);
    if (target) this.kick(target.endpointId);
  }

  /**
   * Send tasks to an agent, in frames of at most DISPATCH_FRAME_BYTES of arguments and of the code of
   * functions the agent lacks (a frame holds at least one task, whatever its size). A claim is bounded
   * by its arguments only: once a frame leaves more than MAX_BUFFERED in the socket, the tasks not
   * sent wait again (no attempt used) until the agent has read it — 24 functions of 8 MiB in one claim
   * otherwise queued all their code at once (service peak RSS +450 MiB).
   */
  private send(conn: AgentConn, claimed: ClaimedTask[]): void {
    let header: ServiceTasks = { type: 'tasks', tasks: [], functions: [] };
    let blobs: Uint8Array[] = [];
    let bytes = 0;
    const sendFrame = () => {
      // Acks due ride along (the results are stored already): no separate message to wake the agent.
      if (conn.acks.length) {
        header.ack = conn.acks;
        conn.acks = [];
        clearTimeout(conn.ackTimer);
        conn.ackTimer = undefined;
      }
      conn.ws.send(encodeFrame(header, blobs));
    };
    const now = Date.now();
    let sent = 0;
    for (const t of claimed) {
      const fn = this.fn(t.function_id);
      // Code goes with the first frame that needs it; frames arrive in order. It counts like arguments,
      // as the frame holds it: 20 functions of 8 MiB in one frame went over the agent's message limit,
      // and the agent reconnected and got the same frame again, for ever (issue 14, probe D12).
      const code = conn.hashes.has(fn.hash) ? 0 : fn.frameBytes;
      if (header.tasks.length > 0 && bytes + t.args.byteLength + code > DISPATCH_FRAME_BYTES) {
        sendFrame();
        if (conn.ws.bufferedAmount > MAX_BUFFERED) {
          this.putBack(conn, claimed.slice(sent));
          break;
        }
        header = { type: 'tasks', tasks: [], functions: [] };
        blobs = [];
        bytes = 0;
      }
      this.tails.dispatched(t.id, conn.endpointId, now);
      if (code > 0) {
        conn.hashes.add(fn.hash);
        header.functions.push({ hash: fn.hash, code: fn.code });
        bytes += code;
      }
      const entry: DispatchEntry = {
        task_id: t.id,
        function_id: t.function_id,
        hash: fn.hash,
        blob: blobs.length,
        attempt: t.attempts,
        timeout_ms: t.timeout_ms,
      };
      if (t.grp) entry.group = t.grp;
      blobs.push(t.args);
      bytes += t.args.byteLength;
      header.tasks.push(entry);
      conn.inflight.set(t.id, t.attempts);
      sent++;
    }
    this.metrics.tasksDispatched += sent;
    this.dispatches++;
    if (sent === claimed.length) sendFrame();
  }

  /** Claimed tasks that were not sent: waiting again, their attempt given back; the agent is kicked for them. */
  private putBack(conn: AgentConn, tasks: ClaimedTask[]): void {
    this.store.unhold(
      conn.endpointId,
      tasks.map((t) => t.id),
    );
    conn.queueEmpty = false;
    this.movableWaiting = this.store.countMovableWaiting();
    this.kick(conn.endpointId);
  }

  /** Characters of function code held in memory for dispatches (bounded, see FunctionCache). */
  functionCacheBytes(): number {
    return this.fnCache.bytes;
  }

  private fn(functionId: string): CachedFunction {
    let f = this.fnCache.get(functionId);
    if (!f) {
      const row = this.store.functionById(functionId);
      if (!row) throw internalError(`task refers to missing function ${functionId}`, { functionId });
      f = { hash: row.hash, code: row.code, frameBytes: Buffer.byteLength(JSON.stringify(row.code)) };
      this.fnCache.set(functionId, f);
    }
    return f;
  }

  private started(conn: AgentConn, msg: AgentStarted): void {
    if (msg.started_at.length !== msg.task_ids.length) {
      throw new ApiError(
        'BadRequest',
        `"started" message has ${msg.task_ids.length} task ids but ${msg.started_at.length} start times`,
      );
    }
    const running = this.store.markRunning(conn.endpointId, msg.task_ids, msg.started_at);
    const now = Date.now();
    for (const id of running) this.tails.started(id, now);
    if (running.length) this.sink.publishRunning(running, conn.endpointId);
  }

  private lost(conn: AgentConn, msg: AgentLost): void {
    for (const t of msg.tasks) conn.inflight.delete(t.task_id);
    this.requeue(
      conn.endpointId,
      msg.tasks.map((t) => ({
        task_id: t.task_id,
        reason: t.reason,
        type: 'WorkerLost' as const,
        started_at: t.started_at,
      })),
    );
    this.kick(conn.endpointId);
  }

  private requeue(
    endpointId: string,
    lost: { task_id: string; reason: string; type: 'WorkerLost' | 'EndpointLost'; started_at?: number }[],
  ): void {
    if (lost.length === 0) return;
    const { failed, requeued, dropped, losers } = this.store.requeueLost(endpointId, lost);
    for (const id of requeued) this.tails.lost(id);
    for (const id of dropped) this.tails.lost(id);
    for (const id of failed.keys()) this.tails.forget(id);
    if (losers.length) this.cancelled(losers);
    const conn = this.conns.get(endpointId);
    if (conn && requeued.length) conn.queueEmpty = false;
    // Requeued tasks with alternates may start elsewhere (their endpoint may be the one that is gone).
    if (requeued.length)
      this.movable(
        [...this.conns.keys()].filter((id) => id !== endpointId),
        requeued.length,
      );
    this.metrics.tasksRequeued += requeued.length;
    this.metrics.tasksFailed += failed.size;
    if (failed.size) {
      const outcomes: Outcome[] = [];
      for (const [id, error] of failed) {
        outcomes.push({
          task_id: id,
          state: 'failed',
          endpoint_id: endpointId,
          attempts: Number(error.details?.attempts ?? 0),
          error,
        });
      }
      this.sink.publish(outcomes);
    }
  }

  private sendAcks(conn: AgentConn): void {
    conn.ackTimer = undefined;
    if (conn.acks.length === 0) return;
    conn.send({ type: 'ack', task_ids: conn.acks });
    conn.acks = [];
  }

  private onBinary(conn: AgentConn, data: Buffer): void {
    if (!conn.attached) throw new ApiError('BadRequest', 'expected "hello" before results');
    const { json, blobs } = decodeFrameRaw(data);
    const header: AgentResults = validate.agentResults.check(
      parseJsonOr400(json, 'results frame header'),
      'results frame',
    );
    const limit = this.opts.limits.max_result_bytes;
    const completions: Completion[] = [];
    for (const r of header.results) {
      let result: Uint8Array | null = null;
      let error: TaskErrorInfo | null = r.error ?? null;
      if (r.ok) {
        result = blobs[r.blob ?? -1] ?? null;
        if (!result) error = { type: 'SerializationError', message: 'agent sent a success without a result blob' };
        else if (result.byteLength > limit) {
          error = {
            type: 'MaxResultSizeExceeded',
            message: `result of ${result.byteLength} bytes exceeds the limit of ${limit} bytes`,
            details: { result_size: result.byteLength, limit },
          };
          result = null;
        } else {
          // Checked once here, so what is stored always converts and splices into an answer as one
          // value: a broken or crafted result fails its own task, never another task's entry or the
          // owner's whole results request.
          const bad = badValue(result);
          if (bad) {
            error = { type: 'SerializationError', message: `the endpoint sent a result that is not a value: ${bad}` };
            result = null;
          }
        }
      }
      completions.push({
        task_id: r.task_id,
        state: error ? 'failed' : 'success',
        result: error ? null : result,
        error,
        started_at: r.started_at,
        completed_at: r.completed_at,
      });
    }
    const { accepted, groups } = this.store.complete(conn.endpointId, completions);
    const outcomes: Outcome[] = [];
    const now = Date.now();
    for (const c of completions) {
      const attempts = conn.inflight.get(c.task_id);
      conn.inflight.delete(c.task_id);
      if (this.tails.size)
        this.tails.finished(
          c.task_id,
          now,
          c.state === 'success' ? (c.completed_at - c.started_at) / 1000 : undefined,
          accepted.has(c.task_id),
        );
      if (!accepted.has(c.task_id)) {
        this.metrics.duplicateResults++;
        continue;
      }
      if (c.state === 'success') {
        this.metrics.tasksSucceeded++;
        this.metrics.resultBytes += c.result?.byteLength ?? 0;
      } else this.metrics.tasksFailed++;
      const group = groups?.get(c.task_id);
      if (group) {
        // First result of a group: the client hears of it once, under the id it knows.
        if (group.by_copy) this.metrics.tailCopyWins++;
        if (group.losers.length) this.cancelled(group.losers);
        this.tails.forget(group.task_id);
      }
      outcomes.push({
        task_id: group?.task_id ?? c.task_id,
        state: c.state,
        endpoint_id: conn.endpointId,
        attempts: group?.attempts ?? attempts ?? this.store.task(c.task_id)?.attempts ?? 0,
        ...(c.result ? { result: c.result } : {}),
        ...(c.error ? { error: c.error } : {}),
        ...(group?.copies.length ? { copies: group.copies } : {}),
        ...(group?.by_copy ? { by_copy: true } : {}),
      });
    }
    if (outcomes.length) this.sink.publish(outcomes);
    // Ack everything received, duplicates included: the agent may forget them all. The ack may wait:
    // until it arrives the agent only keeps the results (and re-sends them after a reconnect).
    for (const r of header.results) conn.acks.push(r.task_id);
    conn.ackTimer ??= setTimeout(() => this.sendAcks(conn), ACK_DELAY_MS);
    this.kick(conn.endpointId);
  }
}

/** Parse and check an agent text message; BadRequest saying what is wrong when it does not fit. */
function checkAgentText(text: string): AgentTextMessage {
  const raw = parseJsonOr400(text, 'agent message');
  const v = byType(agentText, raw);
  if (!v)
    throw new ApiError(
      'BadRequest',
      `unknown agent message type ${JSON.stringify((raw as { type?: unknown })?.type ?? null).slice(0, 100)}`,
    );
  return v.check(raw, `agent "${(raw as { type: string }).type}" message`);
}

/** Why these bytes are not a packed value (see checkPacked), or undefined when they are one. */
function badValue(bytes: Uint8Array): string | undefined {
  try {
    checkPacked(bytes);
    return undefined;
  } catch (e) {
    if (e instanceof CodecError) return e.message;
    throw e;
  }
}

function parseJsonOr400(text: string, what: string): unknown {
  return parseUntrusted(text, what);
}
