/**
 * Endpoint policies (`--endpoint-policy data-local|fastest|cheapest`) on a real loopback service with
 * real endpoint agents. One endpoint is cheap but really slower (its worker sleeps longer per chunk,
 * see fixtures/site-sleep.ts), the other expensive and quick: the same analysis lands mostly on one
 * or the other depending on the policy. Each test starts its own pair (killed after it), so none
 * meets another's warm or busy workers. Placements are counted, never timed.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { encode } from '../../src/accumulate/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { checkTags } from '../../src/faas/capabilities.ts';
import {
  checkEndpointPolicy,
  cheapestTier,
  costOf,
  EndpointPolicyError,
  fastestIndex,
  rankEndpoints,
} from '../../src/faas/endpoint-policy.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { clusterEndpointsPerTest, until } from '../faas/helpers.ts';
import { runNode } from '../helpers/cli.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const SLEEPY = resolve(repoRoot, 'test', 'faas-executor', 'fixtures', 'site-sleep.ts');
const ENTRIES = 10_000; // Run2012B_SingleMu_10000.root
const CHUNKS = 20; // chunksize 500
// Every chunk sleeps 50 ms; on the cheap endpoint (named `cheap`) 1500 ms more. The slowdown is a
// sleep, so it holds on a loaded machine, where the CPU part of a chunk (reading, filling) can
// stretch to several 100 ms. Sleeping does not change the histograms (one reference for all).
const meta = (cheap: string) => ({ sleepMs: 50, slowEndpoint: cheap, slowMs: 1500 });

describe('endpoint policy: pure parts', () => {
  it('checks policy names and reads cost tags', () => {
    expect(checkEndpointPolicy('fastest')).toBe('fastest');
    expect(() => checkEndpointPolicy('fastes')).toThrow(EndpointPolicyError);
    expect(() => checkEndpointPolicy('fastes')).toThrow(
      /--endpoint-policy must be one of data-local, fastest, cheapest, got "fastes"/,
    );
    expect(costOf(['gpu', 'cost=2.5'])).toBe(2.5);
    expect(costOf(['cost=0'])).toBe(0);
    expect(costOf(['cost=cheap', 'site=x'])).toBeUndefined();
    expect(costOf(['costly'])).toBeUndefined();
    // Endpoints are refused such a tag at start.
    expect(() => checkTags(['cost=cheap'])).toThrow(/tag "cost=cheap" needs a number ≥ 0 after cost=/);
    expect(checkTags(['cost=0.5', 'costly'])).toEqual(['cost=0.5', 'costly']);
    const tier = cheapestTier(['a:3', 'b:1', 'c:', 'd:1'], (s) =>
      s.endsWith(':') ? undefined : Number(s.split(':')[1]),
    );
    expect([...tier]).toEqual(['b:1', 'd:1']);
    expect([...cheapestTier(['x', 'y'], () => undefined)]).toEqual(['x', 'y']);
  });

  it('fastest: earliest expected finish, waiting for a busy fast endpoint until enough chunks wait', () => {
    // Fast: 2 slots, 1 s per event-unit; slow: 2 slots, 3 units. Hand-computed finishes below.
    const fast = (queued: number) => ({ capacity: 2, queued, limit: 3, secPerEvent: 1 });
    const slow = (queued: number) => ({ capacity: 2, queued, limit: 3, secPerEvent: 3 });
    expect(fastestIndex([slow(0), fast(0)])).toBe(1); // 3 vs 1
    expect(fastestIndex([slow(0), fast(2)])).toBe(1); // 3 vs 2 (second wave on fast)
    // Fast is full (3 of 3): its next is at wave 2 (finish 2) < 3: wait for it.
    expect(fastestIndex([slow(0), fast(3)])).toBe(-1);
    // One chunk already waits for fast: this one would finish there at wave 3 (3) = slow's 3: a tie
    // goes to the endpoint with room.
    expect(fastestIndex([slow(0), fast(3)], 1)).toBe(0);
    // Slow has a chunk per slot already (finish 6): wait for fast.
    expect(fastestIndex([slow(2), fast(3)], 1)).toBe(-1);
    // Unmeasured endpoints count as the mean of the measured ones ((1 + 3) / 2 = 2 < 3; ties with the
    // full fast one at wave 2, and the one with room wins).
    expect(fastestIndex([slow(0), fast(3), { capacity: 2, queued: 0, limit: 3, secPerEvent: undefined }])).toBe(2);
    // Nothing measured: all alike; the one with most room wins.
    expect(
      fastestIndex([
        { capacity: 1, queued: 1, limit: 2, secPerEvent: undefined },
        { capacity: 4, queued: 1, limit: 5, secPerEvent: undefined },
      ]),
    ).toBe(1);
    expect(fastestIndex([])).toBe(-1);
  });

  it('rankEndpoints orders an endpoint listing for SDK users', () => {
    const eps = [
      { name: 'cloud', status: 'online', capacity: 8, in_flight: 0, tags: ['cost=5'] },
      { name: 'gone', status: 'offline', capacity: 8, in_flight: 0, tags: ['cost=0'] },
      { name: 'campus', status: 'online', capacity: 4, in_flight: 1, tags: ['cost=1'] },
      { name: 'laptop', status: 'online', capacity: 2, in_flight: 0, tags: [] },
    ];
    expect(rankEndpoints(eps, 'cheapest').map((e) => e.name)).toEqual(['campus', 'cloud', 'laptop']);
    expect(rankEndpoints(eps, 'data-local').map((e) => e.name)).toEqual(['cloud', 'campus', 'laptop']);
    expect(rankEndpoints(eps, 'fastest', { laptop: 0.1, campus: 0.5 }).map((e) => e.name)).toEqual([
      'laptop',
      'campus',
      'cloud',
    ]);
  });
});

let cluster: LocalCluster;
let threads: ThreadsExecutor;
let file: string;
let reference: Buffer;
/** Start an endpoint for the running test alone (killed after it). */
const ownEndpoint = clusterEndpointsPerTest(() => cluster);
/** A cheap, slow endpoint and an expensive, quick one (2 workers each) for the running test. */
async function ownPair(cheap: string, quick: string, extraTags: string[] = []): Promise<void> {
  await Promise.all([
    ownEndpoint(cheap, { workers: 2, tags: ['cost=1', 'site=campus', ...extraTags] }),
    ownEndpoint(quick, { workers: 2, tags: ['cost=5', 'site=cloud', ...extraTags] }),
  ]);
}

