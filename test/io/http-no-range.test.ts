/**
 * A web server that ignores Range requests (Python's http.server does) answers every read with the
 * whole file. Reads must still be right, the user must be told once, and a file of reasonable size
 * must be downloaded once — an outside probe saw 52 whole downloads of one 2.6 MB file in one run.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { HttpSource } from '../../src/io/source.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { serveDirectory, type TestServer } from '../helpers/http-server.ts';
import { fixture, ROOT_FILE, tempDir, writeJson } from '../runner/helpers.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function collectWarnings(): { list: Error[]; stop: () => void } {
  const list: Error[] = [];
  const on = (w: Error) => {
    if ((w as { code?: string }).code === 'RISTRETTO_HTTP_NO_RANGE') list.push(w);
  };
  process.on('warning', on);
  return { list, stop: () => process.off('warning', on) };
}

describe('HTTP server without range support', () => {
  it('reads are exact, the whole file is fetched once, and one warning names the URL', async () => {
    const file = ROOT_FILE();
    server = await serveDirectory(dirname(file), { ignoreRange: true });
    const url = `${server.url}/${file.split('/').pop()}`;
    const local = new Uint8Array(await readFile(file));
    const warnings = collectWarnings();
    try {
      const src = await HttpSource.open(url, { concurrency: 1 });
      const ranges: [number, number][] = [
        [0, 100],
        [1000, 5000],
        [local.length - 64, local.length],
        [12345, 12346],
      ];
      for (const [a, b] of ranges) expect(Buffer.from(await src.read(a, b)).equals(local.subarray(a, b))).toBe(true);
      // A reader may decode into what it gets: writing into one read must not change the next.
      (await src.read(0, 100)).fill(0);
      expect(Buffer.from(await src.read(0, 100)).equals(local.subarray(0, 100))).toBe(true);
      await src.close();
      await new Promise((r) => setImmediate(r));
      expect(server.log.filter((l) => l.startsWith('GET')).length).toBe(1);
      expect(warnings.list).toHaveLength(1);
      expect(warnings.list[0]?.message).toContain(`${url}: the server ignores Range requests`);
      expect(warnings.list[0]?.message).toContain('kept in memory');
    } finally {
      warnings.stop();
    }
  });

  it('writing into the read that brought the whole file leaves the kept copy as it was', async () => {
    const file = ROOT_FILE();
    server = await serveDirectory(dirname(file), { ignoreRange: true });
    const url = `${server.url}/${file.split('/').pop()}`;
    const local = new Uint8Array(await readFile(file));
    const src = await HttpSource.open(url, { concurrency: 1 });
    (await src.read(1000, 5000)).fill(0);
    expect(Buffer.from(await src.read(1000, 5000)).equals(local.subarray(1000, 5000))).toBe(true);
    await src.close();
    expect(server.log.filter((l) => l.startsWith('GET')).length).toBe(1);
  });

  it('a run over such a server gives the local result', async () => {
    const file = ROOT_FILE();
    server = await serveDirectory(dirname(file), { ignoreRange: true });
    const url = `${server.url}/${file.split('/').pop()}`;
    const { dir, cleanup } = await tempDir();
    const threads = new ThreadsExecutor({ workers: 1 });
    try {
      const remote = await writeJson(`${dir}/remote.json`, { mu: [url] });
      const local = await writeJson(`${dir}/local.json`, { mu: [file] });
      const opts = { processor: fixture('met-muons.ts'), chunksize: 2500, cacheFile: false } as const;
      const r = await runAnalysis({ ...opts, fileset: remote, executor: threads });
      const ref = await runAnalysis({ ...opts, fileset: local });
      expect(r.accumulator).toStrictEqual(ref.accumulator);
      // One reader per file in the worker: the whole file once (plus the preprocessing pass's reads).
      expect(server.log.filter((l) => l.startsWith('GET')).length).toBeLessThanOrEqual(4);
    } finally {
      await threads.close();
      await cleanup();
    }
  });
});
