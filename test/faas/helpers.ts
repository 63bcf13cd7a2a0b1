/** Real processes for FaaS tests: the CLI (service, admin, endpoints) spawned on loopback. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { LocalCluster, LocalEndpointOptions } from '../../executors/faas/local-cluster.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import type { AgentHello } from '../../src/faas/protocol.ts';
import { repoRoot } from '../shared.ts';

const cli = join(repoRoot, 'bin', 'ristretto.mjs');

export class Procs {
  readonly dir = mkdtempSync(join(tmpdir(), 'ristretto-faas-test-'));
  readonly db = join(this.dir, 'faas.db');
  private readonly children = new Set<ChildProcess>();
  /** Everything the children wrote to stderr, for failure messages. */
  log = '';

  spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const p = spawn(process.execPath, [cli, 'faas', ...args], {
      env: { ...process.env, RISTRETTO_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(p);
    p.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    p.once('exit', () => this.children.delete(p));
    return p;
  }

  /** Resolve with the first stdout line matching `re`; reject if the process exits first (or, stuck, after `timeoutMs`: generous, for loaded machines). */
  waitLine(p: ChildProcess, re: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const rl = createInterface({ input: p.stdout! });
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re}\n${this.log.slice(-2000)}`)),
        timeoutMs,
      );
      rl.on('line', (line) => {
        const m = re.exec(line);
        if (m) {
          clearTimeout(timer);
          rl.close();
          resolve(m);
        }
      });
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`process exited with ${code} before printing ${re}\n${this.log.slice(-2000)}`));
      });
    });
  }

  /** `ristretto faas user add NAME [extra...]` (e.g. `--admin`) → the token it prints. */
  async addUser(name: string, extra: string[] = []): Promise<string> {
    const p = this.spawnCli(['user', 'add', name, '--db', this.db, ...extra]);
    const [, token] = await this.waitLine(p, /^(rst_\S+)$/);
    return token;
  }

  async startService(extra: string[] = [], port = 0): Promise<{ proc: ChildProcess; url: string; port: number }> {
    const proc = this.spawnCli(['serve', '--port', String(port), '--db', this.db, '--heartbeat', '1', ...extra]);
    const [, url] = await this.waitLine(proc, /^listening on (http:\/\/\S+)$/);
    return { proc, url: url, port: Number(new URL(url).port) };
  }

  async startEndpoint(
    url: string,
    token: string,
    name: string,
    extra: string[] = [],
  ): Promise<{ proc: ChildProcess; id: string }> {
    const proc = this.spawnCli(
      ['endpoint', 'start', '--service', url, '--name', name, '--cache-dir', join(this.dir, `cache-${name}`), ...extra],
      {
        RISTRETTO_TOKEN: token,
      },
    );
    const [, id] = await this.waitLine(proc, /attached id=(\S+)/);
    return { proc, id: id };
  }

  async kill(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  /** An endpoint gone for good: SIGKILL its agent and the agent's worker processes. */
  async killEndpoint(agent: ChildProcess): Promise<void> {
    const workers = agent.pid === undefined ? [] : childPids(agent.pid);
    await this.kill(agent, 'SIGKILL');
    for (const pid of workers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone with its agent */
      }
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.kill(c)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Endpoints that belong to one test: the returned function starts an agent for the calling test, and
 * an afterEach hook of the calling file SIGKILLs it with its workers. No test then waits for, or races,
 * another test's workers, queued tasks or cancelled runs. Every name may be used once per file: the
 * service keeps an endpoint's queue, counters and cache folder under its name.
 */
export function endpointsPerTest(
  procs: Procs,
): (url: string, token: string, name: string, extra?: string[]) => Promise<{ proc: ChildProcess; id: string }> {
  const live: ChildProcess[] = [];
  const used = new Set<string>();
  afterEach(async () => {
    await Promise.all(live.splice(0).map((p) => procs.killEndpoint(p)));
  });
  return async (url, token, name, extra = []) => {
    if (used.has(name)) throw new Error(`endpoint name ${name} is used by another test of this file`);
    used.add(name);
    const ep = await procs.startEndpoint(url, token, name, extra);
    live.push(ep.proc);
    return ep;
  };
}

/**
 * {@link endpointsPerTest} for a {@link LocalCluster} (given as a getter: files start it in beforeAll):
 * the endpoints a test starts are killed, with their process groups, after it.
 */
export function clusterEndpointsPerTest(
  cluster: () => LocalCluster,
): (name: string, o?: LocalEndpointOptions) => Promise<ChildProcess> {
  const live: string[] = [];
  const used = new Set<string>();
  afterEach(async () => {
    const c = cluster();
    await Promise.all(live.splice(0).map((n) => (c.endpoints.has(n) ? c.killEndpoint(n) : undefined)));
  });
  return async (name, o) => {
    if (used.has(name)) throw new Error(`endpoint name ${name} is used by another test of this file`);
    used.add(name);
    live.push(name);
    return cluster().startEndpoint(name, o);
  };
}

/** A service of one test file (see {@link restartableService}). */
export interface RestartableService {
  readonly procs: Procs;
  /** An admin's token (set in beforeAll). */
  readonly token: string;
  /** The URL of the running service (the same across restarts). */
  readonly url: string;
  /** SIGKILL the service (nothing shut down cleanly). */
  kill(): Promise<void>;
  /** Start it again on the same database and port. */
  restart(): Promise<void>;
  /** `GET /v1/metrics` of the running service, service-wide. */
  metrics(): Promise<Record<string, number>>;
}

/**
 * A service on its own database for the calling test file, restartable on the same port (agents and
 * clients find it again), with an admin user `user`: registers the file's beforeAll (start) and
 * afterAll (every child stopped, the folder removed).
 */
export function restartableService(user: string, hookTimeoutMs = 300_000): RestartableService {
  const procs = new Procs();
  let token = '';
  let svc: { proc: ChildProcess; url: string; port: number } | undefined;
  const running = () => {
    if (!svc) throw new Error('the service is not started (restartableService starts it in beforeAll)');
    return svc;
  };
  beforeAll(async () => {
    token = await procs.addUser(user, ['--admin']);
    svc = await procs.startService();
  }, hookTimeoutMs);
  afterAll(() => procs.cleanup());
  return {
    procs,
    get token() {
      return token;
    },
    get url() {
      return running().url;
    },
    kill: () => procs.kill(running().proc, 'SIGKILL'),
    restart: async () => {
      svc = await procs.startService([], running().port);
    },
    metrics: () => serviceMetrics(running().url, token),
  };
}

/** A service of one test file and its users (see {@link serviceWithUsers}). */
export interface FileService {
  readonly procs: Procs;
  /** The service's URL (set in beforeAll). */
  readonly url: string;
  /** The first user's token. */
  readonly token: string;
  /** Every user's token, by name. */
  readonly tokens: Readonly<Record<string, string>>;
  /** The service process. */
  readonly proc: ChildProcess;
  /** A client of the first user, made on first use and closed in afterAll. */
  readonly client: FaasClient;
}

/**
 * A service on its own database for the calling test file, with users `names` (and admin users
 * `admins`; `serve`: more `faas serve` options): registers the file's beforeAll (users, then the
 * service) and afterAll (the client closed, every child stopped, the folder removed).
 */
export function serviceWithUsers(
  names: string[],
  o: { admins?: string[]; serve?: string[]; hookTimeoutMs?: number } = {},
): FileService {
  const procs = new Procs();
  const tokens: Record<string, string> = {};
  let svc: { proc: ChildProcess; url: string } | undefined;
  let client: FaasClient | undefined;
  const running = () => {
    if (!svc) throw new Error('the service is not started (serviceWithUsers starts it in beforeAll)');
    return svc;
  };
  beforeAll(async () => {
    for (const name of names) tokens[name] = await procs.addUser(name);
    for (const name of o.admins ?? []) tokens[name] = await procs.addUser(name, ['--admin']);
    svc = await procs.startService(o.serve);
  }, o.hookTimeoutMs ?? 300_000);
  afterAll(async () => {
    await client?.close();
    await procs.cleanup();
  });
  return {
    procs,
    tokens,
    get url() {
      return running().url;
    },
    get token() {
      return tokens[names[0] ?? ''] ?? '';
    },
    get proc() {
      return running().proc;
    },
    get client() {
      client ??= new FaasClient({ serviceUrl: running().url, token: tokens[names[0] ?? ''] ?? '' });
      return client;
    },
  };
}

/** A raw `/v1/agent` WebSocket, as a hostile or scripted agent holds it. */
export interface AgentSocket {
  ws: WebSocket;
  /** The service's text messages, parsed, in order. */
  inbox: any[];
  /** Resolves with the close code. */
  closed: Promise<number>;
}

/** An agent socket of `token`'s user to the service at `url`; resolves once open. */
export async function agentSocket(url: string, token: string): Promise<AgentSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agent`, { headers: { authorization: `Bearer ${token}` } });
  const inbox: any[] = [];
  ws.on('message', (d, binary) => {
    if (!binary) inbox.push(JSON.parse(String(d)));
  });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, inbox, closed };
}

