/**
 * One retry policy for a chunk whose worker keeps dying, with real processes: the service reruns the
 * task as often as `maxAttempts` allows (on any candidate endpoint), then reports it lost; the FaaS
 * executor fails the chunk with WorkerLostError, as the threads executor does, and the runner's
 * `retries` (BaseExecutor) alone decides whether it is tried again — the executor adds no moves of
 * its own. The processor kills its worker on one chunk and logs each run, so the runs are counted
 * in a real file: (1 + retries) × maxAttempts, from the settings below, not from the code.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { WorkerLostError } from '../../src/runner/errors.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const DIES = resolve(repoRoot, 'test', 'faas-executor', 'fixtures', 'worker-dies.ts');
const ROOT_FILE = () => sharedPath('data', 'Run2012B_SingleMu_10000.root');

let cluster: LocalCluster;
const dir = mkdtempSync(join(tmpdir(), 'ristretto-lost-chunk-'));

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  await Promise.all([cluster.startEndpoint('lost-a'), cluster.startEndpoint('lost-b')]);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a chunk lost for good', () => {
  it('fails with WorkerLostError after maxAttempts runs by the service, retried only by --retries', async () => {
    const runLog = join(dir, 'runs.log');
    const ex = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: ['lost-a', 'lost-b'],
      maxAttempts: 2,
      retries: 1,
      // No tail copies: on a loaded machine the service may copy the dying chunk's slow second run to
      // the other endpoint (a task of its own, with its own attempts), which would add runs this test
      // does not count. Tail copies are tested in test/faas/tail-*.test.ts.
      maxCopies: 1,
    });
    let error: unknown;
    try {
      await runAnalysis({
        // Two chunks of 5000 entries: the second (from entry 5000) kills its worker every time.
        fileset: [{ name: 'dies', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: { dieAt: 5000, runLog } }],
        processor: DIES,
        executor: ex,
        chunksize: 5000,
        cacheFile: false,
      });
    } catch (e) {
      error = e;
    } finally {
      await ex.close();
    }
    expect(error).toBeInstanceOf(WorkerLostError);
    const message = (error as Error).message;
    // It names the chunk, the endpoint and the runs the service made.
    expect(message).toMatch(/entries \[5000, 10000\)/);
    expect(message).toMatch(/on endpoint lost-[ab] .*\(attempt 2 of 2\)/);
    // 2 service runs × (1 + 1 retry), each logged by the processor just before it killed its worker.
    expect(readFileSync(runLog, 'utf8').trim().split('\n')).toHaveLength(4);
    expect(ex.stats.retries).toBe(1);
  });
});
