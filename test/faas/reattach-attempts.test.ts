/**
 * An endpoint's connection that drops and comes back, against a real service on loopback with a
 * scripted agent (issue 14). Attempts count the holds a task started in: a task lost before it
 * started gives its attempt back, and the agent coming back still holding it counts it again, however
 * often that repeats (before, every cycle took one more away: attempts went negative and the client
 * dropped the results frame carrying them). Nothing asserts timing: waits poll the service's view.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { serviceWithUsers, until } from './helpers.ts';
import { scriptedAgents } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// 2 s heartbeats: a scripted agent (beating every 0.2 s) is not dropped on a busy machine.
const svc = serviceWithUsers(['flappy'], { serve: ['--heartbeat', '2'] });
const agent = scriptedAgents(svc);
let fn = '';

beforeAll(async () => {
  fn = await svc.client.registerFunction((x: number) => 2 * x);
}, 300_000);

async function offline(name: string): Promise<void> {
  await until(
    async () => ((await svc.client.getEndpoint(name)).status !== 'online' ? true : undefined),
    `${name} offline`,
  );
}

async function task(id: string, state: string): Promise<{ attempts: number; state: string }> {
  return until(async () => {
    const t = await svc.client.getTask(id);
    return t.state === state ? t : undefined;
  }, `task ${id} ${state}`);
}

describe('a connection that drops and comes back', () => {
  it('counts each hold a task started in once, through many lost-and-reclaimed cycles', async () => {
    await svc.client.registerEndpoint('cycle-ep');
    const [id] = await svc.client.batchRun([{ functionId: fn, endpoint: 'cycle-ep', args: 21 }]);
    let a = agent();
    expect((await a.hello('cycle-ep')).type).toBe('welcome');
    await until(async () => (a.dispatched.length ? true : undefined), 'first dispatch');
    expect(a.dispatched).toEqual([{ id, attempt: 1 }]);

    // Lost before it started, then held again by the agent that comes back: 1, 0, 1, 0, ... never below.
    for (let cycle = 0; cycle < 5; cycle++) {
      a.stop();
      await offline('cycle-ep');
      expect((await task(id, 'waiting-for-endpoint')).attempts).toBe(0);
      a = agent();
      expect((await a.hello('cycle-ep', [id])).type).toBe('welcome');
      expect((await task(id, 'dispatched')).attempts).toBe(1);
    }

    // Back without it: dispatched anew as attempt 1. Started, lost, reclaimed: still 1 (one start).
    a.stop();
    await offline('cycle-ep');
    a = agent();
    expect((await a.hello('cycle-ep', [])).type).toBe('welcome');
    await until(async () => (a.dispatched.length ? true : undefined), 'dispatch after the agent came back empty');
    expect(a.dispatched).toEqual([{ id, attempt: 1 }]);
    a.send({ type: 'started', task_ids: [id], started_at: [Date.now()] });
    await task(id, 'running');
    a.stop();
    await offline('cycle-ep');
    expect((await task(id, 'waiting-for-endpoint')).attempts).toBe(1);
    a = agent();
    expect((await a.hello('cycle-ep', [id])).type).toBe('welcome');
    expect((await task(id, 'running')).attempts).toBe(1);

    // Lost after its start, dispatched anew as attempt 2, lost before starting again: one start
    // charged (the first run's start does not charge the second hold), and 2 when held again.
    a.stop();
    await offline('cycle-ep');
    a = agent();
    expect((await a.hello('cycle-ep', [])).type).toBe('welcome');
    await until(async () => (a.dispatched.length ? true : undefined), 'dispatch of the second run');
    expect(a.dispatched).toEqual([{ id, attempt: 2 }]);
    a.stop();
    await offline('cycle-ep');
    expect((await task(id, 'waiting-for-endpoint')).attempts).toBe(1);
    a = agent();
    expect((await a.hello('cycle-ep', [id])).type).toBe('welcome');
    expect((await task(id, 'dispatched')).attempts).toBe(2);

    // The result reaches the owner's result stream (a frame with attempts < 0 was dropped there).
    const ranAt = Date.now();
    a.send({ type: 'started', task_ids: [id], started_at: [ranAt] });
    a.result(id, 42, ranAt);
    const outcomes = [];
    for await (const o of svc.client.results([id])) outcomes.push(o);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ taskId: id, state: 'success', attempts: 2, result: 42 });
    a.stop();
  });
});
