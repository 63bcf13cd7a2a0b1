// npx tsx bench/faas-service-bounds.ts [--repo DIR] [--cases parse,results,endpoints] [--mb 60]
//   [--stored 100000] [--endpoints 2000] [--owners 10] [--submits 20]
//
// What single requests of one user cost the service's only thread, and another user, before and after
// the bounds of issue 14 (probes D4, D8, D9). A real service on loopback (`ristretto faas serve` of
// --repo), users mallory and bob, an endpoint each that never connects (nothing runs). Three cases:
// - parse: mallory posts one body of --mb MiB of `{},` (one task's arguments) while bob asks
//   `GET /v1/whoami` one after another: the service's CPU for it, when mallory is answered, bob's
//   longest wait.
// - results: mallory stores --stored waiting tasks (10,000 per submission), then asks for their
//   results in one request: the service's CPU for that request.
// - endpoints: --owners users register --endpoints public endpoints between them (as many as they
//   are let), then bob submits --submits one-task submissions naming his endpoint: the service's CPU
//   per submission, and for bob's endpoint list.
// The service's CPU is utime + stime from /proc (10 ms ticks). --repo: whose CLI runs the service
// (default this checkout; another one, e.g. the commit before, for an A/B).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCall, identityAndEndpoint, startServiceWithUsers, thisRepo } from './faas-procs.ts';
import { benchArgs, int, processCpuSeconds, text } from './lib.ts';

const {
  repo: REPO,
  cases: CASES,
  mb: MB,
  stored: STORED,
  endpoints: ENDPOINTS,
  owners: OWNERS,
  submits: SUBMITS,
} = benchArgs("What one user's single requests cost the service and another user.", {
  repo: text('checkout whose CLI runs the service', thisRepo, '<dir>'),
  cases: text('which cases to run, comma-separated', 'parse,results,endpoints', '<list>'),
  mb: int("MiB of mallory's body of empty objects", 60, 1),
  stored: int("mallory's waiting tasks whose results she asks for", 100_000, 1),
  endpoints: int('public endpoints the owners try to register between them', 2000, 0),
  owners: int('users registering those endpoints', 10, 1),
  submits: int("bob's submissions by name", 20, 1),
});

const dir = mkdtempSync(join(tmpdir(), 'ristretto-service-bounds-'));
const db = join(dir, 'faas.db');
const procs: ChildProcess[] = [];

const cpuMs = (pid: number) => 1000 * processCpuSeconds(pid);

let url = '';
const call = (method: string, path: string, body: string | undefined, token: string, agent: Agent) =>
  httpCall(url, method, path, token, agent, body);

try {
  const owners = Array.from({ length: OWNERS }, (_, i) => `owner${i}`);
  const { tokens, service, ...svc } = await startServiceWithUsers(procs, db, ['mallory', 'bob', ...owners], {
    repo: REPO,
  });
  url = svc.url;
  const cases = new Set(CASES.split(','));
  const pid = service.pid ?? 0;
  const m = new Agent({ keepAlive: true, maxSockets: 1 });
  const b = new Agent({ keepAlive: true, maxSockets: 1 });
  const fns: Record<string, string> = {};
  fns.mallory = await identityAndEndpoint(url, 'mallory', tokens.mallory ?? '', m);
  fns.bob = await identityAndEndpoint(url, 'bob', tokens.bob ?? '', b);
  const short = (t: string) => t.slice(0, 140).replace(/\s+/g, ' ');

  let c0 = 0;
  let t0 = 0;
  // parse
  if (cases.has('parse')) {
    const body = `{"function_id":"${fns.mallory}","endpoint":"mallory-ep","tasks":[{"args":[${'{},'.repeat(Math.floor((MB * 1048576 - 200) / 3))}0]}]}`;
    c0 = cpuMs(pid);
    t0 = performance.now();
    let done = false;
    const hostile = call('POST', '/v1/tasks', body, tokens.mallory ?? '', m).then((r) => {
      done = true;
      return { ...r, ms: performance.now() - t0 };
    });
    let bobMax = 0;
    let bobN = 0;
    while (!done) {
      const t = performance.now();
      await call('GET', '/v1/whoami', undefined, tokens.bob ?? '', b);
      bobMax = Math.max(bobMax, performance.now() - t);
      bobN++;
    }
    const h = await hostile;
    console.log(
      `parse: ${MB} MiB of {}: answered ${h.status} after ${(h.ms / 1000).toFixed(1)} s (${short(h.text)}); service CPU ${((cpuMs(pid) - c0) / 1000).toFixed(2)} s; bob's whoami: ${bobN} answered, longest ${bobMax.toFixed(0)} ms`,
    );
  }

  // results
  if (cases.has('results')) {
    const ids: string[] = [];
    for (let i = 0; i < STORED; i += 10_000) {
      const n = Math.min(10_000, STORED - i);
      const tasks = Array.from({ length: n }, () => ({ args: 1 }));
      const s = await call(
        'POST',
        '/v1/tasks',
        JSON.stringify({ function_id: fns.mallory, endpoint: 'mallory-ep', tasks }),
        tokens.mallory ?? '',
        m,
      );
      if (s.status !== 200) throw new Error(`mallory's submission: ${s.status} ${short(s.text)}`);
      ids.push(...(JSON.parse(s.text).task_ids as string[]));
    }
    c0 = cpuMs(pid);
    t0 = performance.now();
    const r = await call('POST', '/v1/tasks/results', JSON.stringify({ task_ids: ids }), tokens.mallory ?? '', m);
    console.log(
      `results: ${ids.length} ids of waiting tasks: answered ${r.status} after ${(performance.now() - t0).toFixed(0)} ms (${short(r.text)}); service CPU ${((cpuMs(pid) - c0) / 1000).toFixed(2)} s`,
    );
  }

  // endpoints
  if (cases.has('endpoints')) {
    let registered = 0;
    let refusal = '';
    for (const owner of owners) {
      for (let i = 0; i < ENDPOINTS / OWNERS; i++) {
        const e = await call(
          'POST',
          '/v1/endpoints',
          JSON.stringify({ name: `m-${i}`, sharing: { visibility: 'public' } }),
          tokens[owner] ?? '',
          m,
        );
        if (e.status !== 200) {
          refusal = `${e.status} ${short(e.text)}`;
          break;
        }
        registered++;
      }
    }
    const light = JSON.stringify({ function_id: fns.bob, endpoint: 'bob-ep', tasks: [{ args: 1 }] });
    c0 = cpuMs(pid);
    t0 = performance.now();
    for (let i = 0; i < SUBMITS; i++) {
      const s = await call('POST', '/v1/tasks', light, tokens.bob ?? '', b);
      if (s.status !== 200) throw new Error(`bob's submission: ${s.status} ${s.text}`);
    }
    const perCpu = (cpuMs(pid) - c0) / SUBMITS;
    const perWall = (performance.now() - t0) / SUBMITS;
    c0 = cpuMs(pid);
    const list = await call('GET', '/v1/endpoints', undefined, tokens.bob ?? '', b);
    console.log(
      `endpoints: ${OWNERS} users registered ${registered} public${refusal ? ` (a refusal: ${refusal})` : ''}; bob's submission by name: ${perCpu.toFixed(1)} ms service CPU, ${perWall.toFixed(1)} ms wall each; bob's endpoint list: ${list.text.length} bytes, ${((cpuMs(pid) - c0) / 1000).toFixed(2)} s service CPU`,
    );
  }
  m.destroy();
  b.destroy();
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
