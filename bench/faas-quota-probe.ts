// npx tsx bench/faas-quota-probe.ts [--repo DIR] [--mode probe|cost] [--tasks 20000] [--seconds 60] [--serve '--max-open-tasks 0']
//
// What one user can do to a shared service (issue 14), on loopback with `ristretto faas serve` of --repo
// (default this checkout; another one, e.g. the commit before, for an A/B). Users mallory and alice, an
// endpoint each that never connects: nothing runs, submitted tasks stay waiting.
//
// --mode probe: mallory posts --tasks-task submissions over HTTP in a loop for --seconds while alice
//   posts one-task submissions one after another (100 ms apart). Printed: mallory's answers by status,
//   the tasks waiting and the database size (with its WAL) at the end, alice's answer times (median,
//   90th percentile, max) and the service's CPU time (utime + stime).
// --mode cost: the service's CPU time per submission of each size in --sizes (interleaved, --reps
//   rounds), the submission cost MAX_BATCH_TASKS bounds (one turn of the service's only thread).
// --serve: more `serve` options, e.g. '--max-open-tasks 0' for the service without a quota.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCall, identityAndEndpoint, startServiceWithUsers, thisRepo } from './faas-procs.ts';
import { benchArgs, choice, int, ints, percentile, processCpuSeconds, text } from './lib.ts';

const o = benchArgs("What one user's submissions cost a shared FaaS service, and what they leave behind.", {
  repo: text('checkout whose CLI runs the service', thisRepo, '<dir>'),
  mode: choice('probe: a hostile loop against another user; cost: CPU per submission', ['probe', 'cost'], 'probe'),
  tasks: int("tasks in each of mallory's submissions (probe)", 20_000, 1),
  seconds: int('how long mallory submits (probe)', 60, 1),
  sizes: ints('submission sizes (cost)', [10_000, 20_000, 100_000], 1),
  reps: int('rounds over --sizes (cost)', 5, 1),
  serve: text('more `faas serve` options', '', '<options>'),
});

const dir = mkdtempSync(join(tmpdir(), 'ristretto-quota-probe-'));
const db = join(dir, 'faas.db');
const procs: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cpuMs = (pid: number) => 1000 * processCpuSeconds(pid);

function bytesOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

let url = '';
const call = (method: string, path: string, token: string, agent: Agent, body?: string | Buffer) =>
  httpCall(url, method, path, token, agent, body);

const pct = percentile;

/** A submission body of `n` tasks of `user` (one small argument each, as in the session 14 probe). */
function body(fn: string, endpoint: string, n: number): Buffer {
  return Buffer.from(
    JSON.stringify({ function_id: fn, endpoint, tasks: Array.from({ length: n }, (_, i) => ({ args: i })) }),
  );
}

try {
  const { tokens, service, ...svc } = await startServiceWithUsers(procs, db, ['mallory', 'alice'], {
    extra: o.serve.split(' ').filter(Boolean),
    repo: o.repo,
  });
  url = svc.url;
  const pid = service.pid ?? 0;
  const setup = new Agent({ keepAlive: true });
  const fns: Record<string, string> = {};
  for (const name of ['mallory', 'alice']) fns[name] = await identityAndEndpoint(url, name, tokens[name] ?? '', setup);
  const mallory = tokens.mallory ?? '';

  if (o.mode === 'cost') {
    const bodies = new Map(o.sizes.map((n) => [n, body(fns.mallory ?? '', 'mallory-ep', n)]));
    const cpu = new Map<number, number[]>(o.sizes.map((n) => [n, []]));
    const wall = new Map<number, number[]>(o.sizes.map((n) => [n, []]));
    for (let r = 0; r < o.reps; r++)
      for (const n of o.sizes) {
        const c0 = cpuMs(pid);
        const t0 = performance.now();
        const res = await call('POST', '/v1/tasks', mallory, setup, bodies.get(n));
        if (res.status !== 200) throw new Error(`${n} tasks: ${res.status} ${res.text.slice(0, 300)}`);
        wall.get(n)?.push(performance.now() - t0);
        cpu.get(n)?.push(cpuMs(pid) - c0);
      }
    for (const n of o.sizes)
      console.log(
        `${n} tasks (${((bodies.get(n)?.byteLength ?? 0) / 1024 / 1024).toFixed(1)} MiB): service CPU median ${pct(cpu.get(n) ?? [], 50)} ms (min ${Math.min(...(cpu.get(n) ?? []))}), answer median ${pct(wall.get(n) ?? [], 50).toFixed(0)} ms`,
      );
  } else {
    const heavy = body(fns.mallory ?? '', 'mallory-ep', o.tasks);
    const light = JSON.stringify({ function_id: fns.alice, endpoint: 'alice-ep', tasks: [{ args: 1 }] });
    const cpu0 = cpuMs(pid);
    let stop = false;
    const statuses = new Map<number, number>();
    const hostile = (async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (!stop) {
        const r = await call('POST', '/v1/tasks', mallory, agent, heavy);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === -1) await sleep(100);
      }
      agent.destroy();
    })();
    const aliceAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const times: number[] = [];
    const end = Date.now() + o.seconds * 1000;
    let aliceFailed = 0;
    while (Date.now() < end) {
      const t = performance.now();
      const r = await call('POST', '/v1/tasks', tokens.alice ?? '', aliceAgent, light);
      times.push(performance.now() - t);
      if (r.status !== 200) aliceFailed++;
      await sleep(100);
    }
    stop = true;
    await hostile;
    const cpu = cpuMs(pid) - cpu0;
    // A new connection: the setup one may have been closed by the service while idle.
    const m = await call('GET', '/v1/metrics', mallory, new Agent());
    if (m.status !== 200) throw new Error(`metrics: ${m.status} ${m.text.slice(0, 300)}`);
    const waiting = JSON.parse(m.text).tasks_by_state?.['waiting-for-endpoint'] ?? 0;
    const dbBytes = bytesOf(db) + bytesOf(`${db}-wal`);
    console.log(
      `mallory: ${o.tasks}-task submissions for ${o.seconds} s; answers ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ')}`,
    );
    console.log(`after: mallory's waiting tasks ${waiting}, database + WAL ${(dbBytes / 1024 / 1024).toFixed(0)} MB`);
    console.log(
      `alice: ${times.length} one-task submissions (${aliceFailed} refused), answer median ${pct(times, 50).toFixed(0)} ms, p90 ${pct(times, 90).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
    );
    console.log(`service CPU ${(cpu / 1000).toFixed(1)} s in ${o.seconds} s; still up: ${service.exitCode === null}`);
  }
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
