/**
 * Capability routing on a real loopback service with real endpoint agents: tags and local paths
 * advertised in the hello, stored and listed; `tag:` selectors in --endpoints; data-local chunks
 * sent first to the endpoint that reads their file locally. "near" and "far" (started once) are only
 * looked at; every test that runs work starts endpoints of its own, with tags no other test uses, so
 * selectors match only them. No timing assertions.
 */
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { EndpointSelectorError } from '../../executors/faas/errors.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { encode } from '../../src/accumulate/index.ts';
import { CapabilityError, checkTags, splitSelectors } from '../../src/faas/capabilities.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { clusterEndpointsPerTest, until } from '../faas/helpers.ts';
import { runNode } from '../helpers/cli.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const SLEEPY = resolve(repoRoot, 'test', 'faas-executor', 'fixtures', 'site-sleep.ts');
const ENTRIES = 10_000; // Run2012B_SingleMu_10000.root

let cluster: LocalCluster;
let threads: ThreadsExecutor;
let fx: FaasClient;
/** The ROOT file copied under a folder only endpoint "near" advertises as local. */
let storeDir: string;
let localFile: string;
/** Start an endpoint for the running test alone (killed after it). */
const ownEndpoint = clusterEndpointsPerTest(() => cluster);

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  storeDir = join(cluster.dir, 'store');
  await mkdir(storeDir);
  localFile = join(storeDir, 'singlemu.root');
  await copyFile(sharedPath('data', 'Run2012B_SingleMu_10000.root'), localFile);
  // "near" sees the store under another name (its mount point): the executor maps paths first.
  await symlink(storeDir, join(cluster.dir, 'near-mount'));
  await Promise.all([
    cluster.startEndpoint('near', {
      tags: ['cpu', 'site=T2_US', 'cost=3'],
      localPaths: [`${join(cluster.dir, 'near-mount')}/`],
    }),
    cluster.startEndpoint('far', { tags: ['gpu', 'site=T1_DE'] }),
  ]);
  threads = new ThreadsExecutor({ workers: 2 });
  fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
}, 300_000);

afterAll(async () => {
  await fx?.close();
  await threads?.close();
  await cluster?.close();
});

const dataset = (file: string, metadata: Record<string, unknown> = {}): Dataset[] => [
  { name: 'singlemu', files: [{ path: file, tree: 'Events' }], metadata },
];
const bytesOf = (acc: unknown) => Buffer.from(encode(acc));

const cli = (args: string[]) => runNode(args, { env: { ...process.env, RISTRETTO_TOKEN: cluster.token } });

