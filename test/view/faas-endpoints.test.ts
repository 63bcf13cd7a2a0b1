/**
 * The FaaS executor's per-endpoint counters (what the live page and metrics.json show), on a real
 * local cluster: a worker process killed while its chunk runs is a retry of the endpoint it died on,
 * also when the service reruns the task on the other endpoint. The chunk waits at a gate file (see
 * fixtures/view-processor.ts), so the test decides when it may finish.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FaasExecutor } from '../../executors/faas/executor.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { ROOT_FILE } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';
import { workerOf } from './fixtures/processes.ts';

const PROCESSOR = join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts');
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.start();
  process.env.RISTRETTO_TOKEN = cluster.token;
  await Promise.all([cluster.startEndpoint('site-a'), cluster.startEndpoint('site-b')]);
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; !ok(); i++) {
    if (i > 6000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

it('a killed worker is a retry of its endpoint, wherever the service reruns the chunk', async () => {
  const gate = join(cluster.dir, 'gate');
  // one chunk of the whole file: it runs on one endpoint, the other stays idle
  const fileset = [{ name: 'MC', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: { gate } }];
  const ex = await FaasExecutor.connect({ service: cluster.url, endpoints: ['site-a', 'site-b'], pollSeconds: 0.25 });
  try {
    const run = runAnalysis({ fileset, processor: PROCESSOR, executor: ex, chunksize: 1_000_000, cacheFile: false });
    let died = '';
    await until('the chunk to be reported running', () => {
      died = ex.progress().find((e) => e.started === 1)?.name ?? '';
      return died !== '';
    });
    const other = died === 'site-a' ? 'site-b' : 'site-a';
    const worker = workerOf(cluster.endpoints.get(died)!.pid!);
    process.kill(worker, 'SIGKILL');
    await until(
      'the worker to be gone',
      () => !existsSync(`/proc/${worker}`) || /\) Z /.test(readFileSync(`/proc/${worker}/stat`, 'utf8')),
    );
    // the service reruns the task (its default attempts): on the other, idle endpoint or on the
    // killed worker's replacement, whichever takes it first
    await writeFile(gate, 'go');
    const r = await run;
    expect(r.metrics.chunks).toBe(1);
    const rows = Object.fromEntries(ex.progress().map((e) => [e.name, e]));
    expect(rows[died].retries).toBe(1);
    expect(rows[other].retries).toBe(0);
    expect(rows[died].done + rows[other].done).toBe(1);
    expect(rows[died].failures + rows[other].failures).toBe(0);
    expect(ex.report().endpoints.map((e) => [e.name, e.retries])).toEqual(
      ex.progress().map((e) => [e.name, e.retries]),
    );
  } finally {
    await ex.close();
  }
}, 300_000);
