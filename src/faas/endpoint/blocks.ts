/**
 * The elastic strategy of an endpoint: how many blocks (batch jobs of N workers, see providers/) it
 * holds. Every `intervalMs` it
 * - scales out when tasks wait and the slots of its blocks (connected or still starting) are all
 *   taken, up to `maxBlocks`;
 * - scales in blocks whose workers held no task for `idleTimeoutMs`, down to `minBlocks` (blocks still
 *   waiting in the scheduler's queue count as idle since they were submitted);
 * - notices blocks that ended on their own (walltime, `scancel`, node failure: from the scheduler's
 *   status, polled every `pollMs` and at once when a block's last worker disconnects), drops their
 *   workers so their running tasks are reported lost (the service retries them) and submits
 *   replacements as demand requires;
 * - cancels every block on stop().
 * Blocks that end before any worker connected (broken `--worker-init`, a node that cannot reach the
 * agent) make it back off instead of submitting job after job.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { brokenInvariant } from '../../errors/index.ts';
import { FaasConfigError } from '../errors.ts';
import { Backoff } from '../../util/retry.ts';
import { blockScript } from './providers/script.ts';
import type { ExecutionProvider } from './providers/types.ts';
import { type SocketLink, WorkerListener } from './worker-link.ts';

export interface BlockOptions {
  provider: ExecutionProvider;
  /** Worker processes per block. */
  workersPerBlock: number;
  /** Blocks kept even when idle (default 0). */
  minBlocks?: number;
  /** Blocks submitted at start (default minBlocks). */
  initBlocks?: number;
  /** Most blocks at once (default 1). */
  maxBlocks?: number;
  /** A block whose workers held no task this long is released (default 120 s). */
  idleTimeoutMs?: number;
  /** Shell lines run in each block before the workers start. */
  workerInit?: string;
  /** Folder for block scripts, their output and the endpoint secret; must be readable on the compute nodes. */
  dir: string;
  /** Host name or address the workers connect to (default this machine's host name). */
  agentHost?: string;
  /** Interface the agent listens on for workers (default all). */
  listenHost?: string;
  /** Port the agent listens on for workers (default any free port). */
  listenPort?: number;
  /** Command starting one worker (argv); the pool fills in its own worker entry by default. */
  workerCommand?: readonly string[];
  /** Strategy period (default 1 s). */
  intervalMs?: number;
  /** Scheduler status poll period (default 5 s). */
  pollMs?: number;
}

/** What the strategy needs from the worker pool. */
export interface BlockPoolView {
  readonly endpointName: string;
  /** Tasks one worker runs at once. */
  readonly concurrency: number;
  /** Tasks running plus tasks waiting for a slot. */
  demand(): number;
  /** Per block: connected workers, and whether any of them holds a task. */
  blockLoad(): Map<string, { workers: number; busy: boolean }>;
  /** A worker of a known block connected: give it tasks. */
  addLink(link: SocketLink): void;
  /** Give the block no more tasks and let its workers go. */
  retire(block: string): void;
  /** The block is gone: drop its workers now (their running tasks are lost and retried). */
  drop(block: string): void;
  /** Extra environment of worker processes. */
  readonly env: Readonly<Record<string, string>>;
  log(msg: string): void;
}

interface Block {
  id: string;
  jobId: string | undefined;
  state: 'submitting' | 'pending' | 'running' | 'retiring';
  /** Last time a worker of the block held a task (or when it was submitted). */
  lastBusy: number;
  /** Workers that ever connected. */
  connected: number;
}

/** Longest back-off after failed submissions or blocks that died before connecting. */
const MAX_BACKOFF_MS = 60_000;

export class BlockScaler {
  private readonly blocks = new Map<string, Block>();
  private listener: WorkerListener | undefined;
  private readonly secret = randomBytes(32).toString('base64url');
  private readonly secretFile: string;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private lastPoll = 0;
  private pollSoon = false;
  private serial = 0;
  /**
   * Waits after consecutive failures (sbatch errors, blocks dead before any worker connected): the
   * platform's one backoff with jitter (../retry.ts), up to a minute; and when the current one ends.
   */
  private readonly backoff = new Backoff({ baseMs: 2000, maxMs: MAX_BACKOFF_MS });
  private backoffUntil = 0;
  private readonly prefix = `${Date.now().toString(36)}`;
  private readonly minBlocks: number;
  private readonly maxBlocks: number;
  private readonly idleMs: number;