describe('capability routing', () => {
  it('tags and local paths round-trip: hello -> service -> SDK and `faas endpoint list`', async () => {
    const near = await fx.getEndpoint('near');
    expect(near.tags).toEqual(['cpu', 'site=T2_US', 'cost=3']);
    expect(near.local_paths).toEqual([`${join(cluster.dir, 'near-mount')}/`]);
    const listed = await fx.listEndpoints();
    expect(listed.find((e) => e.name === 'far')).toMatchObject({ tags: ['gpu', 'site=T1_DE'], local_paths: [] });
    const { code, stdout } = await cli([
      join(repoRoot, 'bin', 'ristretto.mjs'),
      'faas',
      'endpoint',
      'list',
      '--service',
      cluster.url,
    ]);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(lines[0].slice(-2)).toEqual(['tags', 'local_paths']);
    expect(lines.find((l) => l[1] === 'near')!.slice(-2)).toEqual([
      'cpu,site=T2_US,cost=3',
      `${join(cluster.dir, 'near-mount')}/`,
    ]);
    expect(lines.find((l) => l[1] === 'far')!.slice(-2)).toEqual(['gpu,site=T1_DE', '-']);
  });

  it('bad tags are refused by the CLI before connecting and by the service in a hello', async () => {
    expect(() => checkTags(['site=T2 US'])).toThrow(CapabilityError);
    expect(() => checkTags(Array.from({ length: 33 }, (_, i) => `t${i}`))).toThrow(/at most 32/);
    expect(() => splitSelectors(['tag:'])).toThrow(/needs a tag/);
    const r = await cli([
      join(repoRoot, 'bin', 'ristretto.mjs'),
      'faas',
      'endpoint',
      'start',
      '--service',
      cluster.url,
      '--name',
      'bad',
      '--tag',
      'a b',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/tag "a b" is not a valid tag/);
    // A hand-made hello with too many tags: refused, the endpoint is not created, the service lives on.
    const ws = new WebSocket(`${cluster.url.replace(/^http/, 'ws')}/v1/agent`, {
      headers: { authorization: `Bearer ${cluster.token}` },
    });
    const inbox: { type: string; message?: string }[] = [];
    ws.on('message', (d) => inbox.push(JSON.parse(String(d))));
    const closed = new Promise<number>((r2) => ws.once('close', (c) => r2(c)));
    await new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail)));
    ws.send(
      JSON.stringify({
        type: 'hello',
        name: 'tagged',
        capacity: 1,
        prefetch: 0,
        cached_hashes: [],
        holding: [],
        agent_version: '1',
        hostname: 'h',
        tags: Array.from({ length: 33 }, (_, i) => `t${i}`),
      }),
    );
    const msg = await until(async () => inbox[0], 'hello answer');
    expect(msg).toMatchObject({ type: 'error', message: expect.stringMatching(/tags/) });
    expect(await closed).toBe(1008);
    expect((await fx.listEndpoints()).find((e) => e.name === 'tagged')).toBeUndefined();
    expect((await fx.getEndpoint('near')).status).toBe('online');
  });

  it('a selector that matches nothing is an error listing the endpoints and their tags', async () => {
    const err = await FaasExecutor.connect({ service: cluster.url, endpoints: ['near', 'tag:site=T3_XX'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EndpointSelectorError);
    const m = (err as Error).message;
    expect(m).toContain('no endpoint has the tag "site=T3_XX"');
    expect(m).toContain('near [cpu, site=T2_US, cost=3]');
    expect(m).toContain('far [gpu, site=T1_DE]');
  });

  it('run-analysis --endpoints tag:site=T2_CLI uses only matching endpoints; a mix adds the named one', async () => {
    await Promise.all([
      ownEndpoint('cli-near', { tags: ['cpu', 'site=T2_CLI', 'cost=4'] }),
      ownEndpoint('cli-far', { tags: ['gpu', 'site=T1_CLI'] }),
    ]);
    const ds = join(cluster.dir, 'ds.json');
    await import('node:fs/promises').then((f) => f.writeFile(ds, JSON.stringify({ singlemu: [localFile] })));
    for (const [sel, expected] of [
      ['tag:site=T2_CLI', ['cli-near']],
      ['tag:site=T1_CLI', ['cli-far']],
      ['cli-far,tag:cost=4', ['cli-near', 'cli-far']],
    ] as const) {
      const out = join(cluster.dir, `out-${sel.replace(/\W/g, '_')}`);
      const r = await cli([
        join(repoRoot, 'bin', 'run-analysis.mjs'),
        ds,
        SLEEPY,
        '--executor',
        'faas',
        '--service',
        cluster.url,
        '--endpoints',
        sel,
        '--chunksize',
        '2000',
        '-o',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
      expect(m.events).toBe(ENTRIES);
      const eps = m.faas.endpoints as { name: string; done: number }[];
      expect(eps.map((e) => e.name).sort()).toEqual([...expected].sort());
      expect(eps.reduce((n, e) => n + e.done, 0)).toBe(5);
    }
  });

  it('an endpoint matching the selector that comes online later joins the run; results exact', async () => {
    await ownEndpoint('join-first', { tags: ['site=T2_JOIN'] });
    const fileset = dataset(localFile, { sleepMs: 20 });
    const ref = await runAnalysis({ fileset, processor: SLEEPY, executor: threads, chunksize: 1000, cacheFile: false });
    const ex = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['tag:site=T2_JOIN'],
      pollSeconds: 0.25,
      offlineGraceSeconds: 0.5,
    });
    try {
      expect(ex.sites.map((s) => s.name)).toEqual(['join-first']);
      await ownEndpoint('join-late', { tags: ['site=T2_JOIN'] });
      await until(async () => (ex.sites.some((s) => s.name === 'join-late') ? true : undefined), 'late endpoint joins');
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 1000, cacheFile: false });
      expect(r.metrics.events).toBe(ENTRIES);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      expect(ex.sites.map((s) => s.name).sort()).toEqual(['join-first', 'join-late']);
    } finally {
      await ex.close();
    }
  });

  it('data locality: chunks of a file under an endpoint’s --local-path (after path mapping) go there first', async () => {
    // Two equal endpoints, one of which reads the store locally (under its own mount point).
    await Promise.all([
      ownEndpoint('loc-near', { localPaths: [`${join(cluster.dir, 'near-mount')}/`] }),
      ownEndpoint('loc-far'),
    ]);
    // Chunks long enough (200 ms) that both endpoints would get a fair share without locality.
    const fileset = dataset(localFile, { sleepMs: 200 });
    const ref = await runAnalysis({ fileset, processor: SLEEPY, executor: threads, chunksize: 500, cacheFile: false });
    const pathMap = { 'loc-near': { [`${storeDir}/`]: `${join(cluster.dir, 'near-mount')}/` } };
    const ex = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['loc-near', 'loc-far'],
      pollSeconds: 0.25,
      offlineGraceSeconds: 0.5,
      pathMap,
    });
    try {
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 500, cacheFile: false });
      expect(r.metrics.events).toBe(ENTRIES);
      expect(r.metrics.chunks).toBe(20);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      const done = Object.fromEntries(ex.progress().map((e) => [e.name, e.done]));
      expect(done['loc-near'] + done['loc-far']).toBe(20);
      // Without locality the two equal endpoints split the chunks about evenly (measured 10/10, and 19/1
      // with it); only work stealing at the very end may hand a few queued ones to "loc-far".
      expect(done['loc-near']).toBeGreaterThanOrEqual(15);
    } finally {
      await ex.close();
    }
    // Control: a file outside the local path is shared between both endpoints as before.
    const other = join(cluster.dir, 'elsewhere.root');
    await copyFile(localFile, other);
    const ex2 = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['loc-near', 'loc-far'],
      pollSeconds: 0.25,
      offlineGraceSeconds: 0.5,
      pathMap,
    });
    try {
      const r = await runAnalysis({
        fileset: dataset(other, { sleepMs: 200 }),
        processor: SLEEPY,
        executor: ex2,
        chunksize: 500,
        cacheFile: false,
      });
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      const done = Object.fromEntries(ex2.progress().map((e) => [e.name, e.done]));
      expect(done['loc-far']).toBeGreaterThan(0);
    } finally {
      await ex2.close();
    }
  });
});
