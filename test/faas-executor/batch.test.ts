/**
 * Merge groups as FaaS tasks (`FaasExecutor.submitBatch`), against real processes on loopback: a
 * service, endpoint agents and their worker processes started through the `ristretto faas` CLI, each
 * test with endpoints of its own. The 10,000-entry ROOT file in chunks of 100 is 100 work items; the
 * runner's first merge groups hold 12, 11, 9, … items, and it hands a group out whole while the
 * group is at most 1/(2 × slots) of what is left (src/runner/merge-groups.ts), so with 1 to 3 worker
 * slots most of the run goes as batches and the tail item by item. References come from the
 * in-process executor, which shares nothing with the FaaS path but process-chunk.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { IterativeExecutor } from '../../executors/iterative.ts';
import { encode } from '../../src/accumulate/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { ChunkError } from '../../src/runner/errors.ts';
import { RunInterruptedError, runAnalysis } from '../../src/runner/run.ts';
import { clusterEndpointsPerTest } from '../faas/helpers.ts';
import { repoRoot, sharedPath } from '../shared.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const ROOT_FILE = () => sharedPath('data', 'Run2012B_SingleMu_10000.root');
const fixture = (name: string) => resolve(repoRoot, 'test', 'fixtures', 'processors', name);
/** Histograms at several depths, one weighted by MET / 37: bin sums depend on the order of merges. */
const HISTS = fixture('hists.ts');
/** hists.ts sleeping `sleepMs` per chunk, so that a batch is still running when its endpoint is killed. */
const SLEEPY = resolve(repoRoot, 'test', 'faas-executor', 'fixtures', 'site-sleep.ts');
const CHUNK = 100;
const ITEMS = 10_000 / CHUNK;

let cluster: LocalCluster;
/** Start an endpoint for the running test alone: killed after it, also when the test fails. */
const ownEndpoint = clusterEndpointsPerTest(() => cluster);
const dir = mkdtempSync(join(tmpdir(), 'ristretto-faas-batch-'));

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
}, 300_000);

afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

const dataset = (metadata: Record<string, unknown> = {}): Dataset[] => [
  { name: 'singlemu', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata },
];
const bytesOf = (acc: unknown) => Buffer.from(encode(acc));

function connect(endpoints: string[], extra: Partial<Parameters<typeof FaasExecutor.connect>[0]> = {}) {
  return FaasExecutor.connect({
    service: cluster.url,
    endpoints,
    pollSeconds: 0.25,
    offlineGraceSeconds: 0.5,
    ...extra,
  });
}

async function reference(processor: string, fileset: Dataset[]) {
  const r = await runAnalysis({
    fileset,
    processor,
    executor: () => new IterativeExecutor(),
    chunksize: CHUNK,
    cacheFile: false,
  });
  return bytesOf(r.accumulator);
}

