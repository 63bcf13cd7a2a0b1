/**
 * An analysis with more chunks than its user may have unfinished tasks (the service's quota, issue 14)
 * completes through the real FaaS executor: it submits what fits, the rest as its chunks finish, and
 * says so once. Real processes on loopback (service, endpoint agent, workers); the reference is the
 * iterative executor, which shares no code with the FaaS path beyond processChunk.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { IterativeExecutor } from '../../executors/iterative.ts';
import { encode } from '../../src/accumulate/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { clusterEndpointsPerTest } from '../faas/helpers.ts';
import { repoRoot, sharedPath } from '../shared.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const QUOTA = 20;
const QUERY = resolve(repoRoot, 'processors', 'adl', 'query-5.ts');
const fileset = (): Dataset[] => [
  {
    name: 'singlemu',
    files: [{ path: sharedPath('data', 'Run2012B_SingleMu_10000.root'), tree: 'Events' }],
    metadata: {},
  },
];

let cluster: LocalCluster;
const ownEndpoint = clusterEndpointsPerTest(() => cluster);

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  // The admin limits the cluster's user while the service runs.
  const set = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'ristretto.mjs'),
      'faas',
      'user',
      'set',
      'analyst',
      '--db',
      cluster.db,
      '--max-open-tasks',
      String(QUOTA),
    ],
    { stdio: 'ignore' },
  );
  expect(await new Promise((r) => set.once('exit', r))).toBe(0);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
});

describe('FaaS executor under a quota of unfinished tasks', () => {
  it(`runs 50 chunks with at most ${QUOTA} open to the same histograms as the iterative executor, saying once that it waits`, async () => {
    // 32 slots: the executor keeps twice that many chunks out, more than the quota lets it.
    await ownEndpoint('quota-ep', { workers: 2, concurrency: 16 });
    const ref = await runAnalysis({
      fileset: fileset(),
      processor: QUERY,
      executor: new IterativeExecutor(),
      chunksize: 200,
      cacheFile: false,
    });
    const notes: string[] = [];
    const ex = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['quota-ep'],
      pollSeconds: 0.25,
      onNote: (m) => notes.push(m),
    });
    try {
      const r = await runAnalysis({
        fileset: fileset(),
        processor: QUERY,
        executor: ex,
        chunksize: 200,
        cacheFile: false,
      });
      expect(r.metrics.chunks).toBe(50);
      expect(r.metrics.events).toBe(ref.metrics.events);
      expect(Buffer.from(encode(r.accumulator)).equals(Buffer.from(encode(ref.accumulator)))).toBe(true);
      const waits = notes.filter((m) => /unfinished tasks/.test(m));
      expect(waits).toHaveLength(1);
      expect(waits[0]).toMatch(new RegExp(`at most ${QUOTA} unfinished tasks`));
    } finally {
      await ex.close();
    }
  });
});
