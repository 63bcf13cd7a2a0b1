/**
 * An endpoint's connection that drops and comes back, against a real service on loopback with a
 * scripted agent (issue 14). Attempts count the holds a task started in: a task lost before it
 * started gives its attempt back, and the agent coming back still holding it counts it again, however
 * often that repeats (before, every cycle took one more away: attempts went negative and the client
 * dropped the results frame carrying them). Nothing asserts timing: waits poll the service's view.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs, until } from './helpers.ts';
import { ScriptedAgent } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let token = '';
let fx: FaasClient;
let fn = '';
/** Every scripted agent of the file, closed at the end. */
const agents: ScriptedAgent[] = [];

beforeAll(async () => {
  token = await procs.addUser('flappy');
  // 2 s heartbeats: a scripted agent (beating every 0.2 s) is not dropped on a busy machine.
  ({ url } = await procs.startService(['--heartbeat', '2']));
  fx = new FaasClient({ serviceUrl: url, token });
  fn = await fx.registerFunction((x: number) => 2 * x);
}, 300_000);

/** A scripted agent of this file, stopped at the end. */
function agent(): ScriptedAgent {
  const a = new ScriptedAgent(url, token);
  agents.push(a);
  return a;
}

afterAll(async () => {
  for (const a of agents) a.stop();
  await fx?.close();
  await procs.cleanup();
});

async function offline(name: string): Promise<void> {
  await until(async () => ((await fx.getEndpoint(name)).status !== 'online' ? true : undefined), `${name} offline`);
}

async function task(id: string, state: string): Promise<{ attempts: number; state: string }> {
  return until(async () => {
    const t = await fx.getTask(id);
    return t.state === state ? t : undefined;
  }, `task ${id} ${state}`);
}

describe('a connection that drops and comes back', () => {
  it('counts each hold a task started in once, through many lost-and-reclaimed cycles', async () => {
    await fx.registerEndpoint('cycle-ep');
    const [id] = await fx.batchRun([{ functionId: fn, endpoint: 'cycle-ep', args: 21 }]);
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
    for await (const o of fx.results([id])) outcomes.push(o);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ taskId: id, state: 'success', attempts: 2, result: 42 });
    a.stop();
  });
});
