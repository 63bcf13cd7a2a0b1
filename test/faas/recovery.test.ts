/**
 * Failure and recovery with real processes: endpoints offline at submission, an endpoint SIGKILLed
 * mid-task and restarted, the service SIGKILLed and restarted on the same database and port.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let token = '';
let svc: { proc: import('node:child_process').ChildProcess; url: string; port: number };

beforeAll(async () => {
  token = await procs.addUser('carol');
  svc = await procs.startService();
}, 300_000);

afterAll(async () => {
  await procs.cleanup();
});

describe('FaaS recovery', () => {
  it('fire and forget: tasks for an offline endpoint wait and run when it starts; results are collected later by id', async () => {
    const submitter = new FaasClient({ serviceUrl: svc.url, token });
    const fn = await submitter.registerFunction((x: number) => x * 3);
    await submitter.registerEndpoint('late');
    const ids = await submitter.batchRun([1, 2, 3].map((x) => ({ functionId: fn, endpoint: 'late', args: x })));
    const status = await submitter.getTask(ids[0]);
    expect(status.state).toBe('waiting-for-endpoint');
    expect((await submitter.getEndpoint('late')).waiting).toBe(3);
    await submitter.close(); // the submitting client goes away

    const ep = await procs.startEndpoint(svc.url, token, 'late');
    const collector = new FaasClient({ serviceUrl: svc.url, token });
    const got = new Map<string, unknown>();
    for await (const o of collector.results(ids)) got.set(o.taskId, o.result);
    expect(ids.map((id) => got.get(id))).toEqual([3, 6, 9]);
    await collector.close();
    await procs.kill(ep.proc, 'SIGTERM');
  });

  it('a task running on an endpoint that is SIGKILLed completes after the endpoint restarts', async () => {
    const fx = new FaasClient({ serviceUrl: svc.url, token });
    const ep = await procs.startEndpoint(svc.url, token, 'crashy');
    const slow = await fx.registerFunction(async (a: { ms: number; v: number }) => {
      await new Promise((r) => setTimeout(r, a.ms));
      return a.v + 1;
    });
    const [id] = await fx.batchRun([{ functionId: slow, endpoint: 'crashy', args: { ms: 1500, v: 41 } }]);
    await until(async () => ((await fx.getTask(id)).state === 'running' ? true : undefined), 'task running');
    await procs.kill(ep.proc, 'SIGKILL');
    // The service notices the dropped connection and puts the task back in the queue.
    await until(
      async () => ((await fx.getTask(id)).state === 'waiting-for-endpoint' ? true : undefined),
      'task re-queued',
    );
    const again = await procs.startEndpoint(svc.url, token, 'crashy');
    expect(again.id).toBe(ep.id); // re-attached by name
    for await (const o of fx.results([id])) {
      expect(o.error).toBeUndefined();
      expect(o.result).toBe(42);
      expect(o.attempts).toBe(2);
    }
    await fx.close();
    await procs.kill(again.proc, 'SIGTERM');
  });

  it('queued tasks and stored results survive a SIGKILLed and restarted service', async () => {
    let fx = new FaasClient({ serviceUrl: svc.url, token });
    const fn = await fx.registerFunction((s: string) => s.toUpperCase());
    const ep = await procs.startEndpoint(svc.url, token, 'survivor');
    const done = await fx
      .submit(fn, 'survivor', 'before')
      .then(async () => (await fx.batchRun([{ functionId: fn, endpoint: 'survivor', args: 'stored' }]))[0]);
    for await (const _ of fx.results([done])) void _;
    await procs.kill(ep.proc, 'SIGTERM');
    const queued = await fx.batchRun(['a', 'b'].map((s) => ({ functionId: fn, endpoint: 'survivor', args: s })));
    await fx.close();

    await procs.kill(svc.proc, 'SIGKILL');
    svc = await procs.startService([], svc.port);

    fx = new FaasClient({ serviceUrl: svc.url, token });
    expect(await fx.getResult(done)).toBe('STORED');
    expect((await fx.getTask(queued[0])).state).toBe('waiting-for-endpoint');
    const ep2 = await procs.startEndpoint(svc.url, token, 'survivor');
    const got: unknown[] = [];
    for await (const o of fx.results(queued)) got.push(o.result);
    expect(got.sort()).toEqual(['A', 'B']);
    await fx.close();
    await procs.kill(ep2.proc, 'SIGTERM');
  });

  it('an endpoint running through a service restart re-attaches and delivers the result of its running task', async () => {
    const fx = new FaasClient({ serviceUrl: svc.url, token });
    const ep = await procs.startEndpoint(svc.url, token, 'steady');
    const slow = await fx.registerFunction(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return 'finished';
    });
    const [id] = await fx.batchRun([{ functionId: slow, endpoint: 'steady', args: 2500 }]);
    await until(async () => ((await fx.getTask(id)).state === 'running' ? true : undefined), 'task running');
    await fx.close();
    await procs.kill(svc.proc, 'SIGKILL');
    svc = await procs.startService([], svc.port);
    const fx2 = new FaasClient({ serviceUrl: svc.url, token });
    for await (const o of fx2.results([id])) {
      expect(o.result).toBe('finished');
      // The agent still held the task when it re-attached: it was not run a second time.
      expect(o.attempts).toBe(1);
    }
    await fx2.close();
    await procs.kill(ep.proc, 'SIGTERM');
  });
});