  constructor(
    private readonly opts: BlockOptions,
    private readonly pool: BlockPoolView,
  ) {
    this.minBlocks = opts.minBlocks ?? 0;
    this.maxBlocks = opts.maxBlocks ?? 1;
    this.idleMs = opts.idleTimeoutMs ?? 120_000;
    const bad = (what: string, v: number, min: number) => {
      if (!Number.isInteger(v) || v < min)
        throw new FaasConfigError(`endpoint ${pool.endpointName}: ${what} must be an integer >= ${min}, got ${v}`, {
          endpoint: pool.endpointName,
          [what]: v,
        });
    };
    bad('workers per block', opts.workersPerBlock, 1);
    bad('min blocks', this.minBlocks, 0);
    bad('max blocks', this.maxBlocks, 1);
    bad('init blocks', opts.initBlocks ?? 0, 0);
    if (this.minBlocks > this.maxBlocks)
      throw new FaasConfigError(
        `endpoint ${pool.endpointName}: min blocks (${this.minBlocks}) exceeds max blocks (${this.maxBlocks})`,
        { endpoint: pool.endpointName },
        'raise --max-blocks or lower --min-blocks',
      );
    if (!(this.idleMs >= 0))
      throw new FaasConfigError(`endpoint ${pool.endpointName}: idle timeout must be >= 0, got ${this.idleMs}`, {
        endpoint: pool.endpointName,
      });
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.secretFile = join(opts.dir, 'secret');
    writeFileSync(this.secretFile, `${this.secret}\n`, { mode: 0o600 });
  }

  /** Open the worker listener and submit the initial blocks; then scale every interval. */
  async start(): Promise<void> {
    this.listener = await WorkerListener.open({
      secret: this.secret,
      ...(this.opts.listenHost ? { host: this.opts.listenHost } : {}),
      ...(this.opts.listenPort ? { port: this.opts.listenPort } : {}),
      log: (m) => this.pool.log(m),
      onWorker: (link) => this.onWorker(link),
    });
    const init = Math.min(this.maxBlocks, Math.max(this.opts.initBlocks ?? this.minBlocks, this.minBlocks));
    for (let i = 0; i < init; i++) await this.submit();
    this.schedule();
  }

  /** Slots to advertise: those of the live and starting blocks, at least one block's worth so work arrives. */
  capacity(): number {
    let n = 0;
    for (const b of this.blocks.values()) if (b.state !== 'retiring') n++;
    return this.slotsPerBlock * Math.min(this.maxBlocks, Math.max(1, n));
  }

  /** Blocks by state, for logs and tests. */
  summary(): { pending: number; running: number; retiring: number } {
    const s = { pending: 0, running: 0, retiring: 0 };
    for (const b of this.blocks.values()) s[b.state === 'submitting' ? 'pending' : b.state]++;
    return s;
  }

  /** A worker's connection closed: if that was its block's last one, ask the scheduler soon. */
  workerGone(block: string): void {
    if (this.pool.blockLoad().get(block)?.workers) return;
    this.pollSoon = true;
  }

