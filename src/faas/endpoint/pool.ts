/**
 * A pool of worker processes: forked children (`size` of them, replaced when they die), or, with
 * `blocks`, workers of batch jobs that a provider starts and that connect back over TCP (blocks.ts
 * decides how many; a block's dead worker is not replaced here, its block restarts or ends it). Each
 * worker runs `concurrency` tasks at a time
 * (default 1); when every worker is busy and tasks are short, `depth` more tasks are queued inside each
 * worker so it never waits for an IPC round trip.
 * A worker that dies is replaced; its running task is reported lost (the service retries it), its
 * queued one goes back to the pool queue. Timeouts kill the worker; a cancellation aborts the task's
 * signal and kills the worker only if the task is still running after a grace period (see `cancel`).
 *
 * A worker runs the tasks of one owner (submitting user) only: modules, globals and `process` live on
 * between tasks, so one user's function could otherwise change or read another user's later tasks
 * (issue 14, probe D3). A task of another owner goes to a fresh worker; an idle worker of an owner with
 * nothing queued is recycled (killed and started again) for it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isSea } from 'node:sea';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decodeFrameRaw, encodeFrame } from '../codec.ts';
import { brokenInvariant } from '../../errors/index.ts';
import { FaasConfigError, FaasProtocolError } from '../errors.ts';
import { validate } from '../protocol-schemas.ts';
import { parseJson } from '../schema.ts';
import { HOLD_BACK_MS, QUEUED_WORK_MS } from '../scheduling.ts';
import type { TaskErrorInfo } from '../protocol.ts';
import { type BlockOptions, BlockScaler } from './blocks.ts';
import { BUILT_WORKER_ENV, SEA_ROLE_ENV } from './sea-role.ts';
import type { DoneFrameHeader, FromWorker, RunFrameHeader, WorkerDone } from './worker-messages.ts';
import { ForkLink, type SocketLink, type WorkerLink } from './worker-link.ts';
import { workerBaseEnv } from './worker-env.ts';

export interface PoolTask {
  task_id: string;
  hash: string;
  path: string;
  args: Uint8Array;
  attempt: number;
  timeout_ms: number;
  /** Fair-share group (see FairQueue). */
  group?: string;
  /** Who submitted the task: a worker runs tasks of one owner only. Undefined is an owner of its own. */
  owner?: string;
}

function ownerOf(t: PoolTask): string {
  return t.owner ?? '';
}

export interface PoolEvents {
  started(taskId: string, at: number): void;
  done(result: WorkerDone): void;
  /** The worker died while running the task (started at `startedAt`, ms since epoch). */
  lost(taskId: string, reason: string, startedAt: number): void;
  /** A cancelled task no longer takes a slot: taken back before it started, or its run ended. */
  released?(taskId: string): void;
}

export interface PoolOptions {
  /** Forked worker processes (ignored with `blocks`). */
  size: number;
  /** Get workers from batch-job blocks instead of forking them (see blocks.ts). */
  blocks?: BlockOptions;
  endpointName: string;
  maxResultBytes: () => number;
  log: (msg: string) => void;
  /** Tasks running at once inside one worker (>1 only pays off for I/O-bound or sleeping functions). */
  concurrency?: number;
  /** Tasks sent to a busy worker ahead of time, so it never waits for an IPC round trip. */
  depth?: number;
  /** How long a cancelled task may keep running after its signal is aborted (default 5 s). */
  cancelGraceMs?: number;
  /** Extra environment of the worker processes. */
  env?: Record<string, string>;
  /**
   * Longest a task may run here, in ms, whatever its own timeout (`faas endpoint start
   * --max-task-seconds`): on an endpoint shared by several users, one user's never-ending tasks
   * would otherwise hold its slots for good (issue 14, probe D6). Undefined or 0: no limit.
   */
  maxTaskMs?: number;
}

interface Running {
  task: PoolTask;
  timer: NodeJS.Timeout | undefined;
  at: number;
}

