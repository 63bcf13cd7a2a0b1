/**
 * A pool of worker processes (child_process.fork). Each worker runs `concurrency` tasks at a time
 * (default 1); when every worker is busy, `depth` more tasks are queued inside each worker so it never
 * waits for an IPC round trip.
 * A worker that dies is replaced; its running task is reported lost (the service retries it), its
 * queued one goes back to the pool queue. Timeouts and cancellations of a running task kill its worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TaskErrorInfo } from '../protocol.ts';
import type { FromWorker, ToWorker, WorkerDone, WorkerRun } from './worker-messages.ts';

export interface PoolTask {
  task_id: string;
  hash: string;
  path: string;
  args: Uint8Array;
  attempt: number;
  timeout_ms: number;
}

export interface PoolEvents {
  started(taskId: string, at: number): void;
  done(result: WorkerDone): void;
  /** The worker died while running the task. */
  lost(taskId: string, reason: string): void;
}

export interface PoolOptions {
  size: number;
  endpointName: string;
  maxResultBytes: () => number;
  log: (msg: string) => void;
  /** Tasks running at once inside one worker (>1 only pays off for I/O-bound or sleeping functions). */
  concurrency?: number;
  /** Tasks sent to a busy worker ahead of time, so it never waits for an IPC round trip. */
  depth?: number;
}

interface Running {
  task: PoolTask;
  timer: NodeJS.Timeout | undefined;
}