const dataset = (metadata: Record<string, unknown>): Dataset[] => [
  { name: 'singlemu', files: [{ path: file, tree: 'Events' }], metadata },
];
const bytesOf = (acc: unknown) => Buffer.from(encode(acc));

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  await mkdir(join(cluster.dir, 'data'));
  file = join(cluster.dir, 'data', 'singlemu.root');
  await copyFile(sharedPath('data', 'Run2012B_SingleMu_10000.root'), file);
  threads = new ThreadsExecutor({ workers: 2 });
  reference = bytesOf(
    (
      await runAnalysis({
        fileset: dataset({}),
        processor: SLEEPY,
        executor: threads,
        chunksize: 500,
        cacheFile: false,
      })
    ).accumulator,
  );
}, 300_000);

afterAll(async () => {
  await threads?.close();
  await cluster?.close();
});

/** Run the analysis on [cheap, quick] with `policy`; chunks done per endpoint name. */
async function placements(
  policy: 'fastest' | 'cheapest' | 'data-local',
  [cheap, quick]: [string, string],
): Promise<Record<string, number>> {
  const ex = await FaasExecutor.connect({
    service: cluster.url,
    endpoints: [cheap, quick],
    endpointPolicy: policy,
    pollSeconds: 0.25,
    offlineGraceSeconds: 0.5,
  });
  try {
    const r = await runAnalysis({
      fileset: dataset(meta(cheap)),
      processor: SLEEPY,
      executor: ex,
      chunksize: 500,
      cacheFile: false,
    });
    expect(r.metrics.events).toBe(ENTRIES);
    expect(r.metrics.chunks).toBe(CHUNKS);
    expect(bytesOf(r.accumulator).equals(reference)).toBe(true);
    const done = Object.fromEntries(ex.progress().map((e) => [e.name, e.done]));
    expect(Object.values(done).reduce((a, b) => a + b, 0)).toBe(CHUNKS);
    return done;
  } finally {
    await ex.close();
  }
}

