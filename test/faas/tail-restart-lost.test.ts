/**
 * A tail copy whose endpoint never comes back after a service restart, with real processes: a task
 * straggles on rs-hold, its copy straggles on rs-gone; the service is SIGKILLed, rs-gone (agent and
 * workers) is SIGKILLed while it is down, the service restarts on the same database and port, and
 * rs-hold re-attaches still holding the original. The restored copy at rs-gone must count as lost
 * once the re-attach grace window is over, so that the task gets a new copy on rs-fast; before, the
 * copy stayed "live" for good and blocked every further copy (the test then never finishes: both
 * other runs take 10 minutes). The result arrives once, from the new copy; nothing asserts timing.
 */
import { describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { restartableService, stragglerSource, until } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = restartableService('regrace');
const { procs } = svc;

describe('a tail copy whose endpoint never re-attaches after a service restart', () => {
  it('counts as lost after the grace window; a new copy on another alternate wins, once', async () => {
    const fx = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    await procs.startEndpoint(svc.url, svc.token, 'rs-hold', ['--workers', '1']);
    const gone = await procs.startEndpoint(svc.url, svc.token, 'rs-gone', ['--workers', '1']);
    // The third candidate is offline until after the restart: the first copy can only go to rs-gone.
    await fx.registerEndpoint('rs-fast');
    const fn = await fx.registerFunction(stragglerSource('rs-fast', 50, 5));
    // No history in the group: the tail timeout (500 ms) makes it a straggler; up to two copies.
    const tail = { factor: 3, min_ms: 200, timeout_ms: 500, max_copies: 3 };
    const [id] = await fx.batchRun([
      { functionId: fn, endpoint: 'rs-hold', alternates: ['rs-gone', 'rs-fast'], args: 9, group: 'regrace', tail },
    ]);
    await until(async () => ((await fx.getTask(id)).state === 'running' ? true : undefined), 'task running on rs-hold');
    await until(async () => ((await svc.metrics()).tail_copies === 1 ? true : undefined), 'first copy made');
    await until(
      async () => ((await fx.getEndpoint('rs-gone')).busy === 1 ? true : undefined),
      'copy running on rs-gone',
    );
    await fx.close();

    await svc.kill();
    // rs-gone goes for good, workers included, while the service is down.
    await procs.killEndpoint(gone.proc);
    await svc.restart();
    const fx2 = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    // rs-hold re-attaches holding the original; only then does rs-fast come up, so the task cannot
    // simply start there from the service's queue: it must be copied, and only a lost copy frees it.
    await until(
      async () => ((await fx2.getEndpoint('rs-hold')).status === 'online' ? true : undefined),
      'rs-hold re-attached',
    );
    await until(async () => ((await fx2.getTask(id)).state === 'running' ? true : undefined), 'task reclaimed');
    const fast = await procs.startEndpoint(svc.url, svc.token, 'rs-fast', ['--workers', '1']);

    let outcomes = 0;
    for await (const o of fx2.results([id])) {
      outcomes++;
      expect(o.error).toBeUndefined();
      // Expected from the submission (5 × 9), computed on the new copy's endpoint.
      expect(o.result).toEqual({ y: 45, on: 'rs-fast' });
      expect(o.endpointId).toBe(fast.id);
      expect(o.byCopy).toBe(true);
      // Both copies, in the order they were made: the lost one at rs-gone, the winner at rs-fast.
      expect(o.copies).toEqual([gone.id, fast.id]);
    }
    expect(outcomes).toBe(1);
    expect(await svc.metrics()).toMatchObject({ tail_copies: 1, tail_copy_wins: 1, duplicate_results: 0 });
    expect(procs.log).toMatch(/tail copies: 1 lost \(endpoint did not re-attach within 3 s of a service restart\)/);
    // The stuck original was cancelled at rs-hold: its worker frees up.
    await until(async () => ((await fx2.getEndpoint('rs-hold')).busy === 0 ? true : undefined), 'rs-hold idle');
    await fx2.close();
  });
});