interface Slot {
  index: number;
  link: WorkerLink;
  /** A block's worker that is being let go: no new tasks. */
  retiring: boolean;
  ready: boolean;
  /** Mirrors the worker: tasks running now, and tasks sent but not started (they start in order). */
  running: Map<string, Running>;
  waiting: PoolTask[];
  /** Set when we kill the worker on purpose, so the exit handler reports the right thing. */
  killedFor: { taskId: string; why: 'timeout' | 'cancel' | 'recycle' } | undefined;
  spawnedAt: number;
  /** Owner of the tasks this worker has run (undefined: none yet); it never runs another owner's. */
  owner: string | undefined;
}

/** FIFO of tasks with O(1) shift (a plain array's shift moves every element: slow with thousands queued). */
class TaskQueue {
  private items: PoolTask[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Add in task id order. The service's ids sort by submission (UUIDv7), and tasks mostly arrive in
   * that order (one push); one that arrives late lines up where it was submitted, not behind newer
   * ones: a task given back on a recall with nowhere to go, and sent here again, starts first.
   */
  push(t: PoolTask): void {
    const items = this.items;
    let i = items.length;
    while (i > this.head && items[i - 1].task_id > t.task_id) i--;
    if (i === items.length) items.push(t);
    else items.splice(i, 0, t);
  }

  shift(): PoolTask | undefined {
    if (this.head >= this.items.length) return undefined;
    const t = this.items[this.head];
    this.items[this.head++] = undefined as unknown as PoolTask;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return t;
  }

  peek(): PoolTask | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Put tasks back at the front, in order. */
  unshift(tasks: PoolTask[]): void {
    if (tasks.length === 0) return;
    this.items = [...tasks, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Remove a task by id; false if absent. */
  remove(taskId: string): boolean {
    for (let i = this.head; i < this.items.length; i++) {
      if (this.items[i].task_id === taskId) {
        this.items.splice(i, 1);
        return true;
      }
    }
    return false;
  }
}

/**
 * Tasks waiting for a worker, handed out round-robin across fair-share groups (FIFO by submission within a group):
 * when several analyses share an endpoint, the one whose tasks arrived first does not take every
 * slot that frees up.
 */
class FairQueue {
  /** By owner and group (a group never mixes owners' tasks, so a queue has one owner). */
  private readonly groups = new Map<string, TaskQueue>();
  private readonly owners = new Map<string, string>();
  /** Groups with waiting tasks, in turn order. */
  private turn: string[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(t: PoolTask): void {
    const g = queueKey(t);
    let q = this.groups.get(g);
    if (!q) this.newQueue(g, t, (q = new TaskQueue()));
    if (q.length === 0) this.turn.push(g);
    q.push(t);
    this.count++;
  }

  shift(): PoolTask | undefined {
    return this.turn.length === 0 ? undefined : this.take(0);
  }

  /** The task `shift` would return, left in the queue. */
  peek(): PoolTask | undefined {
    const g = this.turn[0];
    return g === undefined ? undefined : this.groups.get(g)?.peek();
  }

  /** The next task of `owner` in turn order (its group then takes its turn, as with `shift`). */
  shiftOwned(owner: string): PoolTask | undefined {
    const i = this.turn.findIndex((g) => this.owners.get(g) === owner);
    return i < 0 ? undefined : this.take(i);
  }

  /** Whether any task of `owner` waits. */
  hasOwner(owner: string): boolean {
    for (const g of this.turn) if (this.owners.get(g) === owner) return true;
    return false;
  }

  private take(i: number): PoolTask {
    const [g] = this.turn.splice(i, 1);
    const q = this.groups.get(g) ?? brokenInvariant(`task group ${g} is in turn but has no queue`);
    const t = q.shift() ?? brokenInvariant(`task group ${g} is in turn but its queue is empty`);
    this.count--;
    if (q.length > 0) this.turn.push(g);
    else this.dropQueue(g);
    return t;
  }

  private newQueue(g: string, t: PoolTask, q: TaskQueue): void {
    this.groups.set(g, q);
    this.owners.set(g, ownerOf(t));
  }

  private dropQueue(g: string): void {
    this.groups.delete(g);
    this.owners.delete(g);
  }

  /** Put tasks back at the front of their groups, in order; those groups get the next turns. */
  unshift(tasks: PoolTask[]): void {
    if (tasks.length === 0) return;
    const byGroup = new Map<string, PoolTask[]>();
    for (const t of tasks) {
      const g = queueKey(t);
      let l = byGroup.get(g);
      if (!l) byGroup.set(g, (l = []));
      l.push(t);
    }
    for (const [g, list] of byGroup) {
      let q = this.groups.get(g);
      if (!q) this.newQueue(g, list[0], (q = new TaskQueue()));
      q.unshift(list);
    }
    this.turn = [...byGroup.keys(), ...this.turn.filter((g) => !byGroup.has(g))];
    this.count += tasks.length;
  }

  /** Remove a task by id; false if absent. */
  remove(taskId: string): boolean {
    for (const [g, q] of this.groups) {
      if (!q.remove(taskId)) continue;
      this.count--;
      if (q.length === 0) {
        this.dropQueue(g);
        this.turn = this.turn.filter((x) => x !== g);
      }
      return true;
    }
    return false;
  }
}

/** FairQueue's key of a task: its owner and group. */
function queueKey(t: PoolTask): string {
  return `${ownerOf(t)}\0${t.group ?? ''}`;
}

/** Deepest queue inside one worker, for very short tasks. */
const MAX_DEPTH = 512;

// In the single-executable endpoint (sea-main.ts) the executable itself is the worker: no entry file, no tsx.
const SEA = isSea();
const WORKER_SOURCE = fileURLToPath(new URL('./worker.ts', import.meta.url));
/**
 * worker.ts as one plain-JS module (an esbuild `runtime` build, cached like the thread pool's): a
 * worker then starts without tsx, which compiled every FaaS module at each start (see
 * bench/faas-worker-start.ts). Set by {@link prepareWorkerEntry}; until then, or when no build could
 * be made, workers run worker.ts through tsx.
 */
let builtEntry: string | undefined;
/** By URL, so that no bundle of this file (the single executable's) takes in esbuild. */
const BUILD_CACHE = new URL('../../processor/build-cache.mjs', import.meta.url).href;

/**
 * Build (or find in the cache) the plain-JS worker entry; the endpoint agent awaits this before it
 * starts workers. Never fails: without esbuild or a writable cache, workers use tsx as before.
 */
export async function prepareWorkerEntry(): Promise<void> {
  if (SEA || builtEntry) return;
  try {
    const { cachedBuild } = (await import(BUILD_CACHE)) as typeof import('../../processor/build-cache.mjs');
    const built = await cachedBuild(WORKER_SOURCE, 'runtime');
    if (existsSync(built.file)) builtEntry = built.file;
  } catch {
    // tsx it is.
  }
}

function workerEntry(): string {
  return SEA ? process.execPath : (builtEntry ?? WORKER_SOURCE);
}

/** Node flags that make a forked worker able to load TypeScript sources (none for the built entry). */
function workerExecArgv(): string[] {
  if (SEA || builtEntry) return [];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx];
}

/**
 * What a worker from the built entry needs: TypeScript modules a function imports from this
 * installation (the Ristretto chunk function's run-task.ts) are built too (worker.ts), and the chunk
 * function finds the installation by RISTRETTO_HOME (it looked above the entry, now in the cache).
 */
function workerEnv(): Record<string, string> {
  if (SEA || !builtEntry) return {};
  return { [BUILT_WORKER_ENV]: '1', RISTRETTO_HOME: process.env.RISTRETTO_HOME || ristrettoHome() };
}

/** The Ristretto installation this module belongs to (src/faas/endpoint → three folders up). */
function ristrettoHome(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/[\\/]$/, '');
}

/** Command that starts one block worker: this Node running the worker entry (built, or worker.ts through tsx). */
function workerCommand(): string[] {
  if (SEA) return ['/usr/bin/env', `${SEA_ROLE_ENV}=worker`, process.execPath];
  const env = Object.entries(workerEnv()).map(([k, v]) => `${k}=${v}`);
  return [...(env.length ? ['/usr/bin/env', ...env] : []), process.execPath, ...workerExecArgv(), workerEntry()];
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue = new FairQueue();
  /**
   * Cancelled tasks left to finish inside a worker that is running other tasks at the same time (async
   * slots): restarting it would stop every one of them, so the cancelled one runs on and its outcome is
   * dropped. The service already marked it cancelled. (Side effects it still has, such as a staged-out
   * result file, are not undone.)
   */
  private readonly discarded = new Set<string>();
  private closed = false;
  private assignScheduled = false;
  private readyWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly depth: number;
  private readonly depthGiven: boolean;
  private readonly cancelGraceMs: number;
  /** Moving average of task run time (ms); undefined until the first result. */
  private avgMs: number | undefined;
  private readonly execArgv = workerExecArgv();

  constructor(
    private readonly opts: PoolOptions,
    private readonly events: PoolEvents,
  ) {
    this.concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new FaasConfigError(`concurrency must be a positive integer, got ${this.concurrency}`, {
        endpoint: opts.endpointName,
      });
    // With C tasks running per worker, C more wait inside it, so a whole next wave starts without an IPC round trip.
    this.depth = opts.depth ?? this.concurrency;
    this.depthGiven = opts.depth !== undefined;
    this.cancelGraceMs = opts.cancelGraceMs ?? 5000;
    const blocks = opts.blocks;
    if (blocks) {
      this.scaler = new BlockScaler(
        { ...blocks, workerCommand: blocks.workerCommand ?? workerCommand() },
        {
          endpointName: opts.endpointName,
          concurrency: this.concurrency,
          env: opts.env ?? {},
          demand: () => this.busy() + this.queued(),
          blockLoad: () => this.blockLoad(),
          addLink: (link) => this.addLink(link),
          retire: (block) => this.retireBlock(block, false),
          drop: (block) => this.retireBlock(block, true),
          log: (m) => this.opts.log(m),
        },
      );
      this.scalerStarted = this.scaler.start().catch((e) => {
        this.opts.log(`cannot start blocks: ${(e as Error).message}`);
        throw e;
      });
    } else {
      if (!Number.isInteger(opts.size) || opts.size < 1)
        throw new FaasConfigError(`workers must be a positive integer, got ${opts.size}`, {
          endpoint: opts.endpointName,
        });
      for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn(i));
    }
  }

  /** The block strategy, when workers come from blocks. */
  readonly scaler: BlockScaler | undefined;
  /** Settles once the worker listener is open and the initial blocks are submitted (blocks only). */
  readonly scalerStarted: Promise<void> | undefined;
  private nextIndex = 0;

  /** A worker of a block connected (called by the strategy). */
  private addLink(link: SocketLink): void {
    const slot = this.slotFor(link, this.nextIndex++);
    this.slots.push(slot);
  }

  /** Per block: connected workers and whether any holds a task. */
  private blockLoad(): Map<string, { workers: number; busy: boolean }> {
    const m = new Map<string, { workers: number; busy: boolean }>();
    for (const s of this.slots) {
      const b = s.link.block;
      if (b === undefined) continue;
      const l = m.get(b) ?? { workers: 0, busy: false };
      l.workers++;
      if (s.running.size > 0 || s.waiting.length > 0) l.busy = true;
      m.set(b, l);
    }
    return m;
  }

  /** Stop giving the block's workers tasks; let them go (idle), or drop them at once (block ended). */
  private retireBlock(block: string, now: boolean): void {
    for (const s of this.slots) {
      if (s.link.block !== block) continue;
      s.retiring = true;
      if (now) s.link.kill();
      else s.link.bye();
    }
  }

  /** Resolves once every worker has started (or after `timeoutMs`, so one broken worker cannot block the endpoint). */
  whenReady(timeoutMs = 15_000): Promise<void> {
    // Blocks start when the scheduler gets to them: the endpoint attaches at once, tasks wait for them.
    if (this.scalerStarted) return this.scalerStarted;
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Tasks that can run at once (workers x concurrency): the capacity advertised to the service. With
   * blocks, the slots of the blocks held or starting, and at least one block's worth (so that work
   * arrives and makes the strategy submit the first block).
   */
  get capacity(): number {
    if (this.scaler) return this.scaler.capacity();
    return this.slots.length * this.concurrency;
  }

  /** Tasks running now. */
  busy(): number {
    let n = 0;
    for (const s of this.slots) n += s.running.size;
    return n;
  }

  queued(): number {
    let n = this.queue.length;
    for (const s of this.slots) n += s.waiting.length;
    return n;
  }

  /** Queue a task. Tasks submitted in the same turn reach each worker in one message (assignment waits for a microtask). */
  submit(task: PoolTask): void {
    this.queue.push(task);
    if (this.assignScheduled) return;
    this.assignScheduled = true;
    queueMicrotask(() => {
      this.assignScheduled = false;
      this.assign();
    });
  }

  /**
   * Give back a task still waiting in the pool's own queue (not one already handed to a worker, which
   * may start it any moment). True if it was there; it is then forgotten, with no event.
   */
  takeBack(taskId: string): boolean {
    return this.queue.remove(taskId);
  }

  /**
   * Drop a task. One not started is taken back (from the pool queue, or from the worker's own queue).
   * A running one gets its `ctx.signal` aborted and its outcome is dropped; the worker stays warm. Only
   * a task still running after the grace period is stopped by killing its worker (other tasks running
   * in that worker are then reported lost and retried). Returns false if the pool does not hold it.
   */
  cancel(taskId: string): boolean {
    if (this.queue.remove(taskId)) {
      this.events.released?.(taskId);
      return true;
    }
    for (const s of this.slots) {
      const r = s.running.get(taskId);
      if (r) {
        // Tasks already queued behind it in that worker stay there: taking them back races with the
        // worker starting one (its aborted outcome would then pass for the result of the task's
        // next run). They start when it ends, or go back to the queue if its grace runs out.
        this.discarded.add(taskId);
        if (r.timer) clearTimeout(r.timer);
        r.timer = setTimeout(() => {
          if (this.slots.includes(s) && s.running.has(taskId)) this.kill(s, taskId, 'cancel');
        }, this.cancelGraceMs);
        s.link.cancel(taskId);
        return true;
      }
      const i = s.waiting.findIndex((t) => t.task_id === taskId);
      if (i >= 0) {
        // Inside the worker but not started: the worker drops it from its queue. (Should it have
        // started meanwhile, its signal is aborted and its outcome, unknown to this mirror, ignored.)
        s.waiting.splice(i, 1);
        s.link.cancel(taskId);
        this.events.released?.(taskId);
        return true;
      }
    }
    return false;
  }

  /** Stop every worker; with blocks, cancel them all first (no job is left in the scheduler). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.scaler) await this.scalerStarted?.catch(() => {});
    await this.scaler?.stop();
    await Promise.all(
      this.slots.map((s) => {
        s.link.kill();
        return s.link.closed;
      }),
    );
  }

  // ---------------------------------------------------------------- internals

  private spawn(index: number): Slot {
    const link = new ForkLink(`worker ${index}`, workerEntry(), this.execArgv, {
      ...workerBaseEnv(),
      ...workerEnv(),
      ...this.opts.env,
      RISTRETTO_ENDPOINT_NAME: this.opts.endpointName,
      RISTRETTO_WORKER_INDEX: String(index),
      RISTRETTO_WORKER_CONCURRENCY: String(this.concurrency),
      ...(SEA ? { [SEA_ROLE_ENV]: 'worker' } : {}),
    });
    return this.slotFor(link, index);
  }

  private slotFor(link: WorkerLink, index: number): Slot {
    const slot: Slot = {
      index,
      link,
      retiring: false,
      ready: false,
      running: new Map(),
      waiting: [],
      killedFor: undefined,
      spawnedAt: Date.now(),
      owner: undefined,
    };
    link.setHandlers({
      message: (msg: FromWorker) => this.onMessage(slot, msg),
      exit: (how) => this.onExit(slot, how),
      error: (e) => this.opts.log(`${link.label}: ${e.message}`),
    });
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg?.type === 'ready') {
      slot.ready = true;
      if (this.readyWaiters.length && this.slots.every((s) => s.ready))
        for (const w of this.readyWaiters.splice(0)) w();
      this.assign();
      return;
    }
    let header: DoneFrameHeader;
    let blobs: Uint8Array[];
    try {
      if (msg?.type !== 'done' || !(msg.frame instanceof Uint8Array))
        throw new FaasProtocolError(
          `unknown message type ${JSON.stringify((msg as { type?: unknown })?.type ?? null)}`,
        );
      const frame = decodeFrameRaw(msg.frame);
      header = validate.doneFrame.check(parseJson(frame.json), 'done frame');
      blobs = frame.blobs;
    } catch (e) {
      // Its tasks' results are lost with the message: restart the worker, so they count as lost (retried).
      this.opts.log(`${slot.link.label}: malformed message (${(e as Error).message}); restarting it`);
      slot.link.kill();
      return;
    }
    for (const entry of header.results) {
      const { blob, ...rest } = entry;
      const res: WorkerDone = blob === undefined ? rest : { ...rest, result: blobs[blob] };
      const r = slot.running.get(res.task_id);
      if (!r) continue;
      slot.running.delete(res.task_id);
      if (r.timer) clearTimeout(r.timer);
      const ms = res.completed_at - res.started_at;
      this.avgMs = this.avgMs === undefined ? ms : 0.9 * this.avgMs + 0.1 * ms;
      if (!this.discarded.delete(res.task_id)) this.events.done(res);
      else this.events.released?.(res.task_id);
      this.startWaiting(slot);
    }
    this.assign();
  }

  /** Moving average of task run time in ms (undefined before the first result). */
  get averageTaskMs(): number | undefined {
    return this.avgMs;
  }

  /**
   * Tasks queued inside a busy worker: about QUEUED_WORK_MS of work, at least `depth` (by default one
   * per slot), so a worker that finishes starts its next task without waiting for the agent, whose
   * hand-off takes several milliseconds once the cores are busy. Long tasks (HOLD_BACK_MS and more) are
   * not queued inside workers unless a depth was configured: a task queued behind a running one waits for
   * that worker while another may free a slot first, and the hand-off it saves is small next to such a
   * task. Measured in bench/RESULTS.md, "CPU-bound overhead — adl-overhead.json" (session 4).
   */
  private effectiveDepth(): number {
    if (this.avgMs === undefined) return this.depth;
    if (this.avgMs >= HOLD_BACK_MS) return this.depthGiven ? this.depth : 0;
    const byTime = Math.ceil((QUEUED_WORK_MS * this.concurrency) / Math.max(this.avgMs, 0.01));
    return Math.max(this.depth, Math.min(MAX_DEPTH, byTime));
  }

  /** If the task was cancelled while in a worker, report its slot free; true if it was. */
  private release(taskId: string): boolean {
    if (!this.discarded.delete(taskId)) return false;
    this.events.released?.(taskId);
    return true;
  }

  private onExit(slot: Slot, how: string): void {
    const killed = slot.killedFor;
    // Until its replacement is spawned the dead slot stays in the list: it must not be given tasks.
    slot.ready = false;
    // Tasks that never started go back to the front of the queue, in order (cancelled ones do not).
    this.queue.unshift(slot.waiting.filter((t) => !this.release(t.task_id)));
    slot.waiting = [];
    for (const [id, r] of slot.running) {
      if (r.timer) clearTimeout(r.timer);
      if (this.release(id)) continue;
      if (killed?.taskId === id && killed.why === 'timeout') {
        const cap = this.opts.maxTaskMs;
        const error: TaskErrorInfo =
          cap && this.limitMs(r.task) === cap && cap !== r.task.timeout_ms
            ? {
                type: 'TaskTimeout',
                message: `task ran longer than endpoint ${this.opts.endpointName}'s limit of ${cap / 1000} s per task (--max-task-seconds); its worker was stopped`,
                details: { timeout_ms: r.task.timeout_ms, max_task_ms: cap },
              }
            : {
                type: 'TaskTimeout',
                message: `task ran longer than its timeout of ${r.task.timeout_ms} ms; its worker was stopped`,
                details: { timeout_ms: r.task.timeout_ms },
              };
        this.events.done({ task_id: id, ok: false, error, started_at: 0, completed_at: Date.now() });
      } else if (killed?.taskId === id && killed.why === 'cancel') {
        // Cancelled: the service already knows; nothing to report.
      } else {
        const why = killed
          ? `stopped because task ${killed.taskId} ${killed.why === 'timeout' ? 'timed out' : 'was cancelled'} on the same worker`
          : how;
        if (!killed) this.opts.log(`${slot.link.label} died (${why}) while running task ${id}`);
        this.events.lost(id, `worker process died (${why})`, r.at);
      }
    }
    slot.running.clear();
    const block = slot.link.block;
    if (block !== undefined) {
      // A block's worker is restarted by its block script (it connects again as a new slot) or ends with it.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (!this.closed) {
        this.scaler?.workerGone(block);
        this.assign();
      }
      return;
    }
    if (this.closed) return;
    // Back off when a worker dies right after starting (broken environment), instead of spinning.
    const delay = !killed && Date.now() - slot.spawnedAt < 1000 ? 1000 : 0;
    setTimeout(() => {
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn(slot.index);
    }, delay).unref();
  }

