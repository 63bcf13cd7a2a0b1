/**
 * A FaaS service and endpoints on loopback, as real processes started through the `ristretto faas`
 * CLI: for tests, the scaling study and trying the executor on one machine. Each endpoint runs in its
 * own process group, so killing it takes its worker processes along (like losing a node).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { brokenInvariant } from '../../src/errors/index.ts';
import { FaasExecutorError } from './errors.ts';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ristretto.mjs');

export interface LocalEndpointOptions {
  /** Worker processes (default 1). */
  workers?: number;
  /** Tasks at once per worker process (default 1). */
  concurrency?: number;
  /** Extra environment of the endpoint and its workers. */
  env?: NodeJS.ProcessEnv;
  /** Only these function ids are accepted (`--allow-function`); default: the owner's functions. */
  allowFunctions?: string[];
  /** Tasks held beyond the worker slots (`--prefetch`); default: the agent's adaptive choice. */
  prefetch?: number;
  /** Capability tags (`--tag`). */
  tags?: string[];
  /** Locally readable path prefixes (`--local-path`). */
  localPaths?: string[];
  /** More `endpoint start` arguments, e.g. `['--provider', 'slurm', '--min-blocks', '1']`. */
  args?: string[];
}

export interface LocalClusterOptions {
  /** Working folder (database, caches); default a fresh temp folder, removed by close(). */
  dir?: string;
  /** Heartbeat interval of the service, seconds (default 1). */
  heartbeatSeconds?: number;
  /** Show the service and endpoint logs on stderr (default false). */
  verbose?: boolean;
  /**
   * Write a V8 CPU profile of the service and each endpoint agent into this folder (`--cpu-prof`);
   * close() then stops them with SIGTERM so the profiles get written. For finding where the CPU goes.
   */
  cpuProfileDir?: string;
}

export class LocalCluster {
  readonly endpoints = new Map<string, ChildProcess>();
  private service: ChildProcess | undefined;
  private port = 0;
  url = '';
  token = '';

  private constructor(
    readonly dir: string,
    private readonly ownDir: boolean,
    private readonly opts: LocalClusterOptions,
  ) {}

  /** Process id of the service (for benchmarks that read its CPU time); undefined while it is stopped. */
  get servicePid(): number | undefined {
    return this.service?.pid;
  }

  /** Create a user and start the service. */
  static async start(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ristretto-faas-cluster-'));
    const c = new LocalCluster(dir, !opts.dir, opts);
    LIVE.add(c);
    try {
      const add = c.spawn(['user', 'add', 'analyst', '--db', c.db], {}, false);
      c.token = (await firstLine(add, /^\S{16,}$/))[0];
      await c.startService();
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  get db(): string {
    return join(this.dir, 'faas.db');
  }

  /** Environment for clients of this cluster (the token travels in RISTRETTO_TOKEN, never in argv). */
  get env(): NodeJS.ProcessEnv {
    return { RISTRETTO_TOKEN: this.token };
  }

  /** Start (or restart, on the same port and database) the service. */
  async startService(): Promise<void> {
    const p = this.spawn(
      [
        'serve',
        '--port',
        String(this.port),
        '--db',
        this.db,
        '--heartbeat',
        String(this.opts.heartbeatSeconds ?? 1),
        ...(this.opts.verbose ? [] : ['--quiet']),
      ],
      {},
      false,
    );
    this.service = p;
    const [, url] = await firstLine(p, /listening on (\S+)/);
    this.url = url;
    this.port = Number(new URL(this.url).port);
  }

  /** SIGKILL the service (the endpoints keep running and reconnect when it is back). */
  async killService(): Promise<void> {
    if (this.service) await kill(this.service, 'SIGKILL', false);
    this.service = undefined;
  }

  /** Start an endpoint agent; resolves once it is attached. */
  async startEndpoint(name: string, o: LocalEndpointOptions = {}): Promise<ChildProcess> {
    const args = [
      'endpoint',
      'start',
      '--service',
      this.url,
      '--name',
      name,
      '--workers',
      String(o.workers ?? 1),
      '--concurrency',
      String(o.concurrency ?? 1),
      '--cache-dir',
      join(this.dir, `cache-${name}`),
    ];
    for (const f of o.allowFunctions ?? []) args.push('--allow-function', f);
    if (o.prefetch !== undefined) args.push('--prefetch', String(o.prefetch));
    for (const t of o.tags ?? []) args.push('--tag', t);
    for (const p of o.localPaths ?? []) args.push('--local-path', p);
    args.push(...(o.args ?? []));
    const p = this.spawn(args, { ...this.env, ...o.env }, true);
    this.endpoints.set(name, p);
    await firstLine(p, /attached id=/);
    return p;
  }

  /** Kill an endpoint and its worker processes (SIGKILL: no goodbye to the service). */
  async killEndpoint(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.endpoints.get(name);
    if (!p)
      throw new FaasExecutorError(
        `no endpoint "${name}" in this cluster`,
        { endpoint: name },
        `endpoints: ${[...this.endpoints.keys()].join(', ')}`,
      );
    this.endpoints.delete(name);
    await kill(p, signal, true);
  }

  /** Stop everything and remove the temp folder. */
  async close(): Promise<void> {
    LIVE.delete(this);
    // A profiled agent must exit on its own to write its profile; it stops its workers on SIGTERM.
    const signal = this.opts.cpuProfileDir ? 'SIGTERM' : 'SIGKILL';
    await Promise.all([...this.endpoints.values()].map((p) => kill(p, signal, !this.opts.cpuProfileDir)));
    this.endpoints.clear();
    if (this.service) await kill(this.service, 'SIGTERM', false);
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(args: string[], env: NodeJS.ProcessEnv, group: boolean): ChildProcess {
    const prof = this.opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(this.opts.cpuProfileDir)}`] : [];
    return spawn(process.execPath, [...prof, CLI, 'faas', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', this.opts.verbose ? 'inherit' : 'ignore'],
      detached: group,
    });
  }
}

const LIVE = new Set<LocalCluster>();
// Do not leave detached endpoint groups behind if the owner exits without close().
process.once('exit', () => {
  for (const c of LIVE)
    for (const p of c.endpoints.values())
      if (p.pid)
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
});

function firstLine(p: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((res, rej) => {
    const rl = createInterface({ input: p.stdout ?? brokenInvariant('child spawned without a stdout pipe') });
    const onExit = (code: number | null) =>
      rej(
        new FaasExecutorError(
          `process "${p.spawnargs.slice(2, 5).join(' ')}" exited (${code}) before printing ${re}`,
          {},
          'rerun with verbose: true to see its log',
        ),
      );
    rl.on('line', (l) => {
      const m = re.exec(l.trim());
      if (!m) return;
      p.off('exit', onExit);
      res(m);
    });
    p.once('exit', onExit);
  });
}

function kill(p: ChildProcess, signal: NodeJS.Signals, group: boolean): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once('exit', () => r());
    try {
      if (group && p.pid) process.kill(-p.pid, signal);
      else p.kill(signal);
    } catch {
      r();
    }
  });
}
