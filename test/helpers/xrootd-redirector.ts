/**
 * A minimal XRootD redirector on loopback, in front of a real xrootd (xrootd-server.ts): it answers the
 * handshake, kXR_protocol and kXR_login itself, then every second kXR_stat with kXR_wait (0 s) and the others
 * with kXR_waitresp followed by a kXR_attn/kXR_asynresp carrying a kXR_redirect to the data server, as a busy
 * manager would. Any other request gets kXR_error. It runs in a worker thread: a server on the test's own
 * thread could not answer while a synchronous read (readSync over the relay thread) blocks that thread.
 */
import { Worker } from 'node:worker_threads';

/** Plain CommonJS for `eval`: the worker needs no loader. Request and status numbers are XRootD's. */
const REDIRECTOR = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer } = require('node:net');
const log = [];
const int = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const reply = (sock, stream, status, body) => {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(stream, 0);
  h.writeUInt16BE(status, 2);
  h.writeInt32BE(body.length, 4);
  sock.write(Buffer.concat([h, body]));
};
let stats = 0;
const server = createServer((sock) => {
  let buf = Buffer.alloc(0);
  let shaken = false;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (!shaken && buf.length >= 20) {
      shaken = true;
      buf = buf.subarray(20);
      reply(sock, 0, 0, Buffer.concat([int(0x520), int(1)]));
    }
    while (shaken && buf.length >= 24 && buf.length >= 24 + buf.readInt32BE(20)) {
      const stream = buf.readUInt16BE(0);
      const req = buf.readUInt16BE(2);
      buf = buf.subarray(24 + buf.readInt32BE(20));
      log.push(String(req));
      if (req === 3006) reply(sock, stream, 0, Buffer.concat([int(0x520), int(1)]));
      else if (req === 3007) reply(sock, stream, 0, Buffer.alloc(16, 7));
      else if (req === 3017 && stats++ % 2 === 0) reply(sock, stream, 4005, Buffer.concat([int(0), Buffer.from('busy\\0')]));
      else if (req === 3017) {
        reply(sock, stream, 4006, int(1));
        const target = workerData.target === 'self' ? server.address().port : workerData.target;
        const redirect = Buffer.concat([int(target), Buffer.from('127.0.0.1?ristretto.test=1')]);
        const inner = Buffer.alloc(8);
        inner.writeUInt16BE(stream, 0);
        inner.writeUInt16BE(4004, 2);
        inner.writeInt32BE(redirect.length, 4);
        reply(sock, 0, 4001, Buffer.concat([int(5008), int(0), inner, redirect]));
      } else reply(sock, stream, 4003, Buffer.concat([int(3006), Buffer.from('redirector serves no data\\0')]));
    }
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'log') parentPort.postMessage({ log: log.splice(0) });
  else server.close(() => process.exit(0));
});
`;

export interface FakeRedirector {
  readonly port: number;
  /** The request ids (`'3006'`: kXR_protocol, `'3007'`: kXR_login, `'3017'`: kXR_stat) since the last call. */
  log(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Start a redirector that sends clients to the xrootd on `target` (a port), or back to itself (`'self'`: a
 * redirect loop).
 *
 * @example
 * ```ts
 * const r = await startRedirector(server.port);
 * const src = await XrootdSource.open(`root://127.0.0.1:${r.port}/${path}`);
 * expect(await r.log()).toEqual(['3006', '3007', '3017', '3017']);
 * await r.stop();
 * ```
 */
export async function startRedirector(target: number | 'self'): Promise<FakeRedirector> {
  const w = new Worker(REDIRECTOR, { eval: true, workerData: { target } });
  const next = <T>() => new Promise<T>((ok) => w.once('message', ok));
  const { port } = await next<{ port: number }>();
  return {
    port,
    log: async () => {
      const reply = next<{ log: string[] }>();
      w.postMessage('log');
      return (await reply).log;
    },
    stop: async () => {
      const exited = new Promise((ok) => w.once('exit', ok));
      w.postMessage('stop');
      await exited;
    },
  };
}
