// npx tsx bench/faas-http-turns.ts [--repo DIR] [--hostile 4] [--tasks 100000] [--arg-bytes 300] [--seconds 30]
//
// One user's heavy HTTP submissions against another user's small ones (issue 14): a real service on
// loopback (`ristretto faas serve` of --repo), users mallory and bob, an endpoint each that never
// connects (nothing runs: the cost is the service's alone). Mallory posts --tasks-task submissions
// (each task's args a string of --arg-bytes characters) on --hostile connections in a loop; bob posts
// one-task submissions one after another on his own keep-alive connection. Printed: bob's answer times
// (median, 90th percentile, max); how many of mallory's submissions were answered while one of bob's
// waited (his place in her queue: unlike times, independent of the machine's load); how many
// submissions each had answered; the service's CPU time (utime + stime) and whether it is still up.
// --repo: whose CLI runs the service (default this checkout; another one, e.g. the commit before, for an A/B).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCall, identityAndEndpoint, startServiceWithUsers, thisRepo } from './faas-procs.ts';
import { benchArgs, int, percentile, processCpuSeconds, text } from './lib.ts';

const {
  repo: REPO,
  hostile: HOSTILE,
  tasks: TASKS,
  'arg-bytes': ARG_BYTES,
  seconds: SECONDS,
} = benchArgs("One user's heavy HTTP submissions against another user's small ones.", {
  repo: text('checkout whose CLI runs the service', thisRepo, '<dir>'),
  hostile: int("mallory's connections, each posting submissions in a loop", 4, 1),
  tasks: int("tasks in each of mallory's submissions", 100_000, 1),
  'arg-bytes': int("characters of each of mallory's task arguments", 300, 0),
  seconds: int('how long bob submits', 30, 1),
});

const dir = mkdtempSync(join(tmpdir(), 'ristretto-http-turns-'));
const db = join(dir, 'faas.db');
const procs: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuMs = (pid: number) => 1000 * processCpuSeconds(pid);

let url = '';
const post = (path: string, body: string | Buffer, token: string, agent: Agent) =>
  httpCall(url, 'POST', path, token, agent, body);

const pct = percentile;

try {
  const { tokens, service, ...svc } = await startServiceWithUsers(procs, db, ['mallory', 'bob'], { repo: REPO });
  url = svc.url;
  const pid = service.pid ?? 0;
  const setup = new Agent({ keepAlive: true });
  const fns: Record<string, string> = {};
  for (const name of ['mallory', 'bob']) fns[name] = await identityAndEndpoint(url, name, tokens[name] ?? '', setup);
  const arg = 'x'.repeat(ARG_BYTES);
  const heavy = Buffer.from(
    JSON.stringify({
      function_id: fns.mallory,
      endpoint: 'mallory-ep',
      tasks: Array.from({ length: TASKS }, () => ({ args: arg })),
    }),
  );
  const light = JSON.stringify({ function_id: fns.bob, endpoint: 'bob-ep', tasks: [{ args: 1 }] });
  console.log(`mallory's body: ${(heavy.byteLength / 1024 / 1024).toFixed(1)} MiB, ${TASKS} tasks`);

  const cpu0 = cpuMs(pid);
  let stop = false;
  const malloryStatus = new Map<number, number>();
  /** Mallory's answers so far: how many arrive while one of bob's waits is his wait in her messages, whatever the load. */
  let malloryAnswers = 0;
  const hostile = Array.from({ length: HOSTILE }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    while (!stop) {
      const r = await post('/v1/tasks', heavy, tokens.mallory ?? '', agent);
      malloryAnswers++;
      malloryStatus.set(r.status, (malloryStatus.get(r.status) ?? 0) + 1);
      if (r.status === -1) await sleep(100);
    }
    agent.destroy();
  });
  // Mallory's first bodies are on their way before bob starts.
  await sleep(2000);
  const bobAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  const behind: number[] = [];
  const bobStatus = new Map<number, number>();
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const t = performance.now();
    const before = malloryAnswers;
    const r = await post('/v1/tasks', light, tokens.bob ?? '', bobAgent);
    times.push(performance.now() - t);
    behind.push(malloryAnswers - before);
    bobStatus.set(r.status, (bobStatus.get(r.status) ?? 0) + 1);
    await sleep(100);
  }
  stop = true;
  await Promise.all(hostile);
  const cpu = cpuMs(pid) - cpu0;
  const up = service.exitCode === null && service.signalCode === null;
  const fmt = (m: Map<number, number>) => [...m].map(([s, n]) => `${n}×${s}`).join(' ');
  console.log(
    `bob: ${times.length} submissions (${fmt(bobStatus)}), answer ms median ${pct(times, 50).toFixed(0)}, p90 ${pct(times, 90).toFixed(0)}, max ${Math.max(...times).toFixed(0)}`,
  );
  console.log(
    `mallory's answers while one of bob's waited: median ${pct(behind, 50)}, p90 ${pct(behind, 90)}, max ${Math.max(...behind)}`,
  );
  console.log(`mallory: ${fmt(malloryStatus)}; service CPU ${(cpu / 1000).toFixed(1)} s; up: ${up}`);
  bobAgent.destroy();
  setup.destroy();
} finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
