/**
 * Agent messages list at most MAX_AGENT_IDS task ids (issue 14): the service handles each id on its
 * only thread, and a hello "holding" 300,000 ids (the old bound was 1,000,000) stalled it for seconds.
 * A real service on loopback; each agent is a raw WebSocket, as a hostile one would be.
 */
import { describe, expect, it, vi } from 'vitest';
import { MAX_AGENT_IDS, MAX_CAPACITY, MAX_PREFETCH } from '../../src/faas/protocol-schemas.ts';
import { agentHello, agentSocket, serviceWithUsers, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = serviceWithUsers(['mallory']);
const agent = () => agentSocket(svc.url, svc.token);

/** `n` well-formed task ids that name no task. */
const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `01a24f00-0000-7000-8000-${String(i).padStart(12, '0')}`);

const hello = (name: string, holding: string[]) => agentHello(name, { capacity: 4, holding });

describe('agent id lists', () => {
  it('the bound leaves room for every task an agent may hold, and its unacknowledged results', () => {
    expect(MAX_AGENT_IDS).toBe(40_000);
    expect(MAX_AGENT_IDS).toBeGreaterThanOrEqual(2 * (MAX_CAPACITY + MAX_PREFETCH));
  });

  it('a hello holding one id too many is refused; one at the bound is welcomed', async () => {
    const over = await agent();
    over.ws.send(hello('over-ep', ids(MAX_AGENT_IDS + 1)));
    await until(async () => over.inbox[0], 'answer to the hello');
    expect(over.inbox[0]).toMatchObject({ type: 'error', code: 'BadRequest' });
    expect(over.inbox[0].message).toMatch(/holding must NOT have more than 40000 items/);
    expect(await over.closed).toBe(1008);

    const at = await agent();
    at.ws.send(hello('at-ep', ids(MAX_AGENT_IDS)));
    await until(async () => at.inbox[0], 'answer to the hello');
    // None of those ids is a task of this endpoint: welcomed, and told to drop them all.
    expect(at.inbox[0]).toMatchObject({ type: 'welcome', name: 'at-ep' });
    await until(async () => at.inbox[1], 'cancel of the unknown ids');
    expect(at.inbox[1]).toMatchObject({ type: 'cancel' });
    expect(at.inbox[1].task_ids).toHaveLength(MAX_AGENT_IDS);
    at.ws.close();
  });

  it('started, lost, released and returned with one id too many are refused', async () => {
    const n = MAX_AGENT_IDS + 1;
    const messages = [
      { type: 'started', task_ids: ids(n), started_at: ids(n).map(() => 1) },
      { type: 'lost', tasks: ids(n).map((task_id) => ({ task_id, reason: 'x', started_at: 1 })) },
      { type: 'released', task_ids: ids(n) },
      { type: 'returned', seq: 1, task_ids: ids(n) },
    ];
    for (const [i, m] of messages.entries()) {
      const a = await agent();
      a.ws.send(hello(`msg-ep-${i}`, []));
      await until(async () => a.inbox[0], 'welcome');
      expect(a.inbox[0].type).toBe('welcome');
      a.ws.send(JSON.stringify(m));
      expect(await a.closed).toBe(1008);
      expect(a.inbox.at(-1)).toMatchObject({ type: 'error', code: 'BadRequest' });
      expect(a.inbox.at(-1).message).toMatch(/must NOT have more than 40000 items/);
    }
  });
});
