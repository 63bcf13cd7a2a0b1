/**
 * A worker that dies running a task it had queued, with real processes: the task it finished just
 * before keeps its result, and the task that killed it is charged the attempt. One worker with a
 * queue of one gets `done` (held at a gate file while `dies` reaches its queue) and then `dies`,
 * whose function kills its worker (SIGKILL, as an out-of-memory kill would) the moment it starts.
 * The worker must hand `done`'s result to the agent before it starts `dies`: the pool, which has not
 * seen that result, would otherwise count the death against `done` (one attempt: failed, although
 * it ran to the end) and rerun `dies` as if it had never started. The runs are counted in a file
 * written by the tasks themselves; the expected counts follow from the attempts set below.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient, TaskFailedError } from '../../src/faas/client/index.ts';
import { Procs, until } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let token = '';

beforeAll(async () => {
  token = await procs.addUser('queuer', ['--admin']);
  // A 60 s heartbeat: an agent slowed down by a loaded machine is not dropped mid-test.
  ({ url } = await procs.startService(['--heartbeat', '60']));
}, 300_000);

afterAll(async () => {
  await procs.cleanup();
});

describe('a worker killed by a task from its queue', () => {
  it('delivers the result of the task it finished before, and charges the death to the task that caused it', async () => {
    const log = join(procs.dir, 'runs.txt');
    const gate = join(procs.dir, 'gate');
    writeFileSync(log, '');
    const fx = new FaasClient({ serviceUrl: url, token });
    try {
      // One worker; the agent holds one task beyond it, and the pool queues it inside the worker.
      await procs.startEndpoint(url, token, 'qd', ['--workers', '1', '--prefetch', '1']);
      const fn = await fx.registerFunction(
        [
          "import { appendFileSync, existsSync } from 'node:fs';",
          'export default async ({ name, log, gate }) => {',
          "  appendFileSync(log, name + '\\n');",
          '  while (gate && !existsSync(gate)) await new Promise((r) => setTimeout(r, 20));',
          "  if (name === 'dies') process.kill(process.pid, 'SIGKILL');",
          '  return name;',
          '};',
        ].join('\n'),
      );
      const [done, dies] = await fx.batchRun([
        { functionId: fn, endpoint: 'qd', args: { name: 'done', log, gate }, maxAttempts: 1 },
        { functionId: fn, endpoint: 'qd', args: { name: 'dies', log, gate: '' }, maxAttempts: 2 },
      ]);
      // `done` runs (held at the gate) and `dies` is at the agent, which puts it in the worker's queue.
      await until(
        async () =>
          readFileSync(log, 'utf8').includes('done') && (await fx.getTask(dies)).state === 'dispatched'
            ? true
            : undefined,
        '"done" running and "dies" at the agent',
      );
      writeFileSync(gate, '');
      const outcomes = new Map<string, { result?: unknown; error?: unknown }>();
      for await (const o of fx.results([done, dies])) outcomes.set(o.taskId, o);
      expect(outcomes.get(done)?.error).toBeUndefined();
      expect(outcomes.get(done)?.result).toBe('done');
      const lost = outcomes.get(dies)?.error as TaskFailedError;
      expect(lost).toBeInstanceOf(TaskFailedError);
      expect(lost.remoteType).toBe('WorkerLost');
      expect(lost.attempts).toBe(2);
      // `done` once, `dies` once per attempt (2): no run the service did not count.
      expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual(['dies', 'dies', 'done']);
    } finally {
      await fx.close();
    }
  });
});
