/**
 * Time from a task's submission to its start on an elastic Slurm endpoint: with no block running
 * (the strategy must sbatch one and its worker must start and connect) and with a warm block; a
 * forked local endpoint for reference. Rounds are interleaved (cold, warm, local), so load drift hits
 * all three alike. Needs a running Slurm (scripts/ci/setup-slurm.sh).
 *
 *     npx tsx bench/slurm-startup.ts [--reps 5]
 *
 * "submit → start" is the service's submitted_at to the worker's started_at for one trivial task.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaasClient } from '../src/faas/client/index.ts';
import { startFaas, startService, waitLine } from './faas-procs.ts';
import { benchArgs, int } from './lib.ts';

const { reps } = benchArgs('Submission to start of a task on an elastic Slurm endpoint: cold, warm and local.', {
  reps: int('rounds', 5, 1),
});
const dir = mkdtempSync(join(tmpdir(), 'ristretto-slurm-bench-'));
const procs: ChildProcess[] = [];
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => startFaas(procs, args, env);
const line = waitLine;

const jobs = (name: string) =>
  execFileSync('squeue', ['-h', '--name', `ristretto-${name}`, '-o', '%i'], { encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const db = join(dir, 'faas.db');
  const { url, token } = await startService(procs, db, ['--heartbeat', '1']);
  const env = { RISTRETTO_TOKEN: token };
  const ep = (name: string, extra: string[]) =>
    line(
      run(['endpoint', 'start', '--service', url, '--name', name, '--cache-dir', join(dir, 'cache'), ...extra], env),
      /attached id=/,
    );
  await Promise.all([
    ep('cold', ['--provider', 'slurm', '--max-blocks', '1', '--idle-timeout', '1']),
    ep('warm', ['--provider', 'slurm', '--min-blocks', '1', '--max-blocks', '1']),
    ep('local', []),
  ]);
  const fx = new FaasClient({ serviceUrl: url, token: token });
  const fn = await fx.registerFunction((x: number) => x + 1);
  const once = async (endpoint: string) => {
    const [id] = await fx.batchRun([{ functionId: fn, endpoint, args: 1 }]);
    for await (const o of fx.results([id])) if (o.result !== 2) throw new Error(`wrong result ${String(o.result)}`);
    const t = await fx.getTask(id);
    return t.started_at! - t.submitted_at;
  };
  // Warm-up: the warm block is up and every endpoint has the function cached.
  while (!jobs('warm')) await sleep(200);
  await once('warm');
  await once('local');
  const times: Record<string, number[]> = { cold: [], warm: [], local: [] };
  for (let r = 0; r < reps; r++) {
    while (jobs('cold')) await sleep(200); // the cold endpoint's block was released (idle 1 s)
    times.cold.push(await once('cold'));
    times.warm.push(await once('warm'));
    times.local.push(await once('local'));
  }
  await fx.close();
  const cpu = execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], {
    encoding: 'utf8',
  }).trim();
  console.log(
    `${reps} interleaved rounds; node ${process.version}; ${cpu}; load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log('| endpoint | submit → start, median ms | min | max |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [k, v] of Object.entries(times))
    console.log(`| ${k} | ${median(v)} | ${Math.min(...v)} | ${Math.max(...v)} |`);
}

try {
  await main();
} finally {
  // SIGTERM: the Slurm endpoints cancel their blocks before exiting.
  await Promise.all(
    procs.map((p) => (p.exitCode === null ? new Promise((r) => (p.once('exit', r), p.kill('SIGTERM'))) : undefined)),
  );
  rmSync(dir, { recursive: true, force: true });
}
