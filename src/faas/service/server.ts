/**
 * The FaaS service: one HTTP server carrying the JSON API and two WebSocket paths (agents, client
 * streams), with its state in SQLite.
 */
import { createServer, type IncomingMessage, maxHeaderSize, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FaasConfigError } from '../errors.ts';
import { DEFAULT_HEARTBEAT_MS, ROUTES, type Limits } from '../protocol.ts';
import { AgentHub } from './agents.ts';
import { bearerToken } from './auth.ts';
import { Store, type UserRow } from './db.ts';
import { ApiError, BodySlots, bindUser, rawErrorResponse, sendError, sendJson, toApiError } from './http.ts';
import { capConnections, MAX_CONNECTIONS_PER_ADDRESS } from './connections.ts';
import { Metrics } from './metrics.ts';
import { AGENT_MAX_MESSAGE_BYTES, DEFAULT_MAX_OPEN_TASKS } from '../protocol-schemas.ts';
import { matchRoute, storeSubmission, type RouteContext } from './routes.ts';
import { ResultStreams } from './streams.ts';
import { inTurn } from './turns.ts';

export const SERVICE_VERSION = '0.1.0';

export const DEFAULT_LIMITS: Limits = {
  max_payload_bytes: 10 * 1024 * 1024,
  max_result_bytes: 10 * 1024 * 1024,
  // One body is parsed on the service's only thread: 250 MB stalled other users ~10 s and endpoints'
  // heartbeats; clients split larger submissions (SUBMIT_MAX_CHARS, half of this).
  max_request_bytes: 64 * 1024 * 1024,
  max_function_bytes: 8 * 1024 * 1024,
};

export interface ServiceOptions {
  /** SQLite file (created if missing). */
  dbFile: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  limits?: Partial<Limits>;
  heartbeatMs?: number;
  /** Default attempts per task (first run + retries after lost workers/endpoints). */
  maxAttempts?: number;
  /**
   * Open connections one remote address may have; 0 = no cap. Default MAX_CONNECTIONS_PER_ADDRESS.
   */
  maxConnectionsPerAddress?: number;
  /** Default per-task timeout in ms, 0 = none. */
  taskTimeoutMs?: number;
  /**
   * Unfinished tasks one user may have (a user's own limit, `faas user add/set --max-open-tasks`,
   * overrides it); 0 = none. Default DEFAULT_MAX_OPEN_TASKS.
   */
  maxOpenTasks?: number;
  /** Log lines (never contain tokens). Defaults to stderr. */
  log?: (msg: string) => void;
  /**
   * A result stream not heard from (no message, no pong to the service's pings) for this long, and at
   * least 3 heartbeats, is closed; its client reconnects and watches again. Default 30 s: a client whose
   * own event loop is busy for a while must not lose its stream.
   */
  streamIdleMs?: number;
}

/** Default of ServiceOptions.streamIdleMs. */
export const STREAM_IDLE_MS = 30_000;
/** An HTTP request (headers and body) must arrive in full within this long, its headers within HEADERS_TIMEOUT_MS. */
export const REQUEST_TIMEOUT_MS = 60_000;
export const HEADERS_TIMEOUT_MS = 20_000;

export interface FaasService {
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  close(): Promise<void>;
}

/**
 * A dispatch frame with one task holds its arguments and its function's code whatever the frame budget
 * says: with limits that let it pass what an agent accepts, the agent would drop it, reconnect and get
 * it again, for ever. (The 1 MiB covers the frame's header, and the code's escapes: a registration
 * body holds the code escaped in at most max_function_bytes + 64 KiB, and the frame's JSON escapes no
 * more than that.)
 */
function checkDispatchFits(limits: Limits): void {
  const frame = limits.max_payload_bytes + limits.max_function_bytes + 1024 * 1024;
  if (frame > AGENT_MAX_MESSAGE_BYTES)
    throw new FaasConfigError(
      `largest task arguments (${limits.max_payload_bytes} bytes) and function code (${limits.max_function_bytes} bytes) ` +
        `make dispatch frames larger than agents accept (${AGENT_MAX_MESSAGE_BYTES} bytes)`,
      { max_payload_bytes: limits.max_payload_bytes, max_function_bytes: limits.max_function_bytes },
      `lower --max-payload-bytes to at most ${AGENT_MAX_MESSAGE_BYTES - limits.max_function_bytes - 1024 * 1024}`,
    );
}

