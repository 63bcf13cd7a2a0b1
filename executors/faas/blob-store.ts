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
import { createServer, type IncomingMessage, type Server } from 'node:http';
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
/** Key limits: well below file-system name limits, so a valid key never fails for its length. */
export const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 200;
const MAX_SEGMENTS = 16;

/** A refusal with its HTTP status; its message never contains a server path. */
class BlobRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The key of a request path, or a BlobRequestError (400) saying what is wrong with it: bad %-escapes, characters
 * outside the key alphabet, "." or ".." segments, too long.
 */
export function parseKey(urlPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    throw new BlobRequestError(400, 'malformed %-escape in the key');
  }
  if (decoded.length > MAX_KEY_LENGTH + 1)
    throw new BlobRequestError(400, `keys are at most ${MAX_KEY_LENGTH} characters`);
  const m = KEY.exec(decoded);
  const parts = m ? m[1].split('/') : [];
  if (!m || parts.some((p) => p === '.' || p === '..'))
    throw new BlobRequestError(400, 'keys are /segment/... of letters, digits, ".", "_", "-"');
  if (parts.length > MAX_SEGMENTS || parts.some((p) => p.length > MAX_SEGMENT_LENGTH)) {
    throw new BlobRequestError(
      400,
      `keys have at most ${MAX_SEGMENTS} segments of at most ${MAX_SEGMENT_LENGTH} characters`,
    );
  }
  return m[1];
}

/** File-system errors a key can cause (a folder where a blob is meant, a blob where a folder is). */
function refusedFor(e: unknown): BlobRequestError | undefined {
  if (e instanceof BlobRequestError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOTEMPTY')
    return new BlobRequestError(400, 'the key names a folder, or a blob stands where the key needs a folder');
  if (code === 'ENAMETOOLONG') return new BlobRequestError(400, 'key too long for this store');
  return undefined;
}

/** Write the request body to `tmp`, at most `max` bytes whatever the framing (content-length or chunked). */
function receive(req: IncomingMessage, tmp: string, max: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const out = createWriteStream(tmp, { flags: 'wx' });
    let size = 0;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      req.removeListener('data', onData);
      // Discard the rest of the body so the answer can still be read by the client.
      req.resume();
      out.destroy();
      out.once('close', () => reject(e));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return fail(new BlobRequestError(413, `blob larger than ${max} bytes`));
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!failed) out.end();
    });
    req.once('aborted', () => fail(new BlobRequestError(400, 'upload aborted')));
    req.once('error', (e) => fail(e));
    out.once('error', (e) => fail(e));
    out.once('finish', () => {
      if (!failed) resolve();
    });
  });
}

/** Start the store; resolves once it listens. */
export async function startBlobStore(o: BlobStoreOptions): Promise<BlobStore> {
  const root = resolve(o.dir);
  await mkdir(root, { recursive: true });
  const max = o.maxBytes ?? 1024 ** 3;
  // Closed run prefixes, oldest first; bounded so a long-lived store does not grow without end.
  const closed = new Set<string>();
  const isClosed = (key: string) => closed.has(key.split('/')[0]);
  const server: Server = createServer(async (req, res) => {
    const fail = (status: number, msg: string) => {
      // A refused upload's body may still be arriving: close the connection after the answer.
      if (!res.headersSent)
        res.writeHead(status, { 'content-type': 'text/plain', ...(req.complete ? {} : { connection: 'close' }) });
      res.end(msg + '\n');
    };
    let tmp: string | undefined;
    try {
      if (o.token && req.headers.authorization !== `Bearer ${o.token}`)
        return fail(401, 'missing or wrong bearer token');
      const key = parseKey(req.url ?? '/');
      const file = join(root, ...key.split('/'));
      switch (req.method) {
        case 'PUT': {
          const len = Number(req.headers['content-length'] ?? NaN);
          if (len > max) return fail(413, `blob larger than ${max} bytes`);
          const gone = () => fail(410, `${key.split('/')[0]} was closed (its run has ended)`);
          if (isClosed(key)) return gone();
          if ((await stat(file).catch(() => undefined))?.isDirectory())
            throw new BlobRequestError(400, 'the key names a folder');
          await mkdir(dirname(file), { recursive: true });
          tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
          await receive(req, tmp, max);
          await rename(tmp, file);
          tmp = undefined;
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
          if (st?.isDirectory()) return fail(400, 'the key names a folder');
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
            if (closed.size > 100_000) {
              const oldest = closed.values().next();
              if (!oldest.done) closed.delete(oldest.value);
            }
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
      if (tmp) await rm(tmp, { force: true }).catch(() => undefined);
      const r = refusedFor(e);
      // Anything else is the store's own problem: say so without file names.
      if (r) fail(r.status, r.message);
      else
        fail(
          500,
          `blob store error${(e as NodeJS.ErrnoException)?.code ? ` (${(e as NodeJS.ErrnoException).code})` : ''}`,
        );
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
  const store = await startBlobStore({
    dir,
    port: Number(arg('--port') ?? 8480),
    host: arg('--host'),
    token: process.env[STAGEOUT_TOKEN_ENV]?.trim() || undefined,
  });
  process.stdout.write(`blob store listening on ${store.url}\n`);
  const stop = () => void store.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
