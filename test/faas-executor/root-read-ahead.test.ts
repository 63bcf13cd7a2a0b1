/**
 * A FaaS run over root:// reads what it uses and no more: an endpoint worker reads each chunk of a batch
 * ahead as told by the batch (the next item), and nothing after a task's last chunk, since the next task
 * goes to whichever worker asks first. Before, the last chunk of every task guessed the range right after
 * it, of its own length: wrong for chunks of different lengths (--align) and, with several workers, mostly
 * another worker's chunk, read for nothing. Against real processes on loopback: a service, endpoints
 * started through the `ristretto faas` CLI, and an xrootd. The reference is the same endpoint code
 * reading the same file from local disk, which reads nothing ahead.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { encode } from '../../src/accumulate/index.ts';
import { convert } from '../../src/io/convert.ts';
import { openReader } from '../../src/io/open.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { clusterEndpointsPerTest } from '../faas/helpers.ts';
import { tempDir } from '../helpers/files.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { repoRoot, sharedPath } from '../shared.ts';

// Real processes on a machine that may be busy: the limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const missing = xrootdMissingFor('FaaS read-ahead over root://');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const dir = tempDir('faas-root-read-ahead');
/** The 10,000 NanoAOD events as ROOT in baskets of 700 entries. */
const ROOT700 = join(dir, 'nano-700.root');
const Q3 = join(repoRoot, 'processors', 'adl', 'query-3.ts');

describe.skipIf(missing !== undefined)('FaaS over root:// reads ahead from the task, not by guess', () => {
  let server: XrootdServer;
  let cluster: LocalCluster;
  const ownEndpoint = clusterEndpointsPerTest(() => cluster);

  beforeAll(async () => {
    const r = await openReader(NANO);
    try {
      expect((await convert(r, ROOT700, { chunkSize: 700 })).chunks).toBe(15);
    } finally {
      await r.close();
    }
    server = await startXrootd([ROOT700]);
    cluster = await LocalCluster.start();
    process.env.RISTRETTO_TOKEN = cluster.token;
  });
  afterAll(async () => {
    await cluster?.close();
    await server?.stop();
  });

  /**
   * Q3 over `file` on a fresh endpoint of one worker: each run opens the file once, in that worker, so
   * both count the same bytes for opening it (with two workers, whether both open it is up to timing).
   */
  async function faasRun(file: string, endpoint: string) {
    await ownEndpoint(endpoint);
    const json = join(dir, `${endpoint}.json`);
    writeFileSync(json, JSON.stringify({ SingleMu: { files: [file], metadata: { isData: true } } }));
    const faas = await FaasExecutor.connect({
      service: cluster.url,
      endpoints: [endpoint],
      pollSeconds: 0.25,
      offlineGraceSeconds: 0.5,
    });
    try {
      // Chunks of about 1600 cut at basket starts: 1400 entries each, 1600 for the last.
      return await runAnalysis({
        fileset: json,
        processor: Q3,
        executor: faas,
        chunksize: 1600,
        align: true,
        cacheFile: false,
      });
    } finally {
      await faas.close();
    }
  }

  it('chunks of different lengths: an endpoint reads over root:// the bytes it reads from local disk', async () => {
    const local = await faasRun(ROOT700, 'ra-local');
    const remote = await faasRun(server.url('nano-700.root'), 'ra-remote');
    expect(remote.metrics.chunks).toBe(7);
    expect(local.metrics.chunks).toBe(7);
    expect(Buffer.from(encode(remote.accumulator)).equals(Buffer.from(encode(local.accumulator)))).toBe(true);
    // A chunk read ahead for nothing is counted in the next chunk the worker reads from the same reader.
    expect(remote.metrics.bytesRead).toBe(local.metrics.bytesRead);
  });
});