  private assign(): void {
    if (this.queue.length === 0) return;
    const batches = new Map<Slot, PoolTask[]>();
    const give = (s: Slot, task: PoolTask) => {
      s.owner ??= ownerOf(task);
      let b = batches.get(s);
      if (!b) batches.set(s, (b = []));
      b.push(task);
      s.waiting.push(task);
      this.startWaiting(s);
    };
    // Not into a worker still running a cancelled task: it is killed if the task outlives its grace.
    const open = (s: Slot) => s.ready && !s.retiring && !s.killedFor && !this.draining(s);
    // Fill free run slots across all workers first, then queue more per worker, level by level. A
    // worker takes the next task in fair-share order when it may run it (its owner's, or it is fresh),
    // else the next of its own owner's.
    for (const s of this.slots) {
      while (this.queue.length > 0 && open(s) && s.running.size < this.concurrency) {
        const head = this.queue.peek() ?? brokenInvariant('the pool queue has tasks but no head');
        if (s.owner === undefined || s.owner === ownerOf(head)) {
          give(s, this.queue.shift() ?? brokenInvariant('the pool queue lost its head'));
          continue;
        }
        // The head's owner has no worker at all: this one, idle, is restarted for it (else that owner
        // would wait as long as this one's tasks keep coming).
        if (this.idle(s) && !this.slots.some((o) => o !== s && this.mayServe(o, ownerOf(head)))) {
          this.recycle(s);
          break;
        }
        const own = this.queue.shiftOwned(s.owner);
        if (!own) break;
        give(s, own);
      }
    }
    // Idle workers of owners with nothing queued, while others' tasks wait: restart as many as those
    // tasks need beyond the fresh workers there are, so the endpoint's capacity serves whoever waits.
    let fresh = 0;
    for (const s of this.slots) if (this.mayServe(s, undefined)) fresh++;
    for (const s of this.slots) {
      if (fresh >= this.queue.length) break;
      if (open(s) && s.owner !== undefined && this.idle(s) && !this.queue.hasOwner(s.owner)) {
        this.recycle(s);
        fresh++;
      }
    }
    // A worker's share never exceeds an even split of the pending tasks over all workers (ready or
    // not), so a worker that is still starting still gets work when it is ready.
    let pending = this.queue.length;
    for (const s of this.slots) pending += s.waiting.length;
    const depth = this.slots.length === 0 ? 0 : Math.min(this.effectiveDepth(), Math.ceil(pending / this.slots.length));
    for (let level = 0; level < depth && this.queue.length > 0; level++) {
      for (const s of this.slots) {
        if (this.queue.length === 0) break;
        if (!open(s) || s.waiting.length !== level) continue;
        const task = s.owner === undefined ? this.queue.shift() : this.queue.shiftOwned(s.owner);
        if (task) give(s, task);
      }
    }
    for (const [s, tasks] of batches) {
      const paths: Record<string, string> = {};
      for (const t of tasks) paths[t.hash] ??= t.path;
      s.link.run(this.runFrame(tasks), paths);
    }
  }

