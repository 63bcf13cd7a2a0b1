/**
 * A tiny HTTP object store for staged-out results: `PUT|GET|DELETE /<key>` with keys made of path
 * segments of letters, digits, ".", "_" and "-", kept as files under a folder. Meant for a trusted
 * network or loopback; with a token, every request must carry `Authorization: Bearer <token>`.
 * Deleting a folder key (a run's prefix) closes it: later PUTs under it are refused with 410 Gone, so a
 * worker that stages out after the run ended leaves nothing behind.
 *
 *   npx tsx executors/faas/blob-store.ts --dir /scratch/blobs [--port 8480] [--host 127.0.0.1]
 *   (token, if any, from RISTRETTO_STAGEOUT_TOKEN)
 *
 * Then: run-analysis ... --executor faas --stageout http://HOST:8480
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { STAGEOUT_TOKEN_ENV } from './stageout.ts';

export interface BlobStoreOptions {
  dir: string;
  port?: number;
  host?: string;
  token?: string;
  /** Largest blob accepted, bytes (default 1 GiB). */
  maxBytes?: number;
}

export interface BlobStore {
  readonly url: string;
  close(): Promise<void>;
}

const KEY = /^\/([\w.-]+(?:\/[\w.-]+)*)$/;

/** Start the store; resolves once it listens. */
export async function startBlobStore(o: BlobStoreOptions): Promise<BlobStore> {
  const root = resolve(o.dir);
  await mkdir(root, { recursive: true });
  const max = o.maxBytes ?? 1024 ** 3;
  // Closed run prefixes, oldest first; bounded so a long-lived store does not grow without end.
  const closed = new Set<string>();
  const isClosed = (key: string) => closed.has(key.split('/')[0]!);
  const server: Server = createServer(async (req, res) => {
    const fail = (status: number, msg: string) => {
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(msg + '\n');
    };
    try {
      if (o.token && req.headers.authorization !== `Bearer ${o.token}`) return fail(401, 'missing or wrong bearer token');
      const m = KEY.exec(decodeURIComponent((req.url ?? '/').split('?')[0]!));
      if (!m || m[1]!.split('/').some((p) => p === '.' || p === '..')) return fail(400, 'keys are /segment/... of letters, digits, ".", "_", "-"');
      const key = m[1]!;
      const file = join(root, ...key.split('/'));
      switch (req.method) {
        case 'PUT': {
          const len = Number(req.headers['content-length'] ?? NaN);
          if (len > max) return fail(413, `blob larger than ${max} bytes`);
          const gone = () => fail(410, `${key.split('/')[0]} was closed (its run has ended)`);
          if (isClosed(key)) return gone();
          await mkdir(dirname(file), { recursive: true });
          const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
          await pipeline(req, createWriteStream(tmp));
          await rename(tmp, file);
          // Closed while the body streamed in: the sweep may have missed this file.
          if (isClosed(key)) {
            await rm(file, { force: true });
            return gone();
          }
          res.writeHead(201).end();
          return;
        }
        case 'GET': {
          const st = await stat(file).catch(() => undefined);
          if (!st?.isFile()) return fail(404, 'no such blob');
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
          await pipeline(createReadStream(file), res);
          return;
        }
        case 'DELETE': {
          // A key that names a folder (a run's prefix) removes everything under it: the end-of-run sweep.
          const folder = !key.includes('/');
          if (folder) {
            closed.add(key);
            if (closed.size > 100_000) closed.delete(closed.values().next().value!);
          }
          const isDir = (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
          await rm(file, { force: true, recursive: isDir, maxRetries: isDir ? 5 : 0 });
          res.writeHead(204).end();
          return;
        }
        default:
          return fail(405, 'PUT, GET or DELETE');
      }
    } catch (e) {
      fail(500, (e as Error).message);
    }
  });
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => r());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const dir = arg('--dir');
  if (!dir) {
    process.stderr.write('usage: npx tsx executors/faas/blob-store.ts --dir DIR [--port 8480] [--host 127.0.0.1]\n');
    process.exit(2);
  }
  const store = await startBlobStore({ dir, port: Number(arg('--port') ?? 8480), host: arg('--host'), token: process.env[STAGEOUT_TOKEN_ENV]?.trim() || undefined });
  process.stdout.write(`blob store listening on ${store.url}\n`);
  const stop = () => void store.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
