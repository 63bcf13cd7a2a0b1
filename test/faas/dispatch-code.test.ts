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
import { agentHello, serviceMetrics, serviceWithUsers, settledInFlight } from './helpers.ts';
import { ScriptedAgent } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const MiB = 1024 * 1024;
/** 16 x 7 MiB = 112 MiB of code: one frame of it all is over the agent's 100 MiB. */
const FUNCTIONS = 16;
const CODE = 7 * MiB;
/** Control characters of code each (7.4 MiB in a frame, 6 bytes each; registration takes 8 MiB). */
const ESCAPED = 1_300_000;

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
    expect(await agent.received(FUNCTIONS)).toBe(true);
    expect(agent.dispatched.length).toBe(FUNCTIONS);
    // 32 MiB of arguments and code a frame (plus the header's task entries): four of these functions.
    expect(agent.frames.length).toBeGreaterThanOrEqual(4);
    for (const n of agent.frames) expect(n).toBeLessThan(33 * MiB);
    const m = await serviceMetrics(svc.url, svc.tokens.root);
    expect(m.function_cache_bytes).toBeGreaterThan(0);
    expect(m.function_cache_bytes).toBeLessThanOrEqual(64 * MiB + MiB);
    agent.stop();
  });

  it('counts code as the frame holds it, and sends more once the agent has read what it was sent', async () => {
    const fx = svc.client;
    await fx.registerEndpoint('erin-escaped');
    // Registered over plain HTTP, as any client may: code of control characters, 6 bytes each in a
    // frame's JSON. Counted as characters, all 16 (21 MiB) fit one frame, which holds 124 MiB.
    const ids: string[] = [];
    for (let i = 0; i < FUNCTIONS; i++) {
      const code = `export default () => ${i} + "${'\u0001'.repeat(ESCAPED)}".length;`;
      const r = await fetch(new URL('/v1/functions', svc.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      expect(r.status).toBe(200);
      ids.push(((await r.json()) as { function_id: string }).function_id);
    }
    await fx.batchRun(ids.map((functionId) => ({ functionId, endpoint: 'erin-escaped', args: 0 })));
    const agent = new ScriptedAgent(svc.url, svc.token);
    agent.beating = false;
    await agent.opened();
    agent.ws.send(agentHello('erin-escaped', { capacity: FUNCTIONS }));
    // Read nothing at first: the service sends what fits its socket buffer, the rest waits.
    agent.ws.pause();
    expect(await settledInFlight(fx, 'erin-escaped')).toBeLessThan(FUNCTIONS);
    agent.ws.resume();
    expect(await agent.received(FUNCTIONS)).toBe(true);
    expect(agent.dispatched.length).toBe(FUNCTIONS);
    // Each task once: those that waited again were not dispatched twice.
    expect(new Set(agent.dispatched.map((d) => d.id)).size).toBe(FUNCTIONS);
    for (const n of agent.frames) expect(n).toBeLessThan(33 * MiB);
    agent.stop();
  });

  it('a service whose limits would make a one-task frame larger than agents accept does not start', async () => {
    const dbFile = join(tmpdir(), `dispatch-code-${process.pid}.db`);
    // 95 MiB of arguments and 8 MiB of code: over the agents' 100 MiB.
    await expect(startService({ dbFile, limits: { max_payload_bytes: 95 * MiB } })).rejects.toThrow(FaasConfigError);
    expect(existsSync(dbFile)).toBe(false);
  });
});