describe('FaaS executor: merge groups as batches', () => {
  it('weighted histograms are bit-identical to the iterative executor at 1 and 3 slots, staged out, and after --resume', async () => {
    await Promise.all([ownEndpoint('w-a'), ownEndpoint('w-b', { workers: 2 })]);
    const ref = await reference(HISTS, dataset());

    // One slot: every group but the last few single items goes as one task.
    const one = await connect(['w-a']);
    try {
      const r = await runAnalysis({
        fileset: dataset(),
        processor: HISTS,
        executor: one,
        chunksize: CHUNK,
        cacheFile: false,
      });
      expect(r.metrics.chunks).toBe(ITEMS);
      expect(r.metrics.events).toBe(10_000);
      expect(bytesOf(r.accumulator).equals(ref)).toBe(true);
      expect(one.faas.batches).toBeGreaterThan(0);
      expect(one.faas.batchedChunks).toBeGreaterThan(ITEMS / 2);
      expect(one.faas.batchedChunks).toBeLessThan(ITEMS);
      // The per-endpoint progress counts chunks, not tasks.
      expect(one.progress()[0]?.done).toBe(ITEMS);
    } finally {
      await one.close();
    }

    // Three slots on two endpoints, every result (batch or single) staged out through a directory.
    const stage = join(dir, 'stage');
    mkdirSync(stage);
    const three = await connect(['w-a', 'w-b'], { stageout: stage, stageoutThreshold: 0 });
    try {
      const r = await runAnalysis({
        fileset: dataset(),
        processor: HISTS,
        executor: three,
        chunksize: CHUNK,
        cacheFile: false,
      });
      expect(r.metrics.chunks).toBe(ITEMS);
      expect(bytesOf(r.accumulator).equals(ref)).toBe(true);
      expect(three.concurrency).toBe(3);
      expect(three.faas.batches).toBeGreaterThan(0);
      // One staged result fetched per task (each batch, and each item sent alone), more only when a
      // tail copy delivered while the winner's bytes were still being fetched.
      const tasks = three.faas.batches + (ITEMS - three.faas.batchedChunks);
      expect(three.faas.stagedResults).toBeGreaterThanOrEqual(tasks);
      expect(three.faas.stagedResults).toBeLessThanOrEqual(tasks + three.faas.tailRetries);
      const done = three.progress().reduce((n, e) => n + e.done, 0);
      expect(done).toBe(ITEMS);
    } finally {
      await three.close();
    }
    // Fetched results were deleted and the run's folder removed.
    expect(readdirSync(stage)).toEqual([]);

    // Interrupted after its first checkpoint (always at a group boundary), then resumed.
    const out = join(dir, 'resume');
    const stop = new AbortController();
    const first = await connect(['w-a', 'w-b']);
    let err: unknown;
    try {
      await runAnalysis({
        fileset: dataset(),
        processor: HISTS,
        executor: first,
        chunksize: CHUNK,
        cacheFile: false,
        outDir: out,
        checkpointEvery: 1,
        signal: stop.signal,
        hooks: { onCheckpoint: (n) => n > 0 && stop.abort() },
      });
    } catch (e) {
      err = e;
    } finally {
      await first.close();
    }
    expect(err).toBeInstanceOf(RunInterruptedError);
    const second = await connect(['w-a', 'w-b']);
    try {
      const r = await runAnalysis({
        fileset: dataset(),
        processor: HISTS,
        executor: second,
        chunksize: CHUNK,
        cacheFile: false,
        outDir: out,
        resume: true,
      });
      expect(r.metrics.resumedChunks).toBeGreaterThan(0);
      expect(r.metrics.resumedChunks).toBeLessThan(ITEMS);
      expect(r.metrics.chunks).toBe(ITEMS);
      expect(r.metrics.events).toBe(10_000);
      expect(bytesOf(r.accumulator).equals(ref)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('an endpoint SIGKILLed mid-batch: the batch reruns elsewhere, every chunk counted once', async () => {
    await Promise.all([ownEndpoint('k-a'), ownEndpoint('k-b')]);
    const fileset = dataset({ sleepMs: 40 });
    const ref = await reference(SLEEPY, fileset);
    const ex = await connect(['k-a', 'k-b']);
    let killed: Promise<void> | undefined;
    let doneAtKill = -1;
    // Kill k-b while a task runs there and fewer than 40 chunks are done: the runner's first 9 units
    // (groups of 12, 11, 9, 8, 7, 6, 5, 5 and 4 items: 67 chunks) are all batches on two slots, and it
    // keeps at most 4 units out, so what runs before 40 chunks are back is a batch.
    const timer = setInterval(() => {
      const eps = ex.progress();
      const b = eps.find((e) => e.name === 'k-b');
      const done = eps.reduce((n, e) => n + e.done, 0);
      if (!killed && b && b.started >= 1 && done < 40) {
        doneAtKill = done;
        killed = cluster.killEndpoint('k-b');
      }
    }, 10);
    try {
      const r = await runAnalysis({ fileset, processor: SLEEPY, executor: ex, chunksize: CHUNK, cacheFile: false });
      expect(killed).toBeDefined();
      expect(doneAtKill).toBeLessThan(40);
      expect(r.metrics.chunks).toBe(ITEMS);
      expect(r.metrics.events).toBe(10_000);
      expect(bytesOf(r.accumulator).equals(ref)).toBe(true);
      expect(ex.faas.batches).toBeGreaterThan(0);
      const eps = ex.progress();
      const b = eps.find((e) => e.name === 'k-b');
      expect(b?.online).toBe(false);
      // Chunks are counted where they won, once each.
      expect(eps.reduce((n, e) => n + e.done, 0)).toBe(ITEMS);
      expect(b?.done).toBeLessThan(ITEMS);
    } finally {
      clearInterval(timer);
      await killed;
      await ex.close();
    }
  });

  it('a chunk failing inside a batch is named by its own entry range and file', async () => {
    await Promise.all([ownEndpoint('f-a'), ownEndpoint('f-b')]);
    const ex = await connect(['f-a', 'f-b']);
    let err: unknown;
    try {
      // throws.ts fails on the chunk holding entry 500: [500, 600), the 6th item of the first merge
      // group (items 0-11), which goes out as one batch on two slots (12 ≤ 100 / 4).
      await runAnalysis({
        fileset: dataset(),
        processor: fixture('throws.ts'),
        executor: ex,
        chunksize: CHUNK,
        cacheFile: false,
      });
    } catch (e) {
      err = e;
    } finally {
      await ex.close();
    }
    expect(err).toBeInstanceOf(ChunkError);
    const e = err as ChunkError;
    expect(e.item.entryStart).toBe(500);
    expect(e.item.entryStop).toBe(600);
    expect(e.item.file).toBe(ROOT_FILE());
    expect(e.message).toMatch(/entries \[500, 600\)/);
    expect(e.processorMessage).toMatch(/^MET out of range/);
    expect(ex.faas.batches).toBeGreaterThan(0);
  });

  it('--skipbadfiles: a file that fails inside a batch is skipped whole, and nothing else', async () => {
    // Six row groups of 10,000 events, the second (entries 10,000-20,000) damaged, then a good file;
    // in chunks of 2,000 that is 35 items, whose merge groups [0, 4), [4, 7), [7, 10), … go out as
    // batches on two slots (3 ≤ 31 / 4), so the damaged chunks fail inside batches while later groups
    // of the same file run and succeed.
    await Promise.all([ownEndpoint('s-a'), ownEndpoint('s-b')]);
    const { generateSample } = await import('../../samples/generate.ts');
    const { parquetMetadata } = await import('hyparquet');
    const [good] = await generateSample({
      events: 10_000,
      seed: 5,
      out: join(dir, 'good'),
      formats: ['parquet'],
      chunk: 10_000,
    });
    const [bad] = await generateSample({
      events: 60_000,
      seed: 6,
      out: join(dir, 'bad'),
      formats: ['parquet'],
      chunk: 10_000,
    });
    const bytes = Buffer.from(await readFile(bad));
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const met = meta.row_groups[1]?.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'MET_pt')?.meta_data;
    if (!met) throw new Error('no MET_pt column chunk');
    bytes.fill(0xff, Number(met.data_page_offset), Number(met.data_page_offset) + 24);
    await writeFile(bad, bytes);
    const processor = fixture('met-muons.ts');
    const expected = await runAnalysis({
      fileset: [{ name: 'good', files: [{ path: good }], metadata: {} }],
      processor,
      executor: () => new IterativeExecutor(),
      chunksize: 2000,
      cacheFile: false,
    });
    const ex = await connect(['s-a', 's-b']);
    try {
      const r = await runAnalysis({
        fileset: [
          { name: 'bad', files: [{ path: bad }], metadata: {} },
          { name: 'good', files: [{ path: good }], metadata: {} },
        ],
        processor,
        executor: ex,
        chunksize: 2000,
        cacheFile: false,
        skipBadFiles: true,
      });
      expect(bytesOf(r.accumulator).equals(bytesOf(expected.accumulator))).toBe(true);
      expect(r.metrics.events).toBe(10_000);
      expect(r.metrics.skippedFiles.map((x) => [x.file, x.stage])).toEqual([[bad, 'process']]);
      expect(ex.faas.batches).toBeGreaterThan(0);
    } finally {
      await ex.close();
    }
  });
});
