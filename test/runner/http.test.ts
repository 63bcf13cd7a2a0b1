/**
 * Datasets served over HTTP from a real loopback server: URLs pass through, entry counts cache by ETag.
 * The server runs in its own thread: a column the processor touches without prefetch is read while the
 * processing thread waits (sync-read helper), so a server on that thread could not answer.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../src/runner/run.ts';
import { fixture, PARQUET_FILE, tempDir, writeJson } from './helpers.ts';

const SERVER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer } = require('node:http');
const body = require('node:fs').readFileSync(workerData.file);
let etag = '"v1"';
const requests = [];
const server = createServer((req, res) => {
  requests.push(req.method + ' ' + (req.headers.range ?? ''));
  if (req.url !== '/data.parquet') return void res.writeHead(404).end();
  const headers = { etag, 'accept-ranges': 'bytes' };
  const m = /^bytes=(\\d+)-(\\d+)$/.exec(req.headers.range ?? '');
  if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': body.length }).end();
  if (!m) return void res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
  const start = Number(m[1]), end = Math.min(Number(m[2]), body.length - 1);
  res.writeHead(206, { ...headers, 'content-range': 'bytes ' + start + '-' + end + '/' + body.length, 'content-length': end - start + 1 }).end(body.subarray(start, end + 1));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m.etag) etag = m.etag;
  parentPort.postMessage({ requests });
});
`;

let server: Worker;
let base: string;
let dir: string;
let cleanup: () => Promise<void>;

/** Send the server a message (e.g. a new ETag); resolves with its request log. */
async function tell(m: { etag?: string } = {}): Promise<string[]> {
  const reply = once(server, 'message');
  server.postMessage(m);
  return ((await reply)[0] as { requests: string[] }).requests;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  server = new Worker(SERVER, { eval: true, workerData: { file: PARQUET_FILE() } });
  const [{ port }] = (await once(server, 'message')) as [{ port: number }];
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.terminate();
  await cleanup();
});

describe('HTTP inputs', () => {
  it('processes a URL like the local file and caches its entry count by ETag', async () => {
    const remote = await writeJson(join(dir, 'remote.json'), { pq: [`${base}/data.parquet`] });
    const local = await writeJson(join(dir, 'local.json'), { pq: [PARQUET_FILE()] });
    const out = join(dir, 'out');
    const r1 = await runAnalysis({ fileset: remote, processor: fixture('met-muons.ts'), chunksize: 300, outDir: out });
    const ref = await runAnalysis({ fileset: local, processor: fixture('met-muons.ts'), chunksize: 300 });
    expect(r1.accumulator).toStrictEqual(ref.accumulator);
    expect(r1.metrics.preprocess).toMatchObject({ opened: 1, cacheHits: 0 });
    expect((await tell()).some((q) => q.startsWith('GET bytes='))).toBe(true);

    const r2 = await runAnalysis({
      fileset: remote,
      processor: fixture('met-muons.ts'),
      chunksize: 300,
      outDir: out,
      maxchunks: 1,
    });
    expect(r2.metrics.preprocess).toMatchObject({ opened: 0, cacheHits: 1 });
    await tell({ etag: '"v2"' }); // the server's copy changed
    const r3 = await runAnalysis({
      fileset: remote,
      processor: fixture('met-muons.ts'),
      chunksize: 300,
      outDir: out,
      maxchunks: 1,
    });
    expect(r3.metrics.preprocess).toMatchObject({ opened: 1, cacheHits: 0 });
  });
});
