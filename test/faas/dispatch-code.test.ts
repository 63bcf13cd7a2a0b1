/**
 * Function code rides in dispatch frames with the tasks that need it. Counted apart from the arguments,
 * 20 functions of 8 MiB made one frame over the agent's 100 MiB message limit: the agent dropped the
 * connection, reconnected, got the same frame again, for ever (issue 14, probe D12). And the service
 * kept every function it ever dispatched in memory. A real service process; the agent is a raw
 * WebSocket client with the same message limit as the real one (ws's default, 100 MiB).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FaasConfigError } from '../../src/faas/errors.ts';
import { startService } from '../../src/faas/service/server.ts';
import { agentHello, serviceMetrics, serviceWithUsers, until } from './helpers.ts';
import { ScriptedAgent } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const MiB = 1024 * 1024;
/** 16 x 7 MiB = 112 MiB of code: one frame of it all is over the agent's 100 MiB. */
const FUNCTIONS = 16;
const CODE = 7 * MiB;

const svc = serviceWithUsers(['erin'], { admins: ['root'], serve: ['--heartbeat', '30'], hookTimeoutMs: 600_000 });

describe('dispatch of many large functions', () => {
  it('sends each function in a frame the agent accepts, and keeps a bounded cache of code', async () => {
    const fx = svc.client;
    await fx.registerEndpoint('erin-big');
    const ids: string[] = [];
    for (let i = 0; i < FUNCTIONS; i++) {
      // A string, not a comment: the client's bundling drops comments.
      const pad = 'x'.repeat(CODE - 100);
      ids.push(await fx.registerFunction(`export default () => ${i} + "${pad}".length;`));
    }
    // Queued while the endpoint is offline: the agent's first claim takes them all at once.
    await fx.batchRun(ids.map((functionId) => ({ functionId, endpoint: 'erin-big', args: 0 })));
    const agent = new ScriptedAgent(svc.url, svc.token);
    agent.beating = false;
    await agent.opened();
    agent.ws.send(agentHello('erin-big', { capacity: FUNCTIONS }));
    let closed = false;
    agent.ws.once('close', () => {
      closed = true;
    });
    await until(
      async () => (agent.dispatched.length >= FUNCTIONS || closed ? true : undefined),
      'every task dispatched (or the agent dropped)',
      300_000,
    );
    expect(closed).toBe(false);
    expect(agent.dispatched.length).toBe(FUNCTIONS);
    // 32 MiB of arguments and code a frame (plus the header's task entries): four of these functions.
    expect(agent.frames.length).toBeGreaterThanOrEqual(4);
    for (const n of agent.frames) expect(n).toBeLessThan(33 * MiB);
    const m = await serviceMetrics(svc.url, svc.tokens.root);
    expect(m.function_cache_bytes).toBeGreaterThan(0);
    expect(m.function_cache_bytes).toBeLessThanOrEqual(64 * MiB + MiB);
    agent.stop();
  });

  it('a service whose limits would make a one-task frame larger than agents accept does not start', async () => {
    const dbFile = join(tmpdir(), `dispatch-code-${process.pid}.db`);
    // 95 MiB of arguments and 8 MiB of code: over the agents' 100 MiB.
    await expect(startService({ dbFile, limits: { max_payload_bytes: 95 * MiB } })).rejects.toThrow(FaasConfigError);
    expect(existsSync(dbFile)).toBe(false);
  });
});
