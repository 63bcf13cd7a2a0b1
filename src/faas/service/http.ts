/** HTTP plumbing of the service: typed errors, bounded body reading in the user's turn, JSON replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { CodecError } from '../codec.ts';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../protocol.ts';
import {
  JsonLimitError,
  MAX_JSON_CONTAINERS,
  MAX_JSON_DEPTH,
  parseJson,
  SchemaError,
  type Validator,
} from '../schema.ts';
import { inTurn, type Turns } from './turns.ts';

/** An error answered with `{error: {code, message, details}}` and the code's HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

/** Send an already-serialized JSON document. */
export function sendText(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** The protocol's error body (ErrorBody) of `err`, as JSON text. */
export function errorJson(err: ApiError): string {
  const body: ErrorBody = {
    error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
  };
  return JSON.stringify(body);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(res, ERROR_STATUS[err.code], errorJson(err));
}

/**
 * A whole HTTP/1.1 response refusing a request with the protocol's error body, for the places where
 * the service answers on the raw socket (an upgrade refused, a request Node could not parse); the
 * connection closes after it. `status`: when not the code's own (431, 408).
 */
export function rawErrorResponse(err: ApiError, status: number = ERROR_STATUS[err.code]): string {
  const body = errorJson(err);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/**
 * Read a JSON body of at most `limit` bytes and check it against a protocol schema (400 when it does
 * not fit). `then`: what the route does with it, run in the same turn as the parsing (see bindUser):
 * each turn a request waits for may come after a whole heavy message of another user.
 */
export function readBody<V, R = V>(
  req: IncomingMessage,
  limit: number,
  v: Validator<V>,
  what: string,
  then: (body: V) => R = (body) => body as unknown as R,
): Promise<R> {
  return readParsed(req, limit, (value) => then(checked(v, value, what)));
}

/** `value` as V, or an ApiError BadRequest naming what is wrong with it. */
export function checked<V>(v: Validator<V>, value: unknown, what: string): V {
  try {
    return v.check(value, what);
  } catch (e) {
    throw toApiError(e);
  }
}

/** Schema and JSON-limit errors become BadRequest; ApiErrors stay; anything else is an internal error. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof SchemaError || e instanceof JsonLimitError || e instanceof CodecError)
    return new ApiError('BadRequest', e.message);
  return new ApiError('InternalError', 'internal service error (see the service log)');
}

/** Read and parse a JSON body of at most `limit` bytes (nesting depth bounded first); `then` as in readBody. */
export function readJson<R = unknown>(
  req: IncomingMessage,
  limit: number,
  then: (body: unknown) => R = (body) => body as R,
): Promise<R> {
  return readParsed(req, limit, then);
}

// ---------------------------------------------------------------- turns of authenticated requests

/**
 * Request bodies of one user read (or waiting for their turn to be parsed) at once; the user's further
 * requests wait unread, their senders held back by TCP. Bounds what one user's requests hold in the
 * service's memory to this many bodies of up to max_request_bytes each.
 */
export const MAX_BODIES_PER_USER = 4;

/** Whose turns an authenticated request's work takes (see bindUser). */
interface Bound {
  user: string;
  turns: Turns;
  bodies: BodySlots;
}
const boundRequests = new WeakMap<IncomingMessage, Bound>();

/**
 * From now on the CPU work on `req` (parsing and checking its body with what the route does with it,
 * and whatever a route runs with inRequestTurn) takes turns with other users' messages as the work of
 * user `user` (turns.ts); its body is read only when one of the user's MAX_BODIES_PER_USER slots is
 * free. The server calls it once the request's token is checked: a route cannot forget it. Before
 * that, only work bounded by the request's size runs (headers, the token).
 */
export function bindUser(req: IncomingMessage, user: string, turns: Turns, bodies: BodySlots): void {
  boundRequests.set(req, { user, turns, bodies });
}

/** `fn` in the turn of the user who sent `req` (see bindUser), or at once for a request bound to no user. */
export function inRequestTurn<T>(req: IncomingMessage, fn: () => T): Promise<T> {
  const b = boundRequests.get(req);
  if (!b) return new Promise<T>((resolve) => resolve(fn()));
  return inTurn(b.turns, b.user, fn);
}

/** Per user, how many request bodies are being read or parsed; the others wait in order. */
export class BodySlots {
  private readonly users = new Map<string, { used: number; waiting: (() => void)[] }>();
  constructor(private readonly max: number = MAX_BODIES_PER_USER) {}

  /** Resolves with the function that frees the slot, once one of `user`'s slots is free. */
  async take(user: string): Promise<() => void> {
    let u = this.users.get(user);
    if (!u) this.users.set(user, (u = { used: 0, waiting: [] }));
    const slot = u;
    if (slot.used < this.max) slot.used++;
    else await new Promise<void>((r) => slot.waiting.push(r)); // the slot is handed over, `used` unchanged
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const next = slot.waiting.shift();
      if (next) return next();
      if (--slot.used === 0) this.users.delete(user);
    };
  }
}

/**
 * The body of `req` (at most `limit` bytes, read when a slot of its user is free), parsed and given
 * to `then` in the user's turn (see bindUser); an empty body is `{}`.
 */
async function readParsed<T>(req: IncomingMessage, limit: number, then: (value: unknown) => T): Promise<T> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw tooLarge(declared, limit);
  }
  const b = boundRequests.get(req);
  const free = b ? await b.bodies.take(b.user) : undefined;
  try {
    const { chunks, size } = await readBytes(req, limit);
    // Joining, decoding and parsing up to `limit` bytes is the CPU-heavy part: in the user's turn.
    return await inRequestTurn(req, () => then(size === 0 ? {} : parseBody(Buffer.concat(chunks, size))));
  } finally {
    free?.();
  }
}

/**
 * The bytes of `req`, at most `limit`. Over it (a chunked body declares no length), the rest is read
 * and dropped, so that the 413 can be answered: leaving a `for await` loop would destroy the request
 * and its socket, and the client would see a reset connection instead.
 */
function readBytes(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const gone = () => reject(Object.assign(new Error('request aborted'), { code: 'ECONNRESET' }));
    // Gone while it waited for a slot: its 'close' has been and gone.
    if (req.destroyed) return gone();
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      chunks.length = 0;
      reject(tooLarge(size, limit));
    };
    const onEnd = () => resolve({ chunks, size });
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', reject);
    // The client went away mid-body (after 'end', or after a refusal above, this changes nothing).
    req.once('close', gone);
  });
}

function parseBody(bytes: Buffer): unknown {
  return parseUntrusted(bytes.toString('utf8'), 'request body');
}

/**
 * Parse JSON text a user sent (an HTTP body, a stream or agent message) with its nesting and its parse
 * cost bounded before JSON.parse runs: over MAX_JSON_CONTAINERS objects and arrays it is refused as
 * PayloadTooLarge naming the limit, anything else wrong as BadRequest. `what` names the text.
 */
export function parseUntrusted(text: string, what: string): unknown {
  try {
    return parseJson(text, MAX_JSON_DEPTH, Infinity, MAX_JSON_CONTAINERS);
  } catch (e) {
    if (e instanceof JsonLimitError && e.reason === 'cost')
      throw new ApiError('PayloadTooLarge', `${what} is ${e.message}`, { limit_containers: MAX_JSON_CONTAINERS });
    throw new ApiError('BadRequest', `${what} is ${(e as Error).message}`);
  }
}

function tooLarge(size: number, limit: number): ApiError {
  return new ApiError('PayloadTooLarge', `request body of ${size} bytes exceeds the limit of ${limit} bytes`, {
    request_size: size,
    limit,
  });
}
