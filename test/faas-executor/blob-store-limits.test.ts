/**
 * The HTTP blob store refuses what it cannot store well: uploads over its size limit also when they
 * come chunked (no content-length), keys naming folders, very long keys and bad %-escapes; each is a
 * 4xx whose message names no server path, and no `.tmp` file stays behind. cleanupRun checks its run id.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBlobStore, type BlobStore } from '../../executors/faas/blob-store.ts';
import { cleanupRun, StageOutError } from '../../executors/faas/stageout.ts';

let dir: string;
let store: BlobStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-blobs-'));
  store = await startBlobStore({ dir: join(dir, 'blobs'), maxBytes: 4096 });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** One request; `chunks` are written one by one without a content-length (chunked encoding). */
function send(
  method: string,
  path: string,
  chunks: Buffer[] = [],
  chunked = true,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(store.url);
    const headers: Record<string, string | number> = chunked
      ? {}
      : { 'content-length': chunks.reduce((n, c) => n + c.length, 0) };
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const leftovers = async () =>
  (await readdir(join(dir, 'blobs'), { recursive: true }).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.tmp'),
  );

describe('blob store limits', () => {
  it('a chunked upload over the size limit is 413 and leaves nothing', async () => {
    const r = await send('PUT', '/run-a/big.bin', [Buffer.alloc(3000), Buffer.alloc(3000), Buffer.alloc(3000)]);
    expect(r.status).toBe(413);
    expect((await send('GET', '/run-a/big.bin')).status).toBe(404);
    expect(await leftovers()).toEqual([]);
    // Within the limit, chunked uploads still work.
    expect((await send('PUT', '/run-a/ok.bin', [Buffer.alloc(2000), Buffer.alloc(2000)])).status).toBe(201);
    expect((await send('GET', '/run-a/ok.bin')).status).toBe(200);
  });

  it('keys naming folders, long keys and bad escapes are 400 without server paths or .tmp files', async () => {
    expect((await send('PUT', '/run-b/x/y.bin', [Buffer.from('abc')], false)).status).toBe(201);
    const cases: [string, string][] = [
      ['PUT', '/run-b/x'], // a folder
      ['PUT', '/run-b/x/y.bin/z.bin'], // below a blob
      ['GET', '/run-b/x'],
      ['PUT', `/run-b/${'k'.repeat(300)}.bin`],
      ['PUT', `/${Array.from({ length: 40 }, () => 'seg').join('/')}`],
      ['PUT', `/run-b/${'%41'.repeat(2000)}`],
      ['PUT', '/run-b/%E0%A4%A'],
      ['GET', '/run-b/%'],
      ['PUT', '/run-b/../../etc'],
      ['PUT', '/run-b/%2e%2e/x'],
    ];
    for (const [method, path] of cases) {
      const r = await send(method, path, method === 'PUT' ? [Buffer.from('data')] : [], false);
      expect(r.status, `${method} ${path.slice(0, 60)}`).toBe(400);
      expect(r.text).not.toContain(dir);
    }
    expect(await leftovers()).toEqual([]);
    expect((await send('GET', '/run-b/x/y.bin')).text).toBe('abc');
  });

  it('cleanupRun refuses run ids that are not one plain key segment', async () => {
    for (const bad of ['', '.', '..', '../x', 'a/b', 'x'.repeat(300)]) {
      await expect(cleanupRun(join(dir, 'blobs'), bad)).rejects.toBeInstanceOf(StageOutError);
      await expect(cleanupRun(store.url, bad)).rejects.toBeInstanceOf(StageOutError);
    }
    expect((await send('PUT', '/run-c/t.bin', [Buffer.from('abc')], false)).status).toBe(201);
    await cleanupRun(store.url, 'run-c');
    expect((await send('GET', '/run-c/t.bin')).status).toBe(404);
  });
});
