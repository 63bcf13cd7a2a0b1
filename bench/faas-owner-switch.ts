// npx tsx bench/faas-owner-switch.ts [--reps 5] [--tasks 20]
//
// What a worker per user costs on a shared endpoint (issue 14): an endpoint with one worker, shared
// with alice and mallory; tiny tasks one after the other, A/B taking turns in one run: all of alice's
// ("same": the warm worker runs them all) vs alternating alice / mallory ("switch": each task of the
// other user restarts the worker first). Wall ms per task (median over reps) and CPU s of the endpoint
// (agent, its reaped workers and the live one, from /proc: Linux).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaasClient } from '../src/faas/client/index.ts';
import { benchArgs, int } from './lib.ts';
import { startFaas, startService, waitLine } from './faas-procs.ts';

const { reps: REPS, tasks: TASKS } = benchArgs('Wall and CPU cost of switching a shared worker between users.', {
  reps: int('runs per variant', 5, 1),
  tasks: int('tasks per run', 20, 2),
});

const dir = mkdtempSync(join(tmpdir(), 'faas-owner-switch-'));
const db = join(dir, 'faas.db');
const procs: ChildProcess[] = [];

function stat(pid: number): number[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s
    .slice(s.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
}

/** CPU s of the agent, its reaped children and its live ones. */
function endpointCpu(pid: number): number {
  const f = stat(pid);
  let ticks = f[11] + f[12] + f[13] + f[14];
  for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      const c = stat(Number(t));
      ticks += c[11] + c[12];
    } catch {
      // ended meanwhile: counted with the agent once reaped
    }
  }
  return ticks / 100;
}

async function user(name: string): Promise<string> {
  const [, token = ''] = await waitLine(startFaas(procs, ['user', 'add', name, '--db', db]), /^(rst_\S+)$/);
  return token;
}

try {
  const aliceToken = await user('alice');
  const malloryToken = await user('mallory');
  const { url, token } = await startService(procs, db, ['--heartbeat', '1']);
  const alice = new FaasClient({ serviceUrl: url, token: aliceToken });
  const mallory = new FaasClient({ serviceUrl: url, token: malloryToken });
  const fa = await alice.registerFunction('export default (x) => x;');
  const fm = await mallory.registerFunction('export default (x) => x + 1;');
  const agent = startFaas(
    procs,
    [
      'endpoint',
      'start',
      '--service',
      url,
      '--name',
      'shared',
      '--workers',
      '1',
      '--share-with',
      'alice,mallory',
      '--allow-function',
      `${fa},${fm}`,
      '--cache-dir',
      join(dir, 'cache'),
    ],
    { RISTRETTO_TOKEN: token },
  );
  await waitLine(agent, /attached id=/);
  const ep = 'bench/shared';
  await alice.submit(fa, ep, 0);
  await mallory.submit(fm, ep, 0);
  const out: Record<string, { ms: number[]; cpu: number[] }> = {
    same: { ms: [], cpu: [] },
    switch: { ms: [], cpu: [] },
  };
  for (let r = 0; r < REPS; r++) {
    for (const v of r % 2 ? (['switch', 'same'] as const) : (['same', 'switch'] as const)) {
      const cpu0 = endpointCpu(agent.pid!);
      const t0 = performance.now();
      for (let i = 0; i < TASKS; i++) {
        if (v === 'switch' && i % 2) await mallory.submit(fm, ep, i);
        else await alice.submit(fa, ep, i);
      }
      out[v].ms.push((performance.now() - t0) / TASKS);
      out[v].cpu.push(endpointCpu(agent.pid!) - cpu0);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const [v, o] of Object.entries(out))
    console.log(
      `${v.padEnd(6)} ${med(o.ms).toFixed(1)} ms/task (runs: ${o.ms.map((x) => x.toFixed(1)).join(', ')}); endpoint CPU ${med(o.cpu).toFixed(2)} s per ${TASKS} tasks`,
    );
  await alice.close();
  await mallory.close();
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
