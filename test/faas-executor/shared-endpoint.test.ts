/**
 * `--endpoints owner/name`: an endpoint another user shares is named as `faas endpoint list` and the SDK
 * name it, and run-analysis's FaaS executor accepts it; a bare name that several users' endpoints have
 * is the caller's own, as the service resolves it for the SDK. A real service and endpoint agent on
 * loopback, two users made with `ristretto faas user add`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

let cluster: LocalCluster;
let ownOffline: string;
let shared: string;

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  const bob = await runNode([join(repoRoot, 'bin', 'ristretto.mjs'), 'faas', 'user', 'add', 'bob', '--db', cluster.db]);
  expect(bob.code, bob.stderr).toBe(0);
  const bobToken = bob.stdout.trim().split('\n').pop()?.trim() ?? '';
  // bob's endpoint "laptop", shared with the cluster's user (analyst), online
  await cluster.startEndpoint('laptop', { env: { RISTRETTO_TOKEN: bobToken }, args: ['--share-with', 'analyst'] });
  const fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
  try {
    // analyst's own "laptop": registered, never started (offline)
    ownOffline = (await fx.registerEndpoint('laptop')).endpoint_id;
    const list = await fx.listEndpoints();
    shared = list.find((e) => e.owner === 'bob')?.endpoint_id ?? '';
    expect(list.map((e) => `${e.owner}/${e.name}`).sort()).toEqual(['analyst/laptop', 'bob/laptop']);
  } finally {
    await fx.close();
  }
});

afterAll(async () => {
  await cluster?.close();
});

describe('--endpoints with a shared endpoint', () => {
  it('owner/name picks the shared endpoint, and the run connects to it', async () => {
    const ex = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['bob/laptop'],
      connectTimeoutSeconds: 60,
    });
    try {
      expect(ex.progress().map((p) => p.id)).toEqual([shared]);
    } finally {
      await ex.close();
    }
  });

  it('a bare name several users have is the caller own one (offline here, so the run waits for it)', async () => {
    const err = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['laptop'],
      connectTimeoutSeconds: 1,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/none of the endpoints laptop is online/);
    expect(ownOffline).not.toBe(shared);
  });

  it('a misspelt owner/name suggests the owner/name forms', async () => {
    const err = await FaasExecutor.connect({ service: cluster.url, endpoints: ['bob/laptp'] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /endpoint "bob\/laptp" does not exist or is not shared with you.*closest endpoint names: bob\/laptop/,
    );
  });
});
