/**
 * The block strategy of Slurm endpoints, with the `local` provider (blocks are process groups on this
 * machine, workers connect back over TCP): runs everywhere, also where Slurm is not installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs, until } from './helpers.ts';

const procs = new Procs();
let token = '';
let url = '';

beforeAll(async () => {
  token = await procs.addUser('blocks');
  url = (await procs.startService()).url;
}, 240_000);

afterAll(() => procs.cleanup());

/** Live processes whose environment names a secret file under `dir` (block shells and workers). */
function blockProcesses(dir: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'utf8');
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (env.includes(`RISTRETTO_AGENT_SECRET_FILE=${dir}`)) pids.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

describe('elastic blocks with the local provider', () => {
  it('starts blocks for waiting work, runs tasks in them, releases idle ones and leaves no process on SIGTERM', async () => {
    const blockDir = `${procs.dir}/blocks-local`;
    const ep = await procs.startEndpoint(url, token, 'elastic', [
      '--provider',
      'local',
      '--max-blocks',
      '2',
      '--workers-per-block',
      '1',
      '--idle-timeout',
      '1',
      '--block-dir',
      blockDir,
    ]);
    expect(blockProcesses(blockDir)).toEqual([]);
    const fx = new FaasClient({ serviceUrl: url, token });
    try {
      const fn = await fx.registerFunction(async (x: number) => {
        await new Promise((r) => setTimeout(r, 200));
        return { y: x + 100, block: process.env.RISTRETTO_BLOCK_ID ?? null };
      });
      const ids = await fx.batchRun(
        Array.from({ length: 6 }, (_, x) => ({ functionId: fn, endpoint: 'elastic', args: x })),
      );
      const got = new Map<string, { y: number; block: string | null }>();
      for await (const o of fx.results(ids)) {
        expect(o.error).toBeUndefined();
        got.set(o.taskId, o.result as { y: number; block: string | null });
      }
      expect(ids.map((id) => got.get(id)!.y)).toEqual([100, 101, 102, 103, 104, 105]);
      for (const r of got.values()) expect(r.block).toMatch(/^[a-z0-9]+-\d+$/);
      // Idle longer than --idle-timeout: released.
      await until(
        async () => (/releasing block \S+ \(job local-\d+\): idle/.test(procs.log) ? true : undefined),
        'an idle block released',
        120_000,
      );
      await until(
        async () => (blockProcesses(blockDir).length === 0 ? true : undefined),
        'released blocks gone',
        60_000,
      );

      // New work brings a block back; SIGTERM of the endpoint ends it.
      const [again] = await fx.batchRun([{ functionId: fn, endpoint: 'elastic', args: 7 }]);
      // ...in a block started for it: every earlier block is gone.
      for await (const o of fx.results([again])) {
        const r = o.result as { y: number; block: string };
        expect(r.y).toBe(107);
        expect([...got.values()].map((x) => x.block)).not.toContain(r.block);
      }
    } finally {
      await fx.close();
    }
    await procs.kill(ep.proc, 'SIGTERM');
    expect(ep.proc.exitCode).toBe(0);
    await until(
      async () => (blockProcesses(blockDir).length === 0 ? true : undefined),
      'no block process after SIGTERM',
      60_000,
    );
  }, 600_000);
});
