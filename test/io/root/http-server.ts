/** A real loopback HTTP file server (HEAD + single Range requests) with failure injection, for remote-read tests. */
import { open, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface TestServer {
  readonly url: string;
  /** Requests seen so far (failed ones included). */
  requests: number;
  /** Requests answered with 503 so far. */
  failures: number;
  /** The next `n` requests get a 503. */
  failNext(n: number): void;
  close(): Promise<void>;
}

/** Serve the files of `root` on 127.0.0.1 on a free port. */
export async function serveDirectory(root: string): Promise<TestServer> {
  let toFail = 0;
  const state = { requests: 0, failures: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (toFail > 0) {
      toFail--;
      state.failures++;
      res.writeHead(503).end('try again');
      return;
    }
    void (async () => {
      const path = join(root, normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, ''));
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        res.writeHead(404).end('not found');
        return;
      }
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' }).end();
        return;
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), size - 1)] : [0, size - 1];
      const buf = Buffer.alloc(end - start + 1);
      const fh = await open(path, 'r');
      try {
        await fh.read(buf, 0, buf.length, start);
      } finally {
        await fh.close();
      }
      res.writeHead(m ? 206 : 200, { 'content-length': buf.length, ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) }).end(buf);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get failures() {
      return state.failures;
    },
    failNext(n: number) {
      toFail = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } as TestServer;
}