/** The text of an agent's hello for endpoint `name`: capacity 1, nothing cached or held, unless `o` says. */
export function agentHello(name: string, o: Partial<Omit<AgentHello, 'type' | 'name'>> = {}): string {
  const hello: AgentHello = {
    type: 'hello',
    name,
    capacity: 1,
    prefetch: 0,
    cached_hashes: [],
    holding: [],
    agent_version: 'test',
    hostname: 'h',
    ...o,
  };
  return JSON.stringify(hello);
}

/** `GET /v1/metrics` (with an admin's token: the service-wide counters). */
export async function serviceMetrics(url: string, token: string): Promise<Record<string, number>> {
  const res = await fetch(new URL('/v1/metrics', url), { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as Record<string, number>;
}

/**
 * Source of a task function for tail-copy tests (register it with `registerFunction`): it sleeps
 * `fastMs` on the endpoint named `fast` and 10 minutes anywhere else, so a run can only finish through
 * a copy there; a cancelled run ends at once (ctx.signal). Returns `{ y: factor × x, on: endpoint }`.
 */
export function stragglerSource(fast: string, fastMs: number, factor: number): string {
  return [
    'export default async (x, ctx) => {',
    `  const ms = ctx.endpoint === ${JSON.stringify(fast)} ? ${fastMs} : 600000;`,
    '  await new Promise((res) => {',
    '    const t = setTimeout(res, ms);',
    "    ctx.signal.addEventListener('abort', () => {",
    '      clearTimeout(t);',
    '      res();',
    '    });',
    '  });',
    `  return { y: ${factor} * x, on: ctx.endpoint };`,
    '};',
  ].join('\n');
}

/**
 * Tasks in flight to endpoint `name` once the service has sent what it will: polled until above zero,
 * then until unchanged for a second (for an agent that reads nothing, whose socket paces the service).
 */
export async function settledInFlight(client: FaasClient, name: string): Promise<number> {
  const inFlight = async () => (await client.listEndpoints()).find((e) => e.name === name)?.in_flight ?? 0;
  await until(async () => ((await inFlight()) > 0 ? true : undefined), `a first dispatch to ${name}`);
  let last = -1;
  return until(async () => {
    const n = await inFlight();
    if (n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 1000));
    return undefined;
  }, `dispatch to ${name} to settle`);
}

/** Poll until `check` returns a value (for waiting on observable state, never for timing asserts). */
export async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Live child processes of `pid` (an endpoint agent's workers), from /proc (Linux); with `cmdIncludes`,
 * only those whose command line contains it (e.g. `worker.ts`).
 */
export function childPids(pid: number, cmdIncludes?: string): number[] {
  const kids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== pid || state === 'Z') continue; // a zombie has exited already
      if (cmdIncludes !== undefined && !readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(cmdIncludes)) continue;
      kids.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return kids.sort((a, b) => a - b);
}
