// npx tsx bench/faas-big-answers.ts [--repo DIR] [--big-mib 8] [--repeats 600] [--heap-mib 1024]
//
// What large results asked for in bulk cost the FaaS service (issue 14): a real service, endpoint (one
// worker) and client on loopback; the service's peak resident memory (VmHWM, reset before each case),
// its CPU time (utime + stime) and whether it is still up, for each case:
//   answer-dups   — POST /v1/tasks/results listing one large result --repeats times;
//   watch-dups    — a stream watch listing it 100 times, from a client that reads nothing for 2 s;
//   watch-stalled — 4 watches of 20 large results, same client (reads after 2 s, then all of it);
//   run-http      — the client fetching a run of 24 x 6 MiB results (getBatchResult);
//   run-stream    — the same run over the result stream (results()).
// --repo: whose CLI runs the service and endpoint (default this checkout; another one, e.g. the commit
// before, for an A/B). The service runs with --max-old-space-size=--heap-mib, so a heap that would
// grow without bound ends early instead of taking the machine. Each case runs on a freshly started
// service (same database).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { FaasClient } from '../src/faas/client/index.ts';
import { decodeFrame } from '../src/faas/codec.ts';
import { waitLine } from './faas-procs.ts';
import { benchArgs, int, text } from './lib.ts';

const {
  repo: REPO,
  'big-mib': BIG_MIB,
  repeats: REPEATS,
  'heap-mib': HEAP_MIB,
} = benchArgs('What large results asked for in bulk cost the FaaS service.', {
  repo: text('checkout whose CLI runs the service', resolve(import.meta.dirname, '..'), '<dir>'),
  'big-mib': int('size of each large result, MiB', 8, 1),
  repeats: int('times the large result is listed in answer-dups', 600, 1),
  'heap-mib': int("the service's V8 heap limit, MiB", 1024, 64),
});
const MiB = 1024 * 1024;
const BIG = BIG_MIB * MiB;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cli = join(REPO, 'bin', 'ristretto.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ristretto-big-answers-'));
const db = join(dir, 'faas.db');
const procs: ChildProcess[] = [];

