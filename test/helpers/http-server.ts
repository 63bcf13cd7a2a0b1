/**
 * A real loopback HTTP file server for remote-read tests: HEAD and single `Range: bytes=a-b` requests,
 * with failure injection and a request log. One server for every test folder, so they all exercise the
 * same HTTP behaviour.
 */
import { open, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface TestServer {
  /** `http://127.0.0.1:<port>`; a file `root/a/b` is at `${url}/a/b`. */
  readonly url: string;
  /** Requests seen so far (failed ones included). */
  readonly requests: number;
  /** Requests answered with 503 so far. */
  readonly failures: number;
  /** Every request as `"<METHOD> <path> <range header or ''>"`, in arrival order. */
  readonly log: readonly string[];
  /** The next `n` requests get a 503. */
  failNext(n: number): void;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Extra response headers (e.g. an ETag), asked for on every request so a test can change them. */
  readonly headers?: () => Record<string, string>;
  /** Answer every GET with the whole file (200), as servers without range support do. */
  readonly ignoreRange?: boolean;
}

/** Serve the files below `root` on 127.0.0.1 on a free port. */
export async function serveDirectory(root: string, options: ServeOptions = {}): Promise<TestServer> {
  let toFail = 0;
  let requests = 0;
  let failures = 0;
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    requests++;
    const pathname = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    log.push(`${req.method} ${pathname} ${req.headers.range ?? ''}`);
    if (toFail > 0) {
      toFail--;
      failures++;
      res.writeHead(503).end('try again');
      return;
    }
    const extra = options.headers?.() ?? {};
    void (async () => {
      // Strip leading `../` so a request cannot leave `root`.
      const path = join(root, normalize(pathname).replace(/^(\.\.[/\\])+/, ''));
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      const size = info.size;
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...extra, 'content-length': size, 'accept-ranges': 'bytes' }).end();
        return;
      }
      const m = options.ignoreRange ? null : /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), size - 1)] : [0, size - 1];
      const buf = Buffer.alloc(end - start + 1);
      const fh = await open(path, 'r');
      try {
        await fh.read(buf, 0, buf.length, start);
      } finally {
        await fh.close();
      }
      const range = m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {};
      res.writeHead(m ? 206 : 200, { ...extra, 'content-length': buf.length, ...range }).end(buf);
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get failures() {
      return failures;
    },
    log,
    failNext(n: number) {
      toFail = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
