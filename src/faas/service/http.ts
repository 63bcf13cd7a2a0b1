/** HTTP plumbing of the service: typed errors, bounded body reading, JSON replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CodecError } from '../codec.ts';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../protocol.ts';
import { JsonLimitError, parseJson, SchemaError, type Validator } from '../schema.ts';

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

export function sendError(res: ServerResponse, err: ApiError): void {
  const body: ErrorBody = {
    error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
  };
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, ERROR_STATUS[err.code], body);
}

/** Read a JSON body of at most `limit` bytes and check it against a protocol schema (400 when it does not fit). */
export async function readBody<V>(req: IncomingMessage, limit: number, v: Validator<V>, what: string): Promise<V> {
  return checked(v, await readJson(req, limit), what);
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

/** Read and parse a JSON body of at most `limit` bytes (nesting depth bounded before parsing). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw tooLarge(declared, limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(size, limit);
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return parseJson(Buffer.concat(chunks, size).toString('utf8'));
  } catch (e) {
    throw new ApiError('BadRequest', `request body is ${(e as Error).message}`);
  }
}

function tooLarge(size: number, limit: number): ApiError {
  return new ApiError('PayloadTooLarge', `request body of ${size} bytes exceeds the limit of ${limit} bytes`, {
    request_size: size,
    limit,
  });
}