  /** Cancel every block and close the listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const jobs: string[] = [];
    for (const b of this.blocks.values()) {
      this.pool.retire(b.id);
      if (b.jobId) jobs.push(b.jobId);
    }
    try {
      await this.opts.provider.cancel(jobs);
    } catch (e) {
      this.pool.log(`cancelling blocks at stop failed, jobs ${jobs.join(' ')} may be left: ${(e as Error).message}`);
    }
    this.blocks.clear();
    await this.listener?.close();
  }

  // ---------------------------------------------------------------- internals

  private get slotsPerBlock(): number {
    return this.opts.workersPerBlock * this.pool.concurrency;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((e) => this.pool.log(`block strategy: ${(e as Error).message}`))
        .finally(() => {
          this.ticking = undefined;
          this.schedule();
        });
    }, this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    if (this.pollSoon || now - this.lastPoll >= (this.opts.pollMs ?? 5000)) await this.poll();
    if (this.stopped) return;
    const load = this.pool.blockLoad();
    let active = 0;
    for (const b of this.blocks.values()) {
      const l = load.get(b.id);
      if (l?.busy) b.lastBusy = now;
      if (b.state !== 'retiring') active++;
    }
    const demand = this.pool.demand();
    const target = Math.min(this.maxBlocks, Math.max(this.minBlocks, Math.ceil(demand / this.slotsPerBlock)));
    if (active < target) {
      if (now < this.backoffUntil) return;
      for (let i = active; i < target && !this.stopped; i++) if (!(await this.submit())) break;
      return;
    }
    // Scale in: idle blocks beyond what demand and the minimum need; ones still queued first.
    let surplus = active - target;
    if (surplus <= 0) return;
    const idle = [...this.blocks.values()]
      .filter(
        (b) =>
          b.state !== 'retiring' &&
          b.state !== 'submitting' &&
          !load.get(b.id)?.busy &&
          now - b.lastBusy >= this.idleMs,
      )
      .sort((a, b) => (a.state === b.state ? a.lastBusy - b.lastBusy : a.state === 'pending' ? -1 : 1));
    for (const b of idle) {
      if (surplus-- <= 0) break;
      await this.retire(b, `idle for ${Math.round((now - b.lastBusy) / 1000)} s`);
    }
  }

  private async submit(): Promise<boolean> {
    const id = `${this.prefix}-${++this.serial}`;
    const b: Block = { id, jobId: undefined, state: 'submitting', lastBusy: Date.now(), connected: 0 };
    this.blocks.set(id, b);
    const host = this.opts.agentHost ?? hostname();
    const env: Record<string, string> = {
      ...this.pool.env,
      RISTRETTO_AGENT: `${host.includes(':') ? `[${host}]` : host}:${(this.listener ?? brokenInvariant('a block submitted before the worker listener opened')).port}`,
      RISTRETTO_AGENT_SECRET_FILE: this.secretFile,
      RISTRETTO_BLOCK_ID: id,
      RISTRETTO_ENDPOINT_NAME: this.pool.endpointName,
      RISTRETTO_WORKER_CONCURRENCY: String(this.pool.concurrency),
    };
    try {
      const script = blockScript({
        command: this.opts.workerCommand ?? [],
        env,
        workers: this.opts.workersPerBlock,
        ...(this.opts.workerInit ? { workerInit: this.opts.workerInit } : {}),
      });
      b.jobId = await this.opts.provider.submit({ id, workers: this.opts.workersPerBlock, script, dir: this.opts.dir });
    } catch (e) {
      this.blocks.delete(id);
      const wait = this.backOff();
      this.pool.log(`${(e as Error).message}; next block submission in ${Math.round(wait / 1000)} s`);
      return false;
    }
    if (this.stopped) {
      // stop() ran while sbatch was busy: this job must not outlive the endpoint.
      await this.opts.provider.cancel([b.jobId]).catch(() => {});
      return false;
    }
    if (b.state === 'submitting') b.state = 'pending';
    this.pool.log(
      `block ${id} submitted (${this.opts.provider.name} job ${b.jobId}, ${this.opts.workersPerBlock} workers)`,
    );
    return true;
  }

  private backOff(): number {
    // Full jitter may draw ~0: keep a floor so a failing sbatch is not retried on the very next tick.
    const wait = Math.max(1000, this.backoff.next());
    this.backoffUntil = Date.now() + wait;
    return wait;
  }

  private async retire(b: Block, why: string): Promise<void> {
    b.state = 'retiring';
    this.pool.retire(b.id);
    this.pool.log(`releasing block ${b.id} (job ${b.jobId}): ${why}`);
    try {
      if (b.jobId) await this.opts.provider.cancel([b.jobId]);
    } catch (e) {
      this.pool.log((e as Error).message);
    }
  }

  private async poll(): Promise<void> {
    this.pollSoon = false;
    this.lastPoll = Date.now();
    const known = [...this.blocks.values()].flatMap((b) => (b.jobId === undefined ? [] : [{ b, jobId: b.jobId }]));
    if (known.length === 0) return;
    const status = await this.opts.provider.status(known.map((k) => k.jobId));
    for (const { b, jobId } of known) {
      const s = status.get(jobId);
      if (!s) continue;
      if (s.state === 'running' && b.state === 'pending') b.state = 'running';
      if (s.state !== 'ended') continue;
      this.blocks.delete(b.id);
      // Workers of a failed node may never close their connections: drop them, so their tasks are retried.
      this.pool.drop(b.id);
      if (b.state === 'retiring') continue;
      const out = this.opts.provider.outputOf?.(jobId);
      this.pool.log(
        `block ${b.id} (job ${b.jobId}) ended: ${s.reason ?? 'unknown reason'}${out ? `; output in ${out}` : ''}; its running tasks are retried`,
      );
      if (b.connected === 0) {
        const wait = this.backOff();
        this.pool.log(
          `block ${b.id} ended before any worker connected to ${this.opts.agentHost ?? hostname()}:${this.listener?.port}; check --worker-init and that compute nodes reach this host; next block in ${Math.round(wait / 1000)} s`,
        );
      }
    }
  }

  private onWorker(link: SocketLink): void {
    const b = this.blocks.get(link.block);
    if (!b || b.state === 'retiring' || this.stopped) {
      link.bye();
      return;
    }
    b.connected++;
    if (b.state === 'pending' || b.state === 'submitting') b.state = 'running';
    b.lastBusy = Math.max(b.lastBusy, Date.now());
    this.backoff.reset();
    this.backoffUntil = 0;
    this.pool.addLink(link);
  }
}