  /** Nothing running or queued in the worker. */
  private idle(s: Slot): boolean {
    return s.running.size === 0 && s.waiting.length === 0;
  }

  /**
   * The worker (started, or still starting) may run tasks of `owner` (undefined: of anyone). One being
   * stopped on purpose comes back fresh.
   */
  private mayServe(s: Slot, owner: string | undefined): boolean {
    if (s.retiring) return false;
    return s.killedFor !== undefined || s.owner === undefined || s.owner === owner;
  }

  /**
   * Stop an idle worker so that a fresh one takes its place (forked: spawned again at once; a block's:
   * its block script starts it again, and it connects as a new worker).
   */
  private recycle(s: Slot): void {
    s.killedFor = { taskId: '', why: 'recycle' };
    this.recycled++;
    s.link.kill();
  }

  /** Workers restarted to serve another owner, since the pool started (for logs and tests). */
  recycled = 0;

  /** The worker still runs a cancelled task: queue nothing behind it (it may run out its grace period). */
  private draining(s: Slot): boolean {
    if (this.discarded.size === 0) return false;
    for (const id of s.running.keys()) if (this.discarded.has(id)) return true;
    return false;
  }

  private runFrame(tasks: PoolTask[]): Buffer {
    const header: RunFrameHeader = {
      paths: {},
      max_result_bytes: this.opts.maxResultBytes(),
      tasks: new Array(tasks.length),
    };
    const blobs: Uint8Array[] = new Array(tasks.length);
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      header.paths[t.hash] ??= t.path;
      header.tasks[i] = { task_id: t.task_id, hash: t.hash, attempt: t.attempt };
      blobs[i] = t.args;
    }
    return encodeFrame(header, blobs);
  }

  /** Mirror of the worker: waiting tasks start in order while run slots are free. */
  private startWaiting(slot: Slot): void {
    while (slot.running.size < this.concurrency) {
      const task = slot.waiting.shift();
      if (!task) break;
      const r: Running = { task, timer: undefined, at: Date.now() };
      const limit = this.limitMs(task);
      if (limit > 0) r.timer = setTimeout(() => this.kill(slot, task.task_id, 'timeout'), limit);
      slot.running.set(task.task_id, r);
      this.events.started(task.task_id, r.at);
    }
  }

  /** How long the task may run: its timeout, or the endpoint's limit if that is shorter (0: no limit). */
  private limitMs(task: PoolTask): number {
    const cap = this.opts.maxTaskMs ?? 0;
    if (cap <= 0) return task.timeout_ms;
    return task.timeout_ms > 0 ? Math.min(task.timeout_ms, cap) : cap;
  }

  private kill(slot: Slot, taskId: string, why: 'timeout' | 'cancel'): void {
    if (slot.killedFor) return;
    slot.killedFor = { taskId, why };
    slot.link.kill();
  }
}
