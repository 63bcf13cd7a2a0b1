/**
 * The FaaS executor against real processes on loopback: a service and endpoint agents started through
 * the `ristretto faas` CLI, worker processes, the runner. Each test starts endpoints of its own (killed
 * after it), so none waits for another's cancelled chunks or warm workers. References come from the
 * threads executor (which shares no code with the FaaS path beyond processChunk) and from the files'
 * own entry counts.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor, mapPath } from '../../executors/faas/index.ts';
import { startBlobStore } from '../../executors/faas/blob-store.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { encode } from '../../src/accumulate/index.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { childPids, clusterEndpointsPerTest, until } from '../faas/helpers.ts';
import { runNode } from '../helpers/cli.ts';
import { repoRoot, sharedPath } from '../shared.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const ROOT_FILE = () => sharedPath('data', 'Run2012B_SingleMu_10000.root');
const PARQUET_FILE = () => sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const SLEEPY = resolve(repoRoot, 'test', 'faas-executor', 'fixtures', 'site-sleep.ts');
const QUERY = resolve(repoRoot, 'processors', 'adl', 'query-5.ts');

let cluster: LocalCluster;
let threads: ThreadsExecutor;
let entries: number;
/** Start an endpoint for the running test alone (killed after it). */
const ownEndpoint = clusterEndpointsPerTest(() => cluster);
/** Start endpoints for the running test alone, all at once. */
const ownEndpoints = (...names: string[]) => Promise.all(names.map((n) => ownEndpoint(n)));

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  threads = new ThreadsExecutor({ workers: 2 });
  const r = await openRoot(ROOT_FILE(), { treeName: 'Events' });
  entries = r.numEntries;
  await r.close();
}, 300_000);

afterAll(async () => {
  await threads?.close();
  await cluster?.close();
});

const rootDataset = (metadata: Record<string, unknown> = {}): Dataset[] => [
  { name: 'singlemu', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata },
];

const bytesOf = (acc: unknown) => Buffer.from(encode(acc));

async function connect(endpoints: string[], extra: Partial<Parameters<typeof FaasExecutor.connect>[0]> = {}) {
  return FaasExecutor.connect({
    service: cluster.url,
    endpoints,
    pollSeconds: 0.25,
    offlineGraceSeconds: 0.5,
    ...extra,
  });
}

async function reference(processor: string, fileset: Dataset[], chunksize: number) {
  return runAnalysis({ fileset, processor, executor: threads, chunksize, cacheFile: false });
}

