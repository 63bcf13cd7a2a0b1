/**
 * Workers do not get the agent's service token (issue 14, probe D5): a task could read
 * RISTRETTO_TOKEN from its environment and act as the endpoint's owner. A real service and endpoint
 * agent on loopback; the task itself reports what its worker's environment holds.
 */
import { describe, expect, it, vi } from 'vitest';
import { endpointsPerTest, serviceWithUsers } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = serviceWithUsers(['owner']);
const endpoint = endpointsPerTest(svc.procs);

describe('worker environment', () => {
  it("has the agent's environment without its service token", async () => {
    const fx = svc.client;
    // Inherited by the agent (spawned from this process) and, through it, by its workers.
    process.env.RISTRETTO_TEST_SITE_SETTING = 'kept';
    try {
      await endpoint(svc.url, svc.token, 'env-ep');
    } finally {
      delete process.env.RISTRETTO_TEST_SITE_SETTING;
    }
    const fn = await fx.registerFunction(() => ({
      token: process.env.RISTRETTO_TOKEN ?? null,
      setting: process.env.RISTRETTO_TEST_SITE_SETTING ?? null,
    }));
    const id = await fx.run(fn, 'env-ep');
    for await (const o of fx.results([id])) expect(o.result).toEqual({ token: null, setting: 'kept' });
  });
});
