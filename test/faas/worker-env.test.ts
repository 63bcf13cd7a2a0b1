/**
 * Workers do not get the agent's service token (issue 14, probe D5): a task could read
 * RISTRETTO_TOKEN from its environment and act as the endpoint's owner. A real service and endpoint
 * agent on loopback; the task itself reports what its worker's environment holds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { endpointsPerTest, Procs } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
const endpoint = endpointsPerTest(procs);
let url = '';
let token = '';
let fx: FaasClient;

beforeAll(async () => {
  token = await procs.addUser('owner');
  ({ url } = await procs.startService());
  fx = new FaasClient({ serviceUrl: url, token });
}, 300_000);

afterAll(async () => {
  await fx?.close();
  await procs.cleanup();
});

describe('worker environment', () => {
  it("has the agent's environment without its service token", async () => {
    // Inherited by the agent (spawned from this process) and, through it, by its workers.
    process.env.RISTRETTO_TEST_SITE_SETTING = 'kept';
    try {
      await endpoint(url, token, 'env-ep');
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