describe('endpoint policy on real endpoints', () => {
  it('cheapest: the chunks go to the cheap (slower) endpoint although the expensive one is free', async () => {
    await ownPair('c-cheap', 'c-quick');
    const done = await placements('cheapest', ['c-cheap', 'c-quick']);
    // The expensive endpoint is a fallback, not overflow: it gets nothing while the cheap one is online.
    expect(done['c-cheap']).toBe(CHUNKS);
    expect(done['c-quick']).toBe(0);
  });

  it('fastest: most chunks go to the endpoint whose chunks finish sooner', async () => {
    // Warm both endpoints first: a worker's first chunk imports the processor (seconds on a loaded
    // machine), and a cold "quick" would rightly look slow to a run this short.
    await ownPair('f-cheap', 'f-quick');
    const warm = await placements('data-local', ['f-cheap', 'f-quick']);
    expect(warm['f-quick'] + warm['f-cheap']).toBe(CHUNKS);
    const done = await placements('fastest', ['f-cheap', 'f-quick']);
    // Same endpoints, the opposite choice: the quick one finishes a chunk in a fraction of the time.
    expect(done['f-quick']).toBeGreaterThan(done['f-cheap']);
    expect(done['f-quick']).toBeGreaterThanOrEqual(12);
  });

  it('cheapest falls back to the next cost when the cheap endpoint leaves mid-run; results exact', async () => {
    await ownPair('cheap2', 'fb-quick');
    const ex = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['cheap2', 'fb-quick'],
      endpointPolicy: 'cheapest',
      pollSeconds: 0.25,
      offlineGraceSeconds: 0.5,
    });
    try {
      // Long chunks (300 ms everywhere), so the run is far from over when "cheap2" has done two.
      const run = runAnalysis({
        fileset: dataset({ sleepMs: 300 }),
        processor: SLEEPY,
        executor: ex,
        chunksize: 500,
        cacheFile: false,
      });
      await until(
        async () => ((ex.progress().find((e) => e.name === 'cheap2')?.done ?? 0) >= 2 ? true : undefined),
        'cheap2 finished two chunks',
      );
      await cluster.killEndpoint('cheap2');
      const r = await run;
      expect(r.metrics.events).toBe(ENTRIES);
      expect(bytesOf(r.accumulator).equals(reference)).toBe(true);
      const done = Object.fromEntries(ex.progress().map((e) => [e.name, e.done]));
      expect(done.cheap2 + done['fb-quick']).toBe(CHUNKS);
      expect(done.cheap2).toBeGreaterThanOrEqual(2);
      expect(done['fb-quick']).toBeGreaterThan(0);
      expect(ex.faas.endpointsLost).toBe(1);
    } finally {
      await ex.close();
    }
  });

  it('run-analysis --endpoint-policy: chosen on the command line, recorded in metrics.json; bad names refused', async () => {
    // A tag of this test's pair alone: the selector matches neither endpoints of other tests nor their
    // offline records.
    await ownPair('cli-cheap', 'cli-quick', ['policy-cli']);
    const ds = join(cluster.dir, 'ds.json');
    await writeFile(ds, JSON.stringify({ singlemu: { files: [file], metadata: meta('cli-cheap') } }));
    const out = join(cluster.dir, 'out-cli');
    const ok = await cli([
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      ds,
      SLEEPY,
      '--executor',
      'faas',
      '--service',
      cluster.url,
      '--endpoints',
      'tag:policy-cli',
      '--endpoint-policy',
      'cheapest',
      '--chunksize',
      '500',
      '-o',
      out,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m.events).toBe(ENTRIES);
    expect(m.faas.endpointPolicy).toBe('cheapest');
    const done = Object.fromEntries(
      (m.faas.endpoints as { name: string; done: number }[]).map((e) => [e.name, e.done]),
    );
    expect(done['cli-cheap']).toBe(CHUNKS);
    const bad = await cli([
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      ds,
      SLEEPY,
      '--executor',
      'faas',
      '--service',
      cluster.url,
      '--endpoints',
      'cli-quick',
      '--endpoint-policy',
      'cheap',
      '-o',
      out,
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--endpoint-policy must be one of data-local, fastest, cheapest, got "cheap"/);
    const stray = await cli([
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      ds,
      SLEEPY,
      '--endpoint-policy',
      'fastest',
      '-o',
      out,
    ]);
    expect(stray.code).not.toBe(0);
    expect(stray.stderr).toMatch(/--endpoint-policy (only )?appl(y|ies) (only )?to --executor faas/);
    const err = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['cli-quick'],
      endpointPolicy: 'slowest' as never,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointPolicyError);
    expect((err as Error).message).toMatch(
      /endpointPolicy must be one of data-local, fastest, cheapest, got "slowest"/,
    );
  });
});

const cli = (args: string[]) => runNode(args, { env: { ...process.env, RISTRETTO_TOKEN: cluster.token } });