interface Slot {
  index: number;
  proc: ChildProcess;
  ready: boolean;
  /** Mirrors the worker: tasks running now, and tasks sent but not started (they start in order). */
  running: Map<string, Running>;
  waiting: PoolTask[];
  /** Set when we kill the worker on purpose, so the exit handler reports the right thing. */
  killedFor: { taskId: string; why: 'timeout' | 'cancel' | 'recycle' } | undefined;
  spawnedAt: number;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Node flags that make a forked worker able to load TypeScript sources. */
function workerExecArgv(): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx];
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: PoolTask[] = [];
  private closed = false;
  private readonly concurrency: number;
  private readonly depth: number;
  /** Moving average of task run time (ms); undefined until the first result. */
  private avgMs: number | undefined;
  private readonly execArgv = workerExecArgv();

  constructor(
    private readonly opts: PoolOptions,
    private readonly events: PoolEvents,
  ) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`workers must be a positive integer, got ${opts.size}`);
    this.concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
    // With C tasks running per worker, C more wait inside it, so a whole next wave starts without an IPC round trip.
    this.depth = opts.depth ?? this.concurrency;
    for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn(i));
  }

  /** Tasks that can run at once (workers x concurrency): the capacity advertised to the service. */
  get capacity(): number {
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

  submit(task: PoolTask): void {
    this.queue.push(task);
    this.assign();
  }

  /** Drop a task; kills its worker if it is running. Returns false if the pool does not hold it. */
  cancel(taskId: string): boolean {
    const qi = this.queue.findIndex((t) => t.task_id === taskId);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      return true;
    }
    for (const s of this.slots) {
      if (s.running.has(taskId)) {
        this.kill(s, taskId, 'cancel');
        return true;
      }
      const i = s.waiting.findIndex((t) => t.task_id === taskId);
      if (i >= 0) {
        // Already inside the worker but not started: restarting the worker is the only way to take
        // it back; everything else the worker held goes back to the queue.
        s.waiting.splice(i, 1);
        this.kill(s, taskId, 'recycle');
        return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve();
            s.proc.once('exit', () => resolve());
            s.proc.kill('SIGKILL');
          }),
      ),
    );
  }

  // ---------------------------------------------------------------- internals

  private spawn(index: number): Slot {
    const proc = fork(WORKER_ENTRY, [], {
      execArgv: this.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        RISTRETTO_ENDPOINT_NAME: this.opts.endpointName,
        RISTRETTO_WORKER_INDEX: String(index),
        RISTRETTO_WORKER_CONCURRENCY: String(this.concurrency),
      },
    });
    const slot: Slot = { index, proc, ready: false, running: new Map(), waiting: [], killedFor: undefined, spawnedAt: Date.now() };
    proc.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    proc.on('exit', (code, signal) => this.onExit(slot, code, signal));
    proc.on('error', (e) => this.opts.log(`worker ${index}: ${e.message}`));
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.assign();
      return;
    }
    for (const res of msg.results) {
      const r = slot.running.get(res.task_id);
      if (!r) continue;
      slot.running.delete(res.task_id);
      if (r.timer) clearTimeout(r.timer);
      const ms = res.completed_at - res.started_at;
      this.avgMs = this.avgMs === undefined ? ms : 0.9 * this.avgMs + 0.1 * ms;
      this.events.done(res);
      this.startWaiting(slot);
    }
    this.assign();
  }

  /** Moving average of task run time in ms (undefined before the first result). */
  get averageTaskMs(): number | undefined {
    return this.avgMs;
  }

  /**
   * Tasks queued inside a busy worker. Short tasks get a deep queue so they travel in batches; long
   * ones keep the configured depth, so no task waits behind a long one while another worker idles.
   */
  private effectiveDepth(): number {
    return this.avgMs !== undefined && this.avgMs < 5 ? Math.max(this.depth, 32) : this.depth;
  }

  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const killed = slot.killedFor;
    // Tasks that never started go back to the front of the queue, in order.
    this.queue.unshift(...slot.waiting);
    slot.waiting = [];
    for (const [id, r] of slot.running) {
      if (r.timer) clearTimeout(r.timer);
      if (killed?.taskId === id && killed.why === 'timeout') {
        const error: TaskErrorInfo = {
          type: 'TaskTimeout',
          message: `task ran longer than its timeout of ${r.task.timeout_ms} ms; its worker was stopped`,
          details: { timeout_ms: r.task.timeout_ms },
        };
        this.events.done({ task_id: id, ok: false, error, started_at: 0, completed_at: Date.now() });
      } else if (killed?.taskId === id && killed.why === 'cancel') {
        // Cancelled: the service already knows; nothing to report.
      } else if (killed?.why === 'recycle') {
        this.queue.unshift(r.task);
      } else {
        const how = killed ? `stopped because task ${killed.taskId} ${killed.why === 'timeout' ? 'timed out' : 'was cancelled'} on the same worker` : signal ? `signal ${signal}` : `exit code ${code}`;
        if (!killed) this.opts.log(`worker ${slot.index} died (${how}) while running task ${id}`);
        this.events.lost(id, `worker process died (${how})`);
      }
    }
    slot.running.clear();
    if (this.closed) return;
    // Back off when a worker dies right after starting (broken environment), instead of spinning.
    const delay = !killed && Date.now() - slot.spawnedAt < 1000 ? 1000 : 0;
    setTimeout(() => {
      if (this.closed) return;
      this.slots[slot.index] = this.spawn(slot.index);
    }, delay).unref();
  }

  private assign(): void {
    if (this.queue.length === 0) return;
    const batches = new Map<Slot, WorkerRun[]>();
    const give = (s: Slot) => {
      const task = this.queue.shift()!;
      let b = batches.get(s);
      if (!b) batches.set(s, (b = []));
      b.push(this.runMessage(task));
      s.waiting.push(task);
      this.startWaiting(s);
    };
    // Fill free run slots across all workers first, then queue more per worker, level by level.
    for (const s of this.slots) {
      while (this.queue.length > 0 && s.ready && !s.killedFor && s.running.size < this.concurrency) give(s);
    }
    const depth = this.effectiveDepth();
    for (let level = 0; level < depth && this.queue.length > 0; level++) {
      for (const s of this.slots) {
        if (this.queue.length === 0) break;
        if (s.ready && !s.killedFor && s.waiting.length === level) give(s);
      }
    }
    for (const [s, tasks] of batches) s.proc.send({ type: 'run', tasks } satisfies ToWorker);
  }

  private runMessage(task: PoolTask): WorkerRun {
    return {
      task_id: task.task_id,
      hash: task.hash,
      path: task.path,
      args: task.args,
      attempt: task.attempt,
      max_result_bytes: this.opts.maxResultBytes(),
    };
  }

  /** Mirror of the worker: waiting tasks start in order while run slots are free. */
  private startWaiting(slot: Slot): void {
    while (slot.running.size < this.concurrency && slot.waiting.length > 0) {
      const task = slot.waiting.shift()!;
      const r: Running = { task, timer: undefined };
      if (task.timeout_ms > 0) r.timer = setTimeout(() => this.kill(slot, task.task_id, 'timeout'), task.timeout_ms);
      slot.running.set(task.task_id, r);
      this.events.started(task.task_id, Date.now());
    }
  }

  private kill(slot: Slot, taskId: string, why: 'timeout' | 'cancel' | 'recycle'): void {
    if (slot.killedFor) return;
    slot.killedFor = { taskId, why };
    slot.proc.kill('SIGKILL');
  }
}
