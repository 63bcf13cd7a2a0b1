/**
 * A task that sends its worker's IPC channel garbage (`process.send(null)`) must not end the endpoint
 * agent (issue 14, probe D11: the agent crashed on `msg.type` of null, and on every restart again). The
 * worker is restarted, the task fails as lost after its attempts, and the endpoint goes on serving.
 * A real service and endpoint agent on loopback.
 */
import { describe, expect, it, vi } from 'vitest';
import { endpointsPerTest, serviceWithUsers } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = serviceWithUsers(['owner']);
const endpoint = endpointsPerTest(svc.procs);

describe("a task writing garbage to its worker's channel", () => {
  it('fails as lost; the agent and its other tasks carry on', async () => {
    const fx = svc.client;
    const { proc } = await endpoint(svc.url, svc.token, 'garbage-ep', ['--workers', '1']);
    const evil = await fx.registerFunction(() => {
      (process as unknown as { send: (m: unknown) => void }).send(null);
      return new Promise(() => {}); // never answers by itself
    });
    const double = await fx.registerFunction((x: number) => 2 * x);
    const bad = await fx.run(evil, 'garbage-ep', undefined, { maxAttempts: 2 });
    for await (const o of fx.results([bad])) {
      expect(o.state).toBe('failed');
      expect((o.error as { remoteType?: string } | undefined)?.remoteType).toBe('WorkerLost');
    }
    expect(proc.exitCode).toBeNull();
    const good = await fx.run(double, 'garbage-ep', 21);
    for await (const o of fx.results([good])) expect(o.result).toBe(42);
    expect(proc.exitCode).toBeNull();
  });
});