describe('FaaS executor', () => {
  it('gives byte-identical results to the threads executor, with results inline, staged in a directory, or staged over HTTP', async () => {
    await ownEndpoints('eq-a', 'eq-b');
    const ref = await reference(QUERY, rootDataset(), 1000);
    const stageDir = join(cluster.dir, 'stage');
    await mkdir(stageDir);
    const store = await startBlobStore({ dir: join(cluster.dir, 'blobs') });
    try {
      for (const stageout of [undefined, stageDir, store.url]) {
        const ex = await connect(['eq-a', 'eq-b'], stageout ? { stageout, stageoutThreshold: 0 } : {});
        try {
          const r = await runAnalysis({
            fileset: rootDataset(),
            processor: QUERY,
            executor: ex,
            chunksize: 1000,
            cacheFile: false,
          });
          expect(r.metrics.events).toBe(entries);
          expect(r.metrics.chunks).toBe(10);
          expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
          expect(ex.faas.bundleShipments).toBe(2); // once per endpoint
          expect(ex.faas.stagedResults).toBe(stageout ? 10 : 0);
        } finally {
          await ex.close();
        }
      }
      // Fetched results were deleted and the run folders removed.
      expect(await readdir(stageDir)).toEqual([]);
      expect(
        (await readdir(join(cluster.dir, 'blobs'), { recursive: true })).filter((f) => f.endsWith('.bin')),
      ).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('survives SIGKILL of one of two endpoints mid-analysis with exactly the right events and histograms', async () => {
    await ownEndpoints('kill-a', 'kill-c');
    const fileset = rootDataset({ sleepMs: 150 });
    const ref = await reference(SLEEPY, fileset, 500);
    const ex = await connect(['kill-a', 'kill-c']);
    let killed: Promise<void> | undefined;
    // Kill kill-c while it holds work: after its first result, or (on a loaded machine, where it may be
    // slow to return one) as soon as it has chunks in flight and the run has gone on for a while.
    const t0 = Date.now();
    const timer = setInterval(() => {
      const c = ex.progress().find((e) => e.name === 'kill-c')!;
      if (!killed && c.running >= 1 && (c.done >= 1 || Date.now() - t0 > 1500)) killed = cluster.killEndpoint('kill-c');
    }, 20);
    try {
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 500, cacheFile: false });
      expect(killed).toBeDefined();
      expect(r.metrics.events).toBe(entries);
      expect(r.metrics.chunks).toBe(20);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      expect(ex.faas.endpointsLost).toBe(1);
      const c = ex.progress().find((e) => e.name === 'kill-c')!;
      expect(c.online).toBe(false);
      expect(c.done).toBeLessThan(20);
    } finally {
      clearInterval(timer);
      await killed;
      await ex.close();
    }
  });

  it('tail retry: chunks stuck on a slow endpoint are rerun elsewhere, first result wins, nothing is merged twice', async () => {
    await ownEndpoints('tail-a', 'tail-b');
    const fileset = rootDataset({ sleepMs: 100, slowEndpoint: 'tail-b', slowMs: 20_000 });
    const ref = await reference(SLEEPY, rootDataset(), 1000);
    const ex = await connect(['tail-a', 'tail-b']);
    try {
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 1000, cacheFile: false });
      expect(r.metrics.events).toBe(entries);
      expect(r.metrics.chunks).toBe(10);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      expect(ex.faas.tailRetries).toBeGreaterThanOrEqual(1);
      // Every retried chunk had a losing copy: cancelled before it finished or discarded when it arrived.
      expect(ex.faas.duplicatesCancelled + ex.faas.duplicatesDiscarded).toBeGreaterThanOrEqual(ex.faas.tailRetries);
      const [a, b] = ex.progress();
      expect(a.done + b.done).toBe(10);
      expect(b.done).toBe(0); // 20 s per chunk there: the run could only finish this way
    } finally {
      await ex.close();
    }
  });

  it('late binding: chunks sent to an endpoint that another user keeps busy start on the idle one instead', async () => {
    await ownEndpoints('lb-a', 'lb-b');
    const fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
    const fileset = rootDataset({ sleepMs: 100 });
    const ref = await reference(SLEEPY, fileset, 1000);
    const ex = await connect(['lb-a', 'lb-b']);
    let blockers: string[] = [];
    try {
      // A first run stages the bundle at both endpoints and uses both.
      const first = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 1000, cacheFile: false });
      expect(bytesOf(first.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      const doneBefore = ex.progress().map((p) => p.done);
      expect(doneBefore[0]).toBeGreaterThan(0);
      // Then another user fills lb-a: its slot and the one task its agent takes ahead.
      const sleep = await fx.registerFunction(
        'export default async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; };',
      );
      const capacity = (await fx.getEndpoint('lb-a')).capacity;
      blockers = await fx.batchRun(
        Array.from({ length: capacity + 1 }, () => ({
          functionId: sleep,
          endpoint: 'lb-a',
          args: 60_000,
          group: 'other',
        })),
      );
      // Wait until they hold its slot (no fixed wait: a loaded machine may take long to start them).
      await until(
        async () => ((await fx.getEndpoint('lb-a')).busy >= capacity ? true : undefined),
        'lb-a busy with the other user’s tasks',
      );
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 1000, cacheFile: false });
      expect(r.metrics.events).toBe(entries);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      // The executor still sent chunks to lb-a (it looked as good as before); the service started
      // them on lb-b, and the executor counted them there.
      expect(ex.faas.lateBound).toBeGreaterThanOrEqual(1);
      const [a, b] = ex.progress();
      expect(a.done).toBe(doneBefore[0]);
      expect(b.done - doneBefore[1]).toBe(10);
      expect(a.running + b.running).toBe(0);
    } finally {
      await ex.close();
      if (blockers.length) await fx.cancel(blockers);
      await fx.close();
    }
  });

  it('an endpoint that refuses the processor bundle gets no chunks; the run completes on the others with a note', async () => {
    // ref-r accepts only a function that is not Ristretto's chunk function.
    const fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
    const other = await fx.registerFunction('export default () => 1;');
    await fx.close();
    await Promise.all([ownEndpoint('ref-r', { allowFunctions: [other] }), ownEndpoint('ref-a')]);
    const notes: string[] = [];
    const ex = await connect(['ref-r', 'ref-a'], { onNote: (m) => notes.push(m) });
    try {
      const ref = await reference(QUERY, rootDataset(), 1000);
      const r = await runAnalysis({
        fileset: rootDataset(),
        processor: QUERY,
        executor: ex,
        chunksize: 1000,
        cacheFile: false,
      });
      expect(r.metrics.events).toBe(entries);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
      const [siteR, siteA] = ex.progress();
      expect(siteR.done).toBe(0);
      expect(siteA.done).toBe(10);
      expect(
        notes.some((n) => /endpoint ref-r did not take the processor bundle .*does not allow function/.test(n)),
      ).toBe(true);
    } finally {
      await ex.close();
    }
  });

  it('a losing copy that finishes after the winner leaves nothing in the stage-out store, and its worker stays warm', async () => {
    // lose-b is slow but finishes within the cancel grace period: its copies run to their end after
    // losing, and must not write their results to the store (nobody would fetch or delete them).
    await ownEndpoints('lose-a', 'lose-b');
    const fileset = rootDataset({ sleepMs: 50, slowEndpoint: 'lose-b', slowMs: 1500 });
    const ref = await reference(SLEEPY, rootDataset(), 1000);
    const fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
    const agent = () => cluster.endpoints.get('lose-b')!.pid!;
    const idle = async () => ((await fx.getEndpoint('lose-b')).busy === 0 ? true : undefined);
    try {
      // The agent reports attached before its worker process may be up: wait for that one worker.
      await until(async () => (childPids(agent()).length === 1 ? true : undefined), 'lose-b with its worker');
      const store = await startBlobStore({ dir: join(cluster.dir, 'blobs-tail') });
      const workersBefore = childPids(agent());
      // No chunk queued ahead: lose-b's only chunk is running when it is retried (a queued one would be
      // stolen and cancelled before it ran, which is not what this test is about).
      const ex = await connect(['lose-a', 'lose-b'], { stageout: store.url, stageoutThreshold: 0, ahead: 0 });
      try {
        const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 1000, cacheFile: false });
        expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
        expect(ex.faas.tailRetries).toBeGreaterThanOrEqual(1);
        expect(ex.faas.stagedResults).toBe(10);
        await ex.close();
        // Every losing copy on lose-b has run to its end (1.5 s per chunk, within the 5 s grace): a
        // fixed wait could look before a slow copy wrote its result, and pass for that reason alone.
        await until(idle, 'lose-b idle after the run', 240_000);
        expect(
          (await readdir(join(cluster.dir, 'blobs-tail'), { recursive: true })).filter((f) => f.endsWith('.bin')),
        ).toEqual([]);
        // Cancelled copies were not stopped by killing their worker: lose-b still has the same one.
        expect(childPids(agent())).toEqual(workersBefore);
      } finally {
        await ex.close();
        await store.close();
      }
    } finally {
      await fx.close();
    }
  });

  it('completes when the service is killed and restarted mid-analysis', async () => {
    await ownEndpoints('rs-a', 'rs-b');
    const fileset = rootDataset({ sleepMs: 200 });
    const ref = await reference(SLEEPY, fileset, 500);
    const ex = await connect(['rs-a', 'rs-b'], { servicePatienceSeconds: 60 });
    let restarted: Promise<void> | undefined;
    const timer = setInterval(() => {
      const done = ex.progress().reduce((n, e) => n + e.done, 0);
      if (!restarted && done >= 3) {
        restarted = (async () => {
          await cluster.killService();
          await new Promise((r) => setTimeout(r, 1000));
          await cluster.startService();
        })();
      }
    }, 20);
    try {
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: 500, cacheFile: false });
      expect(restarted).toBeDefined();
      await restarted;
      expect(r.metrics.events).toBe(entries);
      expect(bytesOf(r.accumulator).equals(bytesOf(ref.accumulator))).toBe(true);
    } finally {
      clearInterval(timer);
      await restarted;
      await ex.close();
    }
  }, 300_000);

  it('run-analysis --executor faas: a corrupt file with --skipbadfiles is reported in the summary and metrics.json', async () => {
    await ownEndpoints('cli-a', 'cli-b');
    const dir = join(cluster.dir, 'cli');
    await mkdir(dir);
    const root = Buffer.from(await readFile(ROOT_FILE()));
    root.fill(0, 1000, root.length - 200_000); // opens fine, fails when baskets are read
    const corrupt = join(dir, 'corrupt.root');
    await writeFile(corrupt, root);
    const ds = join(dir, 'ds.json');
    await writeFile(ds, JSON.stringify({ good: [PARQUET_FILE()], bad: [corrupt] }));
    const out = join(dir, 'out');
    const args = [
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      ds,
      SLEEPY,
      '--executor',
      'faas',
      '--service',
      cluster.url,
      '--endpoints',
      'cli-a,cli-b',
      '--chunksize',
      '4000',
      '--skipbadfiles',
      '-o',
      out,
    ];
    const { code, stderr } = await runNode(args, { env: { ...process.env, RISTRETTO_TOKEN: cluster.token } });
    expect(stderr).toContain('skipping');
    expect(code).toBe(0);
    expect(stderr).toMatch(/skipped files\s+1/);
    expect(stderr).toContain(corrupt);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m.executor).toBe('faas');
    expect(m.events).toBe(1000);
    expect(m.skippedFiles.map((s: { file: string; stage: string }) => [s.file, s.stage])).toEqual([
      [corrupt, 'process'],
    ]);
    expect(m.faas.endpoints.map((e: { name: string }) => e.name)).toEqual(['cli-a', 'cli-b']);
  });

  it('names unknown endpoints with the closest ones, and refuses FaaS options without --executor faas', async () => {
    // An endpoint known to the service by name (no agent needed for the error to name it).
    const fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
    await fx.registerEndpoint('site-a');
    await fx.close();
    const err = await FaasExecutor.connect({ service: cluster.url, endpoints: ['site-aa'] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/endpoint "site-aa" does not exist.*closest endpoint names: site-a/);
    const { withFaasExecutor } = await import('../../executors/faas/cli-options.ts');
    const refused = await withFaasExecutor(
      { executor: 'threads', service: cluster.url },
      { finish() {} },
      async () => ({ metrics: {} as never }),
    ).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/--service applies only to --executor faas/);
  });

  it("maps client paths to each endpoint's mount, longest prefix first", () => {
    const m = {
      '/mnt/data/': '/hadoop/store/',
      '/mnt/data/special/': '/fast/',
      'root://xrd.example.org//store/': '/hadoop/store/',
    };
    expect(mapPath('/mnt/data/x.root', m)).toBe('/hadoop/store/x.root');
    expect(mapPath('/mnt/data/special/y.root', m)).toBe('/fast/y.root');
    expect(mapPath('root://xrd.example.org//store/z.root', m)).toBe('/hadoop/store/z.root');
    expect(mapPath('/elsewhere/x.root', m)).toBe('/elsewhere/x.root');
    expect(mapPath('/mnt/data/x.root', undefined)).toBe('/mnt/data/x.root');
  });
});
