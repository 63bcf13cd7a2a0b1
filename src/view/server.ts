/**
 * The HTTP side of the live view: the page, JSROOT's modules from this installation's `vendor/jsroot`
 * (never a CDN: the page works offline and on a cluster node), a JSON API, and server-sent events that
 * tell open pages which histograms changed (at most about once a second, see ViewState).
 *
 *   GET /                      the page            GET /jsroot/<module>.mjs   JSROOT (ES modules)
 *   GET /api/state             everything (JSON)   GET /api/events            SSE: snapshot, then updates
 *   GET /api/draw?key=K&mode=M&log=1             ROOT JSON of a TCanvas for JSROOT
 *   GET /api/download?key=K&format=uhi|root|png  the histogram as a file
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCategory, isContinuous } from '../hist/axes.ts';
import { toJSON } from '../hist/jsroot.ts';
import { figurePNG, plotPNG, toROOTJSON } from '../hist/render.ts';
import { isColormap } from '../hist/colormap.ts';
import { stringifyUHI, toUHI } from '../hist/uhi.ts';
import { DRAW_MODES, drawable, type DrawMode } from './drawable.ts';
import { ViewError } from './errors.ts';
import type { ViewState, ViewUpdate } from './state.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PAGE_DIR = join(HERE, 'page');
/** vendor/ sits beside src/ in the repository and in the packed package alike. */
const JSROOT_DIR = join(HERE, '..', '..', 'vendor', 'jsroot');

const PAGE_FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/** Where to listen. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parse `--serve [HOST:]PORT`: `8080`, `:8080`, `0.0.0.0:8080`, `[::1]:8080`; port 0 picks a free one.
 * The host defaults to 127.0.0.1, so nothing is exposed beyond this machine unless asked for.
 */
export function parseListen(spec: string | true): ListenAddress {
  if (spec === true || spec === '') return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(spec) ?? /^()()(\d+)$/.exec(spec);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535)
    throw new ViewError(
      `cannot listen on "${spec}"`,
      { listen: spec },
      'give PORT or HOST:PORT, e.g. --serve 8080 or --serve 0.0.0.0:8080 (port 0: any free port)',
    );
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

export interface ViewServerOptions {
  /** `[HOST:]PORT` or a parsed address (default 127.0.0.1, any free port). */
  listen?: string | ListenAddress;
  /** Categories drawn as data points in stacks (datasets with `"isData": true`); default: the state's `data`. */
  data?: readonly string[];
}

/** A running view server. */
export interface ViewServer {
  /** `http://HOST:PORT/` to open in a browser. */
  readonly url: string;
  readonly port: number;
  /**
   * Resolves once no request has come in for a short while (at most `capMs`, default 3000): a run that holds
   * the main thread with long chunks calls it between chunks, so a loading page (the page, its modules, the
   * API, one round trip after another) is answered within one chunk boundary, not one request per chunk.
   * Immediate when no request came in during the last turn.
   */
  settle(capMs?: number): Promise<void>;
  /** Close the event streams and stop listening. */
  close(): Promise<void>;
}

/** Quiet time after the last request before a settle ends: a browser's next request follows its response. */
const SETTLE_QUIET_MS = 300;

/**
 * Static files, read once: answered synchronously in the turn the request arrives in (a read through the
 * thread pool would finish only in a later turn, which a long chunk may hold off for seconds).
 */
const staticFiles = new Map<string, Buffer>();
function staticFile(path: string): Buffer {
  let b = staticFiles.get(path);
  if (!b) staticFiles.set(path, (b = readFileSync(path)));
  return b;
}

function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function fail(res: ServerResponse, status: number, e: unknown): void {
  sendJSON(res, status, { error: e instanceof Error ? e.message : String(e) });
}

/** A file name for downloads: the key with separators turned into underscores. */
function fileStem(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'histogram';
}

/**
 * Serve `state` over HTTP until `close()`.
 *
 * @example
 * const state = new ViewState({ title: 'demo' });
 * state.setAccumulator({ met: h });
 * const server = await startViewServer(state, { listen: '127.0.0.1:0' });
 * console.log(`view at ${server.url}`);
 * // ... later
 * await server.close();
 */
