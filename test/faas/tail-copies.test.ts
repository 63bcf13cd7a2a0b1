/**
 * Tail copies decided by the service, with a real service and two real endpoint agents: a task stuck
 * on a slow endpoint gets a copy on its idle alternate, the copy's result reaches the client once
 * under the task's own id, and the stuck run is cancelled at its agent. Nothing here asserts timing:
 * the slow endpoint's task would take 10 minutes, so the run can only finish through a copy. Each test
 * starts its own pair of endpoints (killed after it): no test meets another's cancelled runs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { endpointsPerTest, Procs, serviceMetrics, stragglerSource, until } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let token = '';
let fx: FaasClient;
const startOwn = endpointsPerTest(procs);
/** A slow and a fast endpoint (one worker each) for the running test alone; the fast one's id. */
async function ownPair(slow: string, fast: string): Promise<string> {
  const [, f] = await Promise.all([
    startOwn(url, token, slow, ['--workers', '1']),
    startOwn(url, token, fast, ['--workers', '1']),
  ]);
  return f.id;
}

beforeAll(async () => {
  token = await procs.addUser('tailor', ['--admin']);
  ({ url } = await procs.startService());
  fx = new FaasClient({ serviceUrl: url, token });
}, 300_000);

afterAll(async () => {
  await fx?.close();
  await procs.cleanup();
});

const metrics = () => serviceMetrics(url, token);

describe('tail copies in the service', () => {
  it('copy a straggler to an idle alternate; the first result wins, once, under the original id', async () => {
    const fast = await ownPair('tail-slow', 'tail-fast');
    // 10 minutes on tail-slow (stopped early through ctx.signal when cancelled), 100 ms on tail-fast.
    const fn = await fx.registerFunction(stragglerSource('tail-fast', 100, 3));
    const before = await metrics();
    const tail = { factor: 3, min_ms: 200, max_copies: 2 };
    const n = 8;
    const ids = await fx.batchRun(
      Array.from({ length: n }, (_, i) => ({
        functionId: fn,
        endpoint: 'tail-slow',
        alternates: ['tail-fast'],
        args: i + 1,
        group: 'tails',
        tail,
      })),
    );
    const seen = new Map<string, number>();
    const byCopy: string[] = [];
    for await (const o of fx.results(ids)) {
      expect(o.error).toBeUndefined();
      seen.set(o.taskId, (seen.get(o.taskId) ?? 0) + 1);
      const i = ids.indexOf(o.taskId);
      // Expected value from the submission, not from the service: 3 × (i + 1), computed on tail-fast.
      expect(o.result).toEqual({ y: 3 * (i + 1), on: 'tail-fast' });
      expect(o.endpointId).toBe(fast);
      if (o.byCopy) {
        byCopy.push(o.taskId);
        expect(o.copies).toEqual([fast]);
      }
    }
    expect([...seen.values()]).toEqual(Array(n).fill(1));
    // At least the task that started on tail-slow finished through its copy (its own run takes 10 min).
    expect(byCopy.length).toBeGreaterThanOrEqual(1);
    for (const id of byCopy) expect(await fx.getTask(id)).toMatchObject({ state: 'success', endpoint_id: fast });
    // Only stragglers were copied: most tasks ran on tail-fast directly (late binding), not as copies.
    expect(byCopy.length).toBeLessThan(n);
    const after = await metrics();
    expect(after.tail_copies - before.tail_copies).toBeGreaterThanOrEqual(byCopy.length);
    expect(after.tail_copy_wins - before.tail_copy_wins).toBe(byCopy.length);
    // The losing run was cancelled at tail-slow: its worker frees up (busy back to 0).
    await until(async () => ((await fx.getEndpoint('tail-slow')).busy === 0 ? true : undefined), 'tail-slow idle');
  });

  it('no policy, or no alternate: no copies (the task waits out its endpoint)', async () => {
    await ownPair('plain-slow', 'plain-fast');
    const fn = await fx.registerFunction(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    });
    const before = await metrics();
    // Enough history for a threshold, then one longer task without alternates and one without a policy.
    const warm = await fx.batchRun(
      Array.from({ length: 4 }, () => ({
        functionId: fn,
        endpoint: 'plain-fast',
        args: 50,
        group: 'plain',
        tail: { factor: 2, min_ms: 100, max_copies: 2 },
      })),
    );
    for await (const o of fx.results(warm)) expect(o.result).toBe(50);
    const ids = await fx.batchRun([
      {
        functionId: fn,
        endpoint: 'plain-fast',
        args: 1500,
        group: 'plain',
        tail: { factor: 2, min_ms: 100, max_copies: 2 },
      },
      { functionId: fn, endpoint: 'plain-slow', alternates: ['plain-fast'], args: 1500, group: 'plain' },
    ]);
    for await (const o of fx.results(ids)) {
      expect(o.result).toBe(1500);
      expect(o.copies).toBeUndefined();
      expect(o.byCopy).toBeUndefined();
    }
    const after = await metrics();
    expect(after.tail_copies).toBe(before.tail_copies);
  });
});
