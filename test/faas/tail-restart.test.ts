/**
 * Tail copies across a service restart, with real processes: the service is SIGKILLed while a task
 * straggles on its endpoint, restarted on the same database and port, and the endpoint's agent
 * re-attaches still holding the task. The restarted service must watch that task again (it is in
 * flight once more, reclaimed by its agent) and copy it to an idle alternate. The straggling run
 * would take 10 minutes, so the test can only finish through the copy; nothing asserts timing.
 */
import { describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { restartableService, stragglerSource, until } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = restartableService('restarter');
const { procs } = svc;

describe('tail copies after a service restart', () => {
  it('a straggler held by an agent that re-attaches is copied to an idle alternate; its copy wins, once', async () => {
    const fx = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    await procs.startEndpoint(svc.url, svc.token, 'rs-slow', ['--workers', '1']);
    // The alternate exists but is offline until after the restart: no copy can be made before it.
    await fx.registerEndpoint('rs-fast');
    const fn = await fx.registerFunction(stragglerSource('rs-fast', 50, 7));
    // No history in the group: only the tail timeout (500 ms) makes it a straggler.
    const tail = { factor: 3, min_ms: 200, timeout_ms: 500, max_copies: 2 };
    const [id] = await fx.batchRun([
      { functionId: fn, endpoint: 'rs-slow', alternates: ['rs-fast'], args: 6, group: 'restart', tail },
    ]);
    await until(async () => ((await fx.getTask(id)).state === 'running' ? true : undefined), 'task running on rs-slow');
    await fx.close();

    await svc.kill();
    await svc.restart();
    const fx2 = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    // rs-slow re-attaches holding the task (it was never stopped); only then does rs-fast come up,
    // so the task cannot simply start there from the service's queue: it must be copied.
    await until(
      async () => ((await fx2.getEndpoint('rs-slow')).status === 'online' ? true : undefined),
      'rs-slow re-attached',
    );
    await until(async () => ((await fx2.getTask(id)).state === 'running' ? true : undefined), 'task reclaimed');
    const fast = await procs.startEndpoint(svc.url, svc.token, 'rs-fast', ['--workers', '1']);

    let outcomes = 0;
    for await (const o of fx2.results([id])) {
      outcomes++;
      expect(o.error).toBeUndefined();
      // Expected from the submission (7 × 6), computed on the alternate.
      expect(o.result).toEqual({ y: 42, on: 'rs-fast' });
      expect(o.endpointId).toBe(fast.id);
      expect(o.byCopy).toBe(true);
      expect(o.copies).toEqual([fast.id]);
    }
    expect(outcomes).toBe(1);
    expect(await svc.metrics()).toMatchObject({ tail_copies: 1, tail_copy_wins: 1 });
    // The stuck run was cancelled at rs-slow: its worker frees up.
    await until(async () => ((await fx2.getEndpoint('rs-slow')).busy === 0 ? true : undefined), 'rs-slow idle');
    await fx2.close();
  });
});
