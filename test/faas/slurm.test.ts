/**
 * Elastic endpoints on a real Slurm scheduler (scripts/ci/setup-slurm.sh starts a one-node cluster):
 * blocks are sbatch jobs whose workers connect back to the endpoint agent. Nothing is simulated: jobs
 * are submitted, listed with squeue and cancelled with scancel. With CI=true and no Slurm these tests
 * fail; elsewhere they are skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { encode } from '../../src/accumulate/index.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { Procs, until } from './helpers.ts';

function slurmState(): string | undefined {
  try {
    const s = execFileSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', timeout: 20_000 });
    return /idle|mix|alloc|comp/.test(s) ? undefined : `sinfo shows no usable node (${s.trim() || 'no output'})`;
  } catch (e) {
    return `Slurm is not running here (sinfo: ${(e as Error).message.split('\n')[0]})`;
  }
}

const notUp = slurmState();
const inCI = process.env.CI === 'true' || process.env.CI === '1';

if (notUp && inCI) {
  describe('Slurm endpoint provider', () => {
    it('needs a running Slurm in CI', () => {
      throw new Error(`${notUp}: .ci/run starts it with scripts/ci/setup-slurm.sh`);
    });
  });
} else if (notUp) {
  describe.skip(`Slurm endpoint provider — skipped: ${notUp}; run scripts/ci/setup-slurm.sh (root) to test`, () => {
    it('skipped', () => {});
  });
}

/** This endpoint's jobs that Slurm still lists (pending, running, completing), as `id state`. */
function jobs(endpoint: string): string[] {
  const out = execFileSync('squeue', ['-h', '--name', `ristretto-${endpoint}`, '-o', '%i %T'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const QUERY = `${repoRoot}/processors/adl/query-5.ts`;

describe.skipIf(notUp !== undefined)('Slurm endpoint provider (real scheduler)', () => {
  const procs = new Procs();
  let token = '';
  let url = '';
  let fx: FaasClient;

  beforeAll(async () => {
    token = await procs.addUser('hpc');
    url = (await procs.startService()).url;
    fx = new FaasClient({ serviceUrl: url, token });
  }, 120_000);

  afterAll(async () => {
    await fx?.close();
    await procs.cleanup();
    // Whatever a failed case left behind must not hold the node for the next one.
    for (const name of ['hpc-a', 'hpc-b', 'hpc-c', 'hpc-d']) {
      const ids = jobs(name).map((l) => l.split(' ')[0]);
      if (ids.length) execFileSync('scancel', ids);
    }
  });

  const slurm = (extra: string[]) => ['--provider', 'slurm', '--partition', 'debug', ...extra];

  it('submits blocks only when work waits, runs tasks in them, and releases them after the idle timeout', async () => {
    const ep = await procs.startEndpoint(
      url,
      token,
      'hpc-a',
      slurm(['--max-blocks', '2', '--workers-per-block', '1', '--idle-timeout', '2']),
    );
    // Several strategy rounds with nothing to do: no job.
    await sleep(3000);
    expect(jobs('hpc-a')).toEqual([]);

    const fn = await fx.registerFunction(async (a: { v: number; ms: number }) => {
      await new Promise((r) => setTimeout(r, a.ms));
      return { sq: a.v * a.v, job: process.env.SLURM_JOB_ID ?? null };
    });
    const seen = new Set<string>();
    const watch = setInterval(() => {
      for (const l of jobs('hpc-a')) seen.add(l.split(' ')[0]);
    }, 200);
    let out: { sq: number; job: string | null }[];
    try {
      const ids = await fx.batchRun(
        Array.from({ length: 8 }, (_, v) => ({ functionId: fn, endpoint: 'hpc-a', args: { v, ms: 300 } })),
      );
      const got = new Map<string, { sq: number; job: string | null }>();
      for await (const o of fx.results(ids)) {
        expect(o.error).toBeUndefined();
        got.set(o.taskId, o.result as { sq: number; job: string | null });
      }
      out = ids.map((id) => got.get(id)!);
    } finally {
      clearInterval(watch);
    }
    expect(out.map((r) => r.sq)).toEqual([0, 1, 4, 9, 16, 25, 36, 49]);
    // Every task ran inside a Slurm job of this endpoint, and no more than --max-blocks of them.
    const ran = new Set(out.map((r) => r.job));
    expect(ran.has(null)).toBe(false);
    for (const j of ran) expect(seen.has(j!) || /^\d+$/.test(j!)).toBe(true);
    expect(ran.size).toBeLessThanOrEqual(2);
    expect(ran.size).toBeGreaterThanOrEqual(1);

    // Idle for longer than --idle-timeout: the blocks are cancelled.
    await until(async () => (jobs('hpc-a').length === 0 ? true : undefined), 'idle blocks released', 90_000);
    expect(procs.log).toMatch(/releasing block \S+ \(job \d+\): idle/);
    await procs.kill(ep.proc, 'SIGTERM');
  }, 180_000);

  it('ADL query 5 over 2 M events is exact through Slurm blocks, also when a block is scancelled mid-run', async () => {
    // 200 datasets over the 10,000-event CMS file: 2 M events, 200 chunks.
    const file = sharedPath('data', 'Run2012B_SingleMu_10000.root');
    const fileset: Dataset[] = Array.from({ length: 200 }, (_, i) => ({
      name: `d${i}`,
      files: [{ path: file, tree: 'Events' }],
      metadata: {},
    }));
    const threads = new ThreadsExecutor({ workers: 2 });
    let ref;
    try {
      ref = await runAnalysis({ fileset, processor: QUERY, executor: threads, chunksize: 10_000, cacheFile: false });
    } finally {
      await threads.close();
    }
    expect(ref.metrics.events).toBe(2_000_000);

    const ep = await procs.startEndpoint(
      url,
      token,
      'hpc-b',
      slurm(['--max-blocks', '2', '--workers-per-block', '1', '--idle-timeout', '60']),
    );
    process.env.RISTRETTO_TOKEN = token;
    const ex = await FaasExecutor.connect({ service: url, endpoints: ['hpc-b'], pollSeconds: 0.25 });
    let cancelled: string | undefined;
    // Cancel the first block that runs while chunks are being processed.
    const timer = setInterval(() => {
      if (cancelled) return;
      const p = ex.progress().find((e) => e.name === 'hpc-b');
      const running = jobs('hpc-b').find((l) => l.endsWith('RUNNING'));
      if (p && p.done >= 5 && p.running >= 1 && running) {
        cancelled = running.split(' ')[0];
        execFileSync('scancel', [cancelled]);
      }
    }, 100);
    try {
      const r = await runAnalysis({ fileset, processor: QUERY, executor: ex, chunksize: 10_000, cacheFile: false });
      expect(cancelled).toBeDefined();
      expect(r.metrics.events).toBe(2_000_000);
      expect(r.metrics.chunks).toBe(200);
      expect(Buffer.from(encode(r.accumulator)).equals(Buffer.from(encode(ref.accumulator)))).toBe(true);
    } finally {
      clearInterval(timer);
      await ex.close();
    }
    // The agent saw the block end and went on with a replacement.
    expect(procs.log).toMatch(new RegExp(`job ${cancelled}\\) ended: `));

    // Block workers run merge groups as one task each (the same chunk function): one file in 20
    // chunks, whose first groups go out as batches on the endpoint's 2 slots.
    const one: Dataset[] = [{ name: 'one', files: [{ path: file, tree: 'Events' }], metadata: {} }];
    const ref1 = await runAnalysis({
      fileset: one,
      processor: QUERY,
      executor: 'iterative',
      chunksize: 500,
      cacheFile: false,
    });
    const ex1 = await FaasExecutor.connect({ service: url, endpoints: ['hpc-b'], pollSeconds: 0.25 });
    try {
      const r = await runAnalysis({ fileset: one, processor: QUERY, executor: ex1, chunksize: 500, cacheFile: false });
      expect(r.metrics.chunks).toBe(20);
      expect(Buffer.from(encode(r.accumulator)).equals(Buffer.from(encode(ref1.accumulator)))).toBe(true);
      expect(ex1.faas.batches).toBeGreaterThan(0);
    } finally {
      await ex1.close();
    }
    await procs.kill(ep.proc, 'SIGTERM');
    await until(async () => (jobs('hpc-b').length === 0 ? true : undefined), 'no jobs left after SIGTERM', 60_000);
  }, 600_000);

  it('a scancelled block: its running tasks are reported lost and run again in a replacement block', async () => {
    const ep = await procs.startEndpoint(
      url,
      token,
      'hpc-c',
      slurm(['--max-blocks', '1', '--workers-per-block', '2', '--idle-timeout', '60']),
    );
    const fn = await fx.registerFunction(async (a: { v: number; ms: number }) => {
      await new Promise((r) => setTimeout(r, a.ms));
      return { v: a.v * 3, job: process.env.SLURM_JOB_ID ?? null };
    });
    const ids = await fx.batchRun(
      Array.from({ length: 6 }, (_, v) => ({ functionId: fn, endpoint: 'hpc-c', args: { v, ms: 1500 } })),
    );
    // Once a task runs in the block, cancel the block.
    const first = await until(
      async () => {
        for (const id of ids)
          if ((await fx.getTask(id)).state === 'running') return jobs('hpc-c').find((l) => l.endsWith('RUNNING'));
        return undefined;
      },
      'a task running in a block',
      120_000,
    );
    const job = first.split(' ')[0];
    execFileSync('scancel', [job]);
    const got = new Map<string, { v: number; job: string | null }>();
    const attempts: number[] = [];
    for await (const o of fx.results(ids)) {
      expect(o.error).toBeUndefined();
      got.set(o.taskId, o.result as { v: number; job: string | null });
      attempts.push(o.attempts);
    }
    expect(ids.map((id) => got.get(id)!.v)).toEqual([0, 3, 6, 9, 12, 15]);
    // At least one task was running when its block went: it ran a second time, elsewhere.
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
    const jobsRan = new Set(ids.map((id) => got.get(id)!.job));
    expect([...jobsRan].some((j) => j !== job && j !== null)).toBe(true);
    await procs.kill(ep.proc, 'SIGINT');
    await until(async () => (jobs('hpc-c').length === 0 ? true : undefined), 'no jobs left after SIGINT', 60_000);
  }, 300_000);

  it('SIGTERM of the endpoint cancels its blocks, running and pending', async () => {
    // Two blocks of 2 cores on a 2-core node: one runs, one waits in the queue.
    const ep = await procs.startEndpoint(
      url,
      token,
      'hpc-d',
      slurm(['--min-blocks', '2', '--max-blocks', '2', '--workers-per-block', '2']),
    );
    const listed = await until(
      async () => {
        const l = jobs('hpc-d');
        return l.length === 2 && l.some((x) => x.endsWith('RUNNING')) ? l : undefined;
      },
      'two blocks submitted, one running',
      120_000,
    );
    expect(listed).toHaveLength(2);
    await procs.kill(ep.proc, 'SIGTERM');
    expect(ep.proc.exitCode).toBe(0);
    await until(async () => (jobs('hpc-d').length === 0 ? true : undefined), 'no jobs left after SIGTERM', 60_000);
  }, 180_000);

  it('refuses an unknown partition at start, naming the endpoint and the command', async () => {
    const p = procs.spawnCli(
      [
        'endpoint',
        'start',
        '--service',
        url,
        '--name',
        'hpc-e',
        '--provider',
        'slurm',
        '--partition',
        'no-such-partition',
      ],
      { RISTRETTO_TOKEN: token },
    );
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(procs.log).toMatch(
      /endpoint hpc-e: Slurm has no partition "no-such-partition" \(command: sinfo -h -o %R\) — partitions: debug/,
    );
  });
});