/** Start the service; resolves once it listens. */
export async function startService(opts: ServiceOptions): Promise<FaasService> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[faas-service] ${m}\n`));
  const limits: Limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
  checkDispatchFits(limits);
  const store = new Store(opts.dbFile);
  const metrics = new Metrics();
  // The stream accepts submissions too; they go through the same checks as the HTTP route.
  const maxOpenTasks = opts.maxOpenTasks ?? DEFAULT_MAX_OPEN_TASKS;
  const streams = new ResultStreams(
    store,
    metrics,
    (user, request) => storeSubmission(ctx, user, request),
    log,
    maxOpenTasks,
  );
  const hub = new AgentHub(store, metrics, streams, {
    heartbeatMs: opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    limits,
    log,
  });
  // Every heartbeat: streams of revoked tokens close, silent ones too (ResultStreams.sweep; agents: AgentHub.sweep).
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const idleMs = Math.max(3 * heartbeatMs, opts.streamIdleMs ?? STREAM_IDLE_MS);
  const revokedSweep = setInterval(() => streams.sweep(heartbeatMs, idleMs), heartbeatMs);
  revokedSweep.unref();
  const ctx: RouteContext = {
    store,
    hub,
    streams,
    metrics,
    limits,
    defaults: { maxAttempts: opts.maxAttempts ?? 3, timeoutMs: opts.taskTimeoutMs ?? 0 },
    maxOpenTasks,
    version: SERVICE_VERSION,
  };

  // Last-used stamps are written at most once a minute per token, not on every request.
  const touched = new Map<string, number>();
  const authenticate = (req: IncomingMessage): UserRow & { token_id: string } => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new ApiError('Unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
    const user = store.authenticate(token);
    if (!user) throw new ApiError('Unauthorized', 'invalid or revoked token');
    const now = Date.now();
    if ((touched.get(user.token_id) ?? 0) < now - 60_000) {
      touched.set(user.token_id, now);
      store.touchToken(user.token_id, now);
    }
    return user;
  };

  const bodies = new BodySlots();
  // Deadlines are checked this often (Node's default, 30 s, would let a deadline run 30 s over).
  const server: Server = createServer({ connectionsCheckingInterval: 5_000 }, async (req, res) => {
    metrics.httpRequests++;
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === ROUTES.health) {
        sendJson(res, 200, {
          status: 'ok',
          version: SERVICE_VERSION,
          uptime_s: (Date.now() - metrics.startedAt) / 1000,
        });
        return;
      }
      const route = matchRoute(req.method ?? 'GET', path);
      const user = authenticate(req);
      // From here on this request's work takes turns with other users' messages (turns.ts): a body's
      // parsing with what the route does with it (http.ts readBody), or, without a body, the handler.
      // One turn per request where possible: each may come after another user's heavy message.
      bindUser(req, user.id, streams.turns, bodies);
      if (req.method === 'GET')
        await inTurn(streams.turns, user.id, () => route.handler(ctx, user, req, res, route.params));
      else await route.handler(ctx, user, req, res, route.params);
    } catch (e) {
      metrics.httpErrors++;
      if ((e as NodeJS.ErrnoException)?.code === 'ECONNRESET' && req.destroyed) {
        // the client went away mid-request (Ctrl-C during an upload): nothing to answer, nothing broken
        log(`client hung up during ${req.method} ${req.url?.slice(0, 200)}`);
        return;
      }
      const err = toApiError(e);
      if (err.code === 'InternalError')
        log(`internal error on ${req.method} ${req.url?.slice(0, 200)}: ${(e as Error)?.stack ?? e}`);
      try {
        sendError(res, err);
      } catch (e2) {
        // The connection broke while answering: nothing more to say on it, and nothing else ends.
        log(`could not answer ${req.method} ${req.url?.slice(0, 200)}: ${(e2 as Error)?.message ?? e2}`);
        res.destroy();
      }
    }
  });
  capConnections(server, opts.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS, log);
  server.keepAliveTimeout = 65_000;
  // A request not received in full by then is answered 408 and its connection closed. Node's 300 s
  // let one user hold MAX_BODIES_PER_USER half-sent 64 MiB bodies for 5 minutes, over and over (issue
  // 14, probe D2). 60 s still carries a 64 MiB body at ~1 MB/s.
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // Requests Node's parser refuses (headers too large, a bad request line, too slow) are answered with
  // the protocol's error body too, instead of Node's bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    metrics.httpErrors++;
    const refusal = clientRefusal(err, server);
    // Nothing to answer on a connection that broke, or in the middle of another response on it.
    const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (!refusal || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(refusal.err, refusal.status));
  });

  // Frames carry submissions (clients) and results (agents): the larger of the two limits.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.max(limits.max_request_bytes, limits.max_result_bytes + 1024 * 1024),
  });
  // A handshake ws refuses (wrong method, missing or bad Sec-WebSocket-* headers): the protocol's error body.
  wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) =>
    refuseUpgrade(
      socket,
      new ApiError(
        'BadRequest',
        req.method === 'GET'
          ? `WebSocket handshake refused: ${err.message}`
          : `method ${req.method} is not supported on ${(req.url ?? '/').split('?')[0]?.slice(0, 200)}`,
      ),
    ),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node leaves the upgraded socket without an error listener: a reset must not end the service.
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let user: UserRow & { token_id: string };
    try {
      if (path !== ROUTES.agent && path !== ROUTES.stream) throw new ApiError('NotFound', `no WebSocket route ${path}`);
      user = authenticate(req);
    } catch (e) {
      const err = toApiError(e);
      if (err.code === 'InternalError')
        log(`internal error on upgrade ${path.slice(0, 200)}: ${(e as Error)?.stack ?? e}`);
      refuseUpgrade(socket, err);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // Before anything can refuse it: ws emits 'error' for a malformed frame even on a socket being
      // closed, and an 'error' without a listener would end the service.
      ws.on('error', () => {});
      try {
        if (path === ROUTES.agent) hub.attach(ws, user);
        else streams.attach(ws, user);
      } catch (e) {
        // Thrown here, it would leave the HTTP parser's socket handler and end the process.
        log(`internal error attaching ${path}: ${(e as Error)?.stack ?? e}`);
        ws.close(1011, 'InternalError');
      }
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
  } catch (e) {
    clearInterval(revokedSweep);
    hub.close();
    store.close();
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`;
    throw new FaasConfigError(
      code === 'EADDRINUSE'
        ? `port ${opts.port} on ${opts.host ?? '127.0.0.1'} is already in use`
        : `cannot listen on ${where}: ${(e as Error).message}`,
      { listen: where },
      code === 'EADDRINUSE' ? 'choose another port with --port (0 picks a free one)' : 'check --host and --port',
      { cause: e },
    );
  }
  // Past listening, an 'error' of the server (accepting a connection failed) is logged: unhandled, it
  // would end the process. (The listen's own listener above is a once-listener for one error only.)
  server.on('error', (e: Error) => log(`HTTP server: ${e.message}`));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const host = opts.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    store,
    async close() {
      clearInterval(revokedSweep);
      hub.close();
      streams.close();
      for (const ws of wss.clients) ws.terminate();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      store.close();
    },
  };
}

/** Answer a refused WebSocket handshake on its raw socket and close it. */
function refuseUpgrade(socket: Duplex, err: ApiError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(rawErrorResponse(err));
}

/**
 * How to answer an HTTP request Node's parser refused (its 'clientError'), or undefined when the
 * connection just broke (nothing to answer). Statuses as Node's own answers; bodies as the protocol's.
 */
export function clientRefusal(
  err: NodeJS.ErrnoException,
  server: Server,
): { err: ApiError; status: number } | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        err: new ApiError(
          'PayloadTooLarge',
          `the request line and headers exceed the service's limit of ${maxHeaderSize} bytes`,
          { limit: maxHeaderSize },
        ),
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        err: new ApiError('PayloadTooLarge', 'chunk extensions of the request body are too large'),
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        err: new ApiError(
          'BadRequest',
          `the request was not received in full within ${Math.round(server.requestTimeout / 1000)} s`,
          { timeout_ms: server.requestTimeout },
        ),
      };
    default:
      return {
        status: 400,
        err: new ApiError('BadRequest', `malformed HTTP request: ${(err.message ?? String(err)).slice(0, 200)}`),
      };
  }
}
