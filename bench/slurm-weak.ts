/**
 * Weak scaling on an elastic Slurm endpoint whose blocks appear during the run: an endpoint with
 * `--min-blocks 0 --max-blocks N --workers-per-block 1` gets `perBlock × N` sleep tasks at once, with
 * no block running. The strategy submits blocks while tasks wait; each block's worker connects and
 * takes tasks. Reported per run: when each block's job was submitted (first seen in `squeue`) and
 * started running, relative to the first task's submission; tasks finished per second; makespan; and
 * the weak-scaling efficiency T(N=1) / T(N). Rounds are interleaved (N = 1, 2, 4, 1, 2, 4, ...), and
 * each waits until the previous blocks were released (idle timeout), so every run starts cold.
 * Needs a running Slurm (scripts/ci/setup-slurm.sh).
 *
 *     npx tsx bench/slurm-weak.ts [--reps 2] [--per-block 8] [--task-ms 1000] [--blocks 1,2,4]
 *
 * On a one-node test cluster Slurm runs at most as many 1-CPU blocks as the node has CPUs; blocks
 * beyond that stay pending (reported as such), which is what a full cluster does too.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaasClient } from '../src/faas/client/index.ts';
import { startFaas, startService, waitLine } from './faas-procs.ts';
import { benchArgs, int, ints } from './lib.ts';

const {
  reps,
  'per-block': perBlock,
  'task-ms': taskMs,
  blocks: sizes,
} = benchArgs('Weak scaling on an elastic Slurm endpoint whose blocks appear during the run.', {
  reps: int('repetitions per size', 2, 1),
  'per-block': int('sleep tasks per block', 8, 1),
  'task-ms': int('each task sleeps this long (ms)', 1000, 0),
  blocks: ints('numbers of blocks to try', [1, 2, 4], 1),
});
const dir = mkdtempSync(join(tmpdir(), 'ristretto-slurm-weak-'));
const procs: ChildProcess[] = [];
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => startFaas(procs, args, env);
const line = waitLine;

/** Jobs of an endpoint: id → state (PENDING, RUNNING, ...). */
function jobs(name: string): Map<string, string> {
  const out = execFileSync('squeue', ['-h', '--name', `ristretto-${name}`, '-o', '%i %T'], { encoding: 'utf8' }).trim();
  return new Map(out ? out.split('\n').map((l) => l.trim().split(/\s+/) as [string, string]) : []);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  blocks: number;
  rep: number;
  tasks: number;
  makespan: number;
  /** Per job: seconds from the first submission to first seen pending and running (null: never ran). */
  jobs: Array<{ id: string; seen: number; running: number | null }>;
  /** Tasks finished in each second of the run. */
  perSecond: number[];
}

async function main() {
  const db = join(dir, 'faas.db');
  const { url, token } = await startService(procs, db, ['--heartbeat', '1']);
  const env = { RISTRETTO_TOKEN: token };
  await Promise.all(
    sizes.map((n) =>
      line(
        run(
          [
            'endpoint',
            'start',
            '--service',
            url,
            '--name',
            `weak${n}`,
            '--cache-dir',
            join(dir, 'cache'),
            '--provider',
            'slurm',
            '--min-blocks',
            '0',
            '--max-blocks',
            String(n),
            '--workers-per-block',
            '1',
            '--idle-timeout',
            '2',
            '--block-dir',
            join(dir, `blocks-${n}`),
          ],
          env,
        ),
        /attached id=/,
      ),
    ),
  );
  const fx = new FaasClient({ serviceUrl: url, token: token });
  const fn = await fx.registerFunction(async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  });
  const results: RunResult[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const n of sizes) {
      const name = `weak${n}`;
      while (jobs(name).size > 0) await sleep(250); // the previous blocks were released: a cold start
      const tasks = perBlock * n;
      const t0 = performance.now();
      const ids = await fx.batchRun(
        Array.from({ length: tasks }, () => ({ functionId: fn, endpoint: name, args: taskMs })),
      );
      const seen = new Map<string, { seen: number; running: number | null }>();
      let finished = false;
      const watch = (async () => {
        while (!finished) {
          const now = (performance.now() - t0) / 1000;
          for (const [id, state] of jobs(name)) {
            const j = seen.get(id) ?? { seen: now, running: null };
            if (state === 'RUNNING' && j.running === null) j.running = now;
            seen.set(id, j);
          }
          await sleep(200);
        }
      })();
      const done: number[] = [];
      for await (const o of fx.results(ids)) {
        if (o.result !== taskMs)
          throw new Error(`task ${o.taskId}: ${o.error?.message ?? `wrong result ${String(o.result)}`}`);
        done.push((performance.now() - t0) / 1000);
      }
      finished = true;
      await watch;
      const makespan = Math.max(...done);
      const perSecond = Array.from(
        { length: Math.ceil(makespan) },
        (_, s) => done.filter((t) => t >= s && t < s + 1).length,
      );
      const r: RunResult = {
        blocks: n,
        rep,
        tasks,
        makespan,
        jobs: [...seen].map(([id, j]) => ({ id, ...j })),
        perSecond,
      };
      results.push(r);
      process.stderr.write(
        `max-blocks ${n} rep ${rep}: ${tasks} tasks in ${makespan.toFixed(2)} s; jobs ${r.jobs.map((j) => `${j.id}: seen ${j.seen.toFixed(1)} s, running ${j.running === null ? 'never' : `${j.running.toFixed(1)} s`}`).join('; ')}\n`,
      );
    }
  }
  await fx.close();
  const cpu = cpus()[0]?.model ?? '?';
  console.log(
    `${reps} interleaved rounds; ${perBlock} tasks of ${taskMs} ms per block; node ${process.version}; ${cpus().length} × ${cpu}; load at end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '| max blocks | tasks | makespan s (each rep) | ideal s | efficiency T(1)/T(N) | blocks started at s (first rep) | tasks/s per second (first rep) |',
  );
  console.log('| ---: | ---: | --- | ---: | ---: | --- | --- |');
  const mean = (n: number) => {
    const xs = results.filter((r) => r.blocks === n).map((r) => r.makespan);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  for (const n of sizes) {
    const rs = results.filter((r) => r.blocks === n);
    const first = rs[0];
    const starts = first.jobs.map((j) => (j.running === null ? 'pending' : j.running.toFixed(1))).join(', ');
    console.log(
      `| ${n} | ${first.tasks} | ${rs.map((r) => r.makespan.toFixed(2)).join(', ')} | ${((perBlock * taskMs) / 1000).toFixed(1)} | ${(mean(sizes[0]) / mean(n)).toFixed(3)} | ${starts} | ${first.perSecond.join(' ')} |`,
    );
  }
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
