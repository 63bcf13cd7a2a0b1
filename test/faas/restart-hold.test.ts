/**
 * A task running through a service restart is not started again on an alternate while its own agent
 * may still come back, with real processes: rh-a runs the task (held at a gate file); rh-a's agent is
 * stopped (SIGSTOP) and the service SIGKILLed and restarted on the same database and port; rh-b, an
 * idle alternate of the task, attaches first. rh-b must not take the task (before, it did at once,
 * and rh-a was told to drop the run it had been doing); rh-a is resumed, re-attaches holding it, and
 * delivers the one result. The task writes where it starts to a file. Nothing asserts timing.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs, serviceMetrics, until } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let token = '';
let svc: { proc: ChildProcess; url: string; port: number };
// A 10 s heartbeat: the re-attach grace window (3 heartbeats) outlasts a loaded machine's reconnect.
const serviceArgs = ['--heartbeat', '10'];

beforeAll(async () => {
  token = await procs.addUser('holder', ['--admin']);
  svc = await procs.startService(serviceArgs);
}, 300_000);

afterAll(async () => {
  await procs.cleanup();
});

describe('a task in flight at a service restart', () => {
  it('waits for its own agent to re-attach rather than starting again on an idle alternate', async () => {
    const log = join(procs.dir, 'starts.txt');
    const gate = join(procs.dir, 'gate');
    writeFileSync(log, '');
    const fx = new FaasClient({ serviceUrl: svc.url, token });
    const a = await procs.startEndpoint(svc.url, token, 'rh-a', ['--workers', '1']);
    await fx.registerEndpoint('rh-b');
    const fn = await fx.registerFunction(
      [
        "import { appendFileSync, existsSync } from 'node:fs';",
        'export default async ({ x, log, gate }, ctx) => {',
        "  appendFileSync(log, ctx.endpoint + '\\n');",
        '  while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 20));',
        '  return { y: 2 * x, on: ctx.endpoint };',
        '};',
      ].join('\n'),
    );
    const [id] = await fx.batchRun([
      { functionId: fn, endpoint: 'rh-a', alternates: ['rh-b'], args: { x: 21, log, gate } },
    ]);
    await until(async () => ((await fx.getTask(id)).state === 'running' ? true : undefined), 'task running on rh-a');
    await fx.close();

    // Same port after the restart, so the same URL.
    const fx2 = new FaasClient({ serviceUrl: svc.url, token });
    process.kill(a.proc.pid!, 'SIGSTOP');
    try {
      await procs.kill(svc.proc, 'SIGKILL');
      svc = await procs.startService(serviceArgs, svc.port);
      // rh-b is up and idle while rh-a cannot re-attach yet.
      await procs.startEndpoint(svc.url, token, 'rh-b', ['--workers', '1']);
      expect((await fx2.getEndpoint('rh-a')).status).not.toBe('online');
    } finally {
      process.kill(a.proc.pid!, 'SIGCONT');
    }
    await until(
      async () => ((await fx2.getEndpoint('rh-a')).status === 'online' ? true : undefined),
      'rh-a re-attached',
    );
    await until(async () => ((await fx2.getTask(id)).state === 'running' ? true : undefined), 'task reclaimed');
    expect((await fx2.getTask(id)).endpoint_id).toBe(a.id);
    writeFileSync(gate, '');

    let outcomes = 0;
    for await (const o of fx2.results([id])) {
      outcomes++;
      expect(o.error).toBeUndefined();
      // Expected from the submission (2 × 21), computed on rh-a.
      expect(o.result).toEqual({ y: 42, on: 'rh-a' });
      expect(o.endpointId).toBe(a.id);
    }
    expect(outcomes).toBe(1);
    // It started once, on rh-a: never on rh-b.
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['rh-a']);
    expect(await serviceMetrics(svc.url, token)).toMatchObject({ tasks_moved: 0, duplicate_results: 0 });
    await fx2.close();
  });
});
