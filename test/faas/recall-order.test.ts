/**
 * FIFO per fair-share group through a recall that finds nowhere to go, with real processes: a task
 * an agent gives back unstarted, and that comes back to the same agent, must start before the newer
 * tasks of its group the agent received meanwhile (it keeps its submission position).
 *
 * rf-x (1 worker, prefetch 3) holds g (running, held at a gate file), t1 and t2. rf-x is stopped
 * (SIGSTOP; the service's heartbeat is long, so it is not dropped); rf-y attaches idle, and the
 * service sends rf-x a recall for rf-y; rf-y is then killed, and t3 is submitted (straight to rf-x,
 * which has a free prefetch slot). rf-x resumes: it gives t2 back, and takes t3; the service, with
 * rf-y gone, puts t2 back in the queue and sends it to rf-x again — after t3. The starts, written to
 * a file by the tasks themselves, must be g, t1, t2, t3. Nothing asserts timing.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs, serviceMetrics, until } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let token = '';
let svc: { proc: ChildProcess; url: string; port: number };

beforeAll(async () => {
  token = await procs.addUser('recaller', ['--admin']);
  // A 60 s heartbeat: a stopped agent is not dropped for missing three of them during the test.
  svc = await procs.startService(['--heartbeat', '60']);
}, 300_000);

afterAll(async () => {
  await procs.cleanup();
});

const metrics = () => serviceMetrics(svc.url, token);

describe('a recalled task with nowhere to go', () => {
  it('keeps its submission position at its agent: it starts before newer tasks of its group', async () => {
    const log = join(procs.dir, 'starts.txt');
    const gate = join(procs.dir, 'gate');
    writeFileSync(log, '');
    const fx = new FaasClient({ serviceUrl: svc.url, token });
    const x = await procs.startEndpoint(svc.url, token, 'rf-x', ['--workers', '1', '--prefetch', '3']);
    await fx.registerEndpoint('rf-y');
    const fn = await fx.registerFunction(
      [
        "import { appendFileSync, existsSync } from 'node:fs';",
        'export default async ({ name, log, gate }) => {',
        "  appendFileSync(log, name + '\\n');",
        '  while (gate && !existsSync(gate)) await new Promise((r) => setTimeout(r, 20));',
        '  return name;',
        '};',
      ].join('\n'),
    );
    const task = (name: string, held = false) => ({
      functionId: fn,
      endpoint: 'rf-x',
      alternates: ['rf-y'],
      group: 'fifo',
      args: { name, log, ...(held ? { gate } : {}) },
    });
    const [g, t1, t2] = await fx.batchRun([task('g', true), task('t1'), task('t2')]);
    await until(async () => ((await fx.getTask(g)).state === 'running' ? true : undefined), 'g running on rf-x');
    for (const id of [t1, t2]) expect((await fx.getTask(id)).state).toBe('dispatched');

    let dispatched = 0;
    process.kill(x.proc.pid!, 'SIGSTOP');
    try {
      const y = await procs.startEndpoint(svc.url, token, 'rf-y', ['--workers', '1']);
      await until(async () => ((await metrics()).recalls === 1 ? true : undefined), 'recall sent to rf-x');
      await procs.killEndpoint(y.proc);
      await until(async () => ((await fx.getEndpoint('rf-y')).status !== 'online' ? true : undefined), 'rf-y offline');
      dispatched = (await metrics()).tasks_dispatched;
      const [t3] = await fx.batchRun([task('t3')]);
      await until(
        async () => ((await metrics()).tasks_dispatched === dispatched + 1 ? true : undefined),
        't3 sent to rf-x',
      );
      expect((await fx.getTask(t3)).endpoint_id).toBe(x.id);
    } finally {
      process.kill(x.proc.pid!, 'SIGCONT');
    }
    // rf-x answers the recall (t2 back), the service finds rf-y gone and sends t2 to rf-x again.
    await until(
      async () => ((await metrics()).tasks_dispatched === dispatched + 2 ? true : undefined),
      't2 sent to rf-x again',
    );
    expect((await metrics()).tasks_handed_over).toBe(0);
    writeFileSync(gate, '');
    const results: unknown[] = [];
    for await (const o of fx.results([g, t1, t2])) results.push(o.result);
    await until(
      async () => (readFileSync(log, 'utf8').split('\n').length > 4 ? true : undefined),
      'all four tasks started',
    );
    expect(results.sort()).toEqual(['g', 't1', 't2']);
    expect(existsSync(gate)).toBe(true);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['g', 't1', 't2', 't3']);
    await fx.close();
  });
});
