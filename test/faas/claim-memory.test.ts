/**
 * A claim loads every claimed task's arguments at once. An agent that announces a thousand slots while
 * large tasks wait (and then reads nothing) made one claim hold them all — 60 × 8 MiB took a service
 * from 194 MiB to 1.1 GB (helper G's probe). Claims now take what fits in one dispatch frame and the
 * rest as the socket drains. A real service process; memory is its own peak RSS (VmHWM, reset first).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { agentHello, serviceWithUsers, settledInFlight } from './helpers.ts';
import { ScriptedAgent } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const MiB = 1024 * 1024;
const TASKS = 48;
const ARGS = 8 * MiB;

const svc = serviceWithUsers(['dave'], { serve: ['--heartbeat', '30'], hookTimeoutMs: 600_000 });

function memory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${svc.proc.pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

describe('claims of large waiting tasks', () => {
  it('an agent announcing 2,000 slots that reads nothing gets one frame of them, not all', async () => {
    const fx = svc.client;
    await fx.registerEndpoint('dave-big');
    const fn = await fx.registerFunction('export default (s) => s.length;');
    // Queued while the endpoint is offline (4 per request: a request is at most 64 MiB).
    for (let i = 0; i < TASKS; i += 4)
      await fx.batchRun(
        Array.from({ length: 4 }, () => ({ functionId: fn, endpoint: 'dave-big', args: 'x'.repeat(ARGS) })),
      );
    writeFileSync(`/proc/${svc.proc.pid}/clear_refs`, '5');
    const before = memory().rss;
    const agent = new ScriptedAgent(svc.url, svc.token);
    agent.beating = false;
    await agent.opened();
    agent.ws.send(agentHello('dave-big', { capacity: 1000, prefetch: 1000 }));
    // Read nothing from now on: what the service sends piles up on its side of the socket.
    agent.ws.pause();
    // Let the service go on as far as it will (it is paced by the socket it cannot write to).
    const last = await settledInFlight(fx, 'dave-big');
    const grown = memory().peak - before;
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(TASKS);
    expect(grown).toBeLessThan(200 * MiB);
    agent.stop();
  });
});