function faas(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const p = spawn(process.execPath, [cli, 'faas', ...args], {
    env: { ...process.env, RISTRETTO_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  procs.push(p);
  return p;
}

let service: ChildProcess | undefined;
let url = '';
let port = 0;
async function startService(): Promise<void> {
  service = faas(['serve', '--port', String(port), '--db', db, '--quiet'], {
    NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}`,
  });
  [, url = ''] = await waitLine(service, /^listening on (\S+)$/);
  port = Number(new URL(url).port);
}

function running(): ChildProcess {
  if (!service) throw new Error('the service is not started');
  return service;
}
function status(): string {
  return readFileSync(`/proc/${running().pid}/status`, 'utf8');
}
const kib = (s: string, key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
function cpuMs(): number {
  const stat = readFileSync(`/proc/${running().pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}
function alive(): boolean {
  return service !== undefined && service.exitCode === null && service.signalCode === null;
}

function post(path: string, body: string, token: string): Promise<{ status: number; bytes: number }> {
  return new Promise((res) => {
    const req = request(
      new URL(path, url),
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (r) => {
        let bytes = 0;
        r.on('data', (d: Buffer) => (bytes += d.length));
        r.on('end', () => res({ status: r.statusCode ?? 0, bytes }));
        r.on('error', () => res({ status: -1, bytes }));
      },
    );
    req.on('error', () => res({ status: -1, bytes: 0 }));
    req.end(body);
  });
}

/** Watch messages from a client that reads nothing for 2 s, then everything; outcome entries received. */
async function stalledWatch(token: string, messages: string[][]): Promise<{ entries: number; distinct: number }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${token}` },
    maxPayload: 4096 * MiB,
  });
  let socket: Socket | undefined;
  ws.on('upgrade', (r) => {
    socket = r.socket as Socket;
  });
  ws.on('error', () => {});
  const ids: string[] = [];
  ws.on('message', (data, binary) => {
    if (!binary) return;
    const { header } = decodeFrame<{ results: { task_id: string }[] }>(data as Buffer);
    for (const e of header.results) ids.push(e.task_id);
  });
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  socket?.pause();
  for (const m of messages) ws.send(JSON.stringify({ type: 'watch', task_ids: m }));
  await sleep(2000);
  socket?.resume();
  const want = messages.flat().length;
  const end = Date.now() + 60_000;
  while (alive() && ws.readyState === ws.OPEN && Date.now() < end) {
    const n = ids.length;
    await sleep(1000);
    if (ids.length === n && new Set(ids).size === new Set(messages.flat()).size) break;
    if (ids.length >= want) break;
  }
  ws.terminate();
  return { entries: ids.length, distinct: new Set(ids).size };
}

try {
  const [, token = ''] = await waitLine(faas(['user', 'add', 'bench', '--db', db]), /^(rst_\S+)$/);
  await startService();
  const endpoint = faas(
    ['endpoint', 'start', '--service', url, '--name', 'big', '--workers', '1', '--cache-dir', join(dir, 'c')],
    { RISTRETTO_TOKEN: token },
  );
  await waitLine(endpoint, /attached id=/);
  const fx = new FaasClient({ serviceUrl: url, token });
  const fn = await fx.registerFunction('export default (n) => "y".repeat(n);');
  const bigIds = await fx.batchRun(Array.from({ length: 20 }, () => ({ functionId: fn, endpoint: 'big', args: BIG })));
  const runIds = await fx.batchRun(
    Array.from({ length: 24 }, () => ({ functionId: fn, endpoint: 'big', args: 6 * MiB })),
  );
  for await (const o of fx.results([...bigIds, ...runIds])) if (o.error) throw o.error;
  await fx.close();

  const cases: [string, () => Promise<string>][] = [
    [
      'answer-dups',
      async () => {
        const r = await post('/v1/tasks/results', JSON.stringify({ task_ids: Array(REPEATS).fill(bigIds[0]) }), token);
        return `HTTP ${r.status}, ${(r.bytes / MiB).toFixed(1)} MiB`;
      },
    ],
    [
      'watch-dups',
      async () => {
        const r = await stalledWatch(token, [Array(100).fill(bigIds[0])]);
        return `${r.entries} outcomes sent`;
      },
    ],
    [
      'watch-stalled',
      async () => {
        const r = await stalledWatch(token, [bigIds, bigIds, bigIds, bigIds]);
        return `${r.entries} outcomes sent, ${r.distinct} distinct`;
      },
    ],
    [
      'run-http',
      async () => {
        const c = new FaasClient({ serviceUrl: url, token });
        const out = await c.getBatchResult(runIds);
        await c.close();
        return `${out.size} results`;
      },
    ],
    [
      'run-stream',
      async () => {
        const c = new FaasClient({ serviceUrl: url, token });
        let n = 0;
        for await (const o of c.results(runIds)) if (!o.error) n++;
        await c.close();
        return `${n} results`;
      },
    ],
  ];
  console.log('case           before MiB  peak +MiB  service CPU ms  wall ms  up    what');
  for (const [name, run] of cases) {
    // Each case on a fresh service process (same database): memory freed by V8 is not always
    // returned to the system, so the resident size after one case would hide the next one's growth.
    if (alive()) {
      const s = running();
      await new Promise<void>((r) => {
        s.once('exit', () => r());
        s.kill('SIGKILL');
      });
    }
    await startService();
    await sleep(500);
    writeFileSync(`/proc/${running().pid}/clear_refs`, '5');
    const before = kib(status(), 'VmRSS');
    const cpu0 = cpuMs();
    const t0 = performance.now();
    let what: string;
    let peak = 0;
    let cpu = 0;
    try {
      what = await run();
    } catch (e) {
      what = `failed: ${(e as Error).message.slice(0, 80)}`;
    }
    const wall = performance.now() - t0;
    if (alive()) {
      peak = kib(status(), 'VmHWM');
      cpu = cpuMs() - cpu0;
    }
    await sleep(300);
    const up = alive();
    console.log(
      `${name.padEnd(14)} ${(before / MiB).toFixed(0).padStart(10)}  ${up ? ((peak - before) / MiB).toFixed(0).padStart(9) : '     died'}  ${up ? cpu.toFixed(0).padStart(14) : '             -'}  ${wall.toFixed(0).padStart(7)}  ${up ? 'yes' : 'NO '}   ${what}`,
    );
  }
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
