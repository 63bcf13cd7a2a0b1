/** Datasets served over HTTP from a real loopback server: URLs pass through, entry counts cache by ETag. */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../src/runner/run.ts';
import { fixture, PARQUET_FILE, tempDir, writeJson } from './helpers.ts';

let server: Server;
let base: string;
let dir: string;
let cleanup: () => Promise<void>;
let etag = '"v1"';
const requests: string[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const body = await readFile(PARQUET_FILE());
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.headers.range ?? ''}`);
    if (req.url !== '/data.parquet') return void res.writeHead(404).end();
    const headers = { etag, 'accept-ranges': 'bytes' };
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': body.length }).end();
    if (!m) return void res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 }).end(body.subarray(start, end + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
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
    expect(requests.some((q) => q.startsWith('GET bytes='))).toBe(true);

    const r2 = await runAnalysis({ fileset: remote, processor: fixture('met-muons.ts'), chunksize: 300, outDir: out, maxchunks: 1 });
    expect(r2.metrics.preprocess).toMatchObject({ opened: 0, cacheHits: 1 });
    etag = '"v2"'; // the server's copy changed
    const r3 = await runAnalysis({ fileset: remote, processor: fixture('met-muons.ts'), chunksize: 300, outDir: out, maxchunks: 1 });
    expect(r3.metrics.preprocess).toMatchObject({ opened: 1, cacheHits: 0 });
  });
});