export async function startViewServer(state: ViewState, opts: ViewServerOptions = {}): Promise<ViewServer> {
  const addr = typeof opts.listen === 'object' ? opts.listen : parseListen(opts.listen ?? '127.0.0.1:0');
  if (!existsSync(join(JSROOT_DIR, 'main.mjs')))
    throw new ViewError(
      `JSROOT is missing from this installation (${JSROOT_DIR})`,
      { dir: JSROOT_DIR },
      'run `node scripts/build-vendor.mjs` in the ristretto repository, or reinstall ristretto',
    );
  const streams = new Set<ServerResponse>();
  // read per request: `ristretto view` learns the data datasets again when the outputs are rewritten
  const data = (): readonly string[] => opts.data ?? state.data;
  const unsubscribe = state.subscribe((u: ViewUpdate) => {
    const msg = `event: update\ndata: ${JSON.stringify(u)}\n\n`;
    for (const s of streams) s.write(msg);
  });
  const ping = setInterval(() => {
    for (const s of streams) s.write(': ping\n\n');
  }, 15_000);
  ping.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://view.invalid');
    const path = url.pathname;
    const page = PAGE_FILES[path];
    if (page) {
      res.writeHead(200, { 'content-type': page[1], 'cache-control': 'no-cache' });
      res.end(staticFile(join(PAGE_DIR, page[0])));
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (path.startsWith('/jsroot/')) {
      const name = path.slice('/jsroot/'.length);
      // only plain module names of the vendor folder: no traversal, no other files
      if (!/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.mjs$/.test(name) || !existsSync(join(JSROOT_DIR, name)))
        return fail(res, 404, `no JSROOT module ${name}`);
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
      res.end(staticFile(join(JSROOT_DIR, name)));
      return;
    }
    if (path === '/api/state') {
      return sendJSON(res, 200, {
        title: state.title,
        ...state.snapshot(),
        scans: state.scans,
        notes: state.notes,
        data: data(),
      });
    }
    if (path === '/api/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(state.snapshot())}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (path === '/api/draw' || path === '/api/download') {
      const key = url.searchParams.get('key') ?? '';
      const h = state.hist(key);
      if (!h) return fail(res, 404, `no histogram "${key}"`);
      if (path === '/api/draw') {
        const mode = (url.searchParams.get('mode') ?? 'auto') as DrawMode;
        if (!(DRAW_MODES as readonly string[]).includes(mode))
          return fail(res, 400, `unknown mode "${mode}" (${DRAW_MODES.join(', ')})`);
        let obj: object;
        try {
          obj = drawable(h, {
            mode,
            log: url.searchParams.get('log') === '1',
            data: data(),
            legend: state.legend,
          });
        } catch (e) {
          return fail(res, 400, e);
        }
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(toJSON(obj));
        return;
      }
      const format = url.searchParams.get('format') ?? 'uhi';
      const stem = fileStem(key);
      const attach = (name: string, type: string, body: string | Uint8Array) => {
        res.writeHead(200, {
          'content-type': type,
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
        });
        res.end(body);
      };
      try {
        if (format === 'uhi')
          return attach(
            `${stem}.json`,
            'application/json',
            stringifyUHI({ [key.slice(key.lastIndexOf('/') + 1)]: toUHI(h) }, 1),
          );
        if (format === 'root') return attach(`${stem}.root.json`, 'application/json', toROOTJSON(h));
        if (format === 'png') {
          // 1-D, (category × axis) and two continuous axes: the slide-ready figure; other 2-D: jsroot's colour map
          const k = h.ndim === 2 ? h.axes.findIndex((a) => isCategory(a) || a.kind === 'boolean') : -1;
          const figure = h.ndim === 1 || (k >= 0 && isContinuous(h.axes[1 - k])) || isColormap(h);
          const png = figure
            ? figurePNG(h, { data: data(), legend: state.legend, logy: url.searchParams.get('log') === '1' })
            : await plotPNG(h);
          return attach(`${stem}.png`, 'image/png', png);
        }
      } catch (e) {
        return fail(res, 400, e);
      }
      return fail(res, 400, `unknown format "${format}" (uhi, root, png)`);
    }
    fail(res, 404, `nothing at ${path}`);
  };

  let lastRequest = 0;
  let inFlight = 0;
  const server: Server = createServer((req, res) => {
    lastRequest = performance.now();
    if (req.url?.startsWith('/api/events') !== true) {
      inFlight++;
      res.once('close', () => {
        inFlight--;
        lastRequest = performance.now();
      });
    }
    handle(req, res).catch((e) => {
      // one bad request must never take the run down with it
      if (!res.headersSent) fail(res, 500, e);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      unsubscribe();
      clearInterval(ping);
      const where = `${addr.host}:${addr.port}`;
      if (e.code === 'EADDRINUSE')
        reject(
          new ViewError(
            `port ${addr.port} on ${addr.host} is already in use`,
            { listen: where },
            'choose another port with --serve PORT (0 picks a free one)',
          ),
        );
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
        reject(
          new ViewError(
            `cannot listen on ${where}: no such local address`,
            { listen: where },
            'use 127.0.0.1, 0.0.0.0 or an address of this machine',
          ),
        );
      else if (e.code === 'EACCES')
        reject(
          new ViewError(
            `not allowed to listen on ${where}`,
            { listen: where },
            'ports below 1024 need privileges; choose a higher one',
          ),
        );
      else reject(new ViewError(`cannot listen on ${where}: ${e.message}`, { listen: where }));
    });
    server.listen(addr.port, addr.host, () => resolve());
  });
  server.on('error', () => undefined);
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : addr.port;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host === '0.0.0.0' ? '127.0.0.1' : addr.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    async settle(capMs = 3000) {
      const start = performance.now();
      const wait = () => new Promise((r) => setTimeout(r, 10));
      while ((inFlight > 0 || performance.now() - lastRequest < SETTLE_QUIET_MS) && performance.now() - start < capMs)
        await wait();
    },
    async close() {
      unsubscribe();
      clearInterval(ping);
      for (const s of streams) s.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
