/**
 * zlib and raw-deflate streams inflated into the caller's array, through one zlib handle per thread that
 * is reset between streams. Node's public `inflateSync` makes a new handle (window and state) and a new
 * output Buffer for every call; a ROOT file has a stream per basket, hundreds per chunk, and those fresh
 * output arrays are most of what the garbage collector of a zlib ROOT run has to free (bench/RESULTS.md
 * "Session 14: ROOT ÷ Parquet").
 *
 * Node has no public synchronous call that inflates into a given array, so this uses the handle's
 * `writeSync` — the same call `inflateSync` makes internally (lib/zlib.js; seen in Node 20). The handle is
 * checked once per thread on a known stream; where it is missing, behaves differently or throws, every
 * call goes through `inflateSync` plus a copy instead, with the same results.
 */
import { constants, createInflate, createInflateRaw, inflateRawSync, inflateSync } from 'node:zlib';
import { CodecError } from './errors.ts';

/** The part of Node's zlib handle used here (lib/zlib.js's `processChunkSync` calls the same). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}

/** One reusable inflater: its handle and the state array `writeSync` leaves [avail out, avail in] in. */
interface Inflater {
  readonly handle: ZlibHandle & { onerror?: (message: string, errno: number, code?: string) => void };
  readonly state: Uint32Array;
  readonly close: () => void;
  /** The error zlib reported during the last call, if any. */
  error: Error | undefined;
}

function makeInflater(raw: boolean): Inflater | undefined {
  const z = (raw ? createInflateRaw() : createInflate()) as unknown as {
    _handle?: Inflater['handle'];
    _writeState?: Uint32Array;
    close(): void;
  };
  const handle = z._handle;
  if (typeof handle?.writeSync !== 'function' || !(z._writeState instanceof Uint32Array)) return undefined;
  const inf: Inflater = { handle, state: z._writeState, close: () => z.close(), error: undefined };
  // zlib reports a damaged stream through this callback during writeSync; the stream's own handler
  // would destroy the stream (and emit the error later), so this one keeps the error for the caller.
  handle.onerror = (message, errno, code) => {
    inf.error = new CodecError(message, { codec: raw ? 'deflate' : 'zlib', code, errno });
  };
  return inf;
}

// Per thread: one inflater per format, made on first use; `false` once the handle failed its check.
let zlibInflater: Inflater | false | undefined;
let rawInflater: Inflater | false | undefined;

/**
 * Inflate one stream `src` (zlib format, or raw deflate with `raw`) into `dst` from `at`, with room for at
 * most `dst.length - at` bytes; returns the number of bytes inflated. Give a little more room than the
 * stream is expected to hold (ROOT's baskets: 64 bytes), so that a stream that does not end there fails
 * instead of filling the room exactly. zlib may scribble on the room past the inflated bytes (Node's
 * zlib writes a few bytes ahead), never before `at` or past `dst.length`.
 * @throws CodecError when the stream is damaged (zlib's message, its code in `context.code`) or does not
 * end within the room.
 *
 * @example
 * ```ts
 * import { deflateSync } from 'node:zlib';
 * const out = new Uint8Array(64);
 * inflateInto(deflateSync(Buffer.from('hello')), out); // 5; out starts with 'hello'
 * ```
 */
export function inflateInto(src: Uint8Array, dst: Uint8Array, at = 0, raw = false): number {
  let inf = raw ? rawInflater : zlibInflater;
  if (inf === undefined) {
    inf = checked(raw);
    if (raw) rawInflater = inf;
    else zlibInflater = inf;
  }
  if (inf === false) return inflateCopy(src, dst, at, raw);
  const room = dst.length - at;
  inf.error = undefined;
  inf.handle.writeSync(constants.Z_FINISH, src, 0, src.length, dst, at, room);
  const error = inf.error as Error | undefined;
  if (error) {
    // A handle that failed is not trusted again: the next stream gets a new one.
    inf.close();
    if (raw) rawInflater = undefined;
    else zlibInflater = undefined;
    throw error;
  }
  const written = room - inf.state[0];
  const unread = inf.state[1];
  inf.handle.reset();
  if (written === room && unread > 0)
    throw new CodecError('the stream does not end within the room given', { codec: raw ? 'deflate' : 'zlib' });
  return written;
}

/**
 * The fallback, with `inflateInto`'s contract: Node's public call and a copy.
 * @internal Exported for tests; use `inflateInto`.
 */
export function inflateCopy(src: Uint8Array, dst: Uint8Array, at = 0, raw = false): number {
  const opts = { chunkSize: Math.max(64, dst.length - at) };
  let r: Buffer;
  try {
    r = raw ? inflateRawSync(src, opts) : inflateSync(src, opts);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CodecError((e as Error).message, { codec: raw ? 'deflate' : 'zlib', code }, undefined, { cause: e });
  }
  if (r.length > dst.length - at)
    throw new CodecError('the stream does not end within the room given', { codec: raw ? 'deflate' : 'zlib' });
  dst.set(r, at);
  return r.length;
}

/** A new inflater if its handle inflates a known stream right (twice, to check the reset), else false. */
function checked(raw: boolean): Inflater | false {
  let inf: Inflater | undefined;
  try {
    inf = makeInflater(raw);
  } catch {
    return false;
  }
  if (!inf) return false;
  // `deflateSync('ristretto ' × 50)`; raw deflate is the zlib stream minus its 2-byte header and adler32.
  const text = Buffer.from('ristretto '.repeat(50));
  const zlib = Buffer.from('eJwryiwuKUotKclXKBpljRAWABUtyyE=', 'base64');
  const stream = raw ? zlib.subarray(2, zlib.length - 4) : zlib;
  try {
    for (let round = 0; round < 2; round++) {
      const out = new Uint8Array(text.length + 64);
      inf.error = undefined;
      inf.handle.writeSync(constants.Z_FINISH, stream, 0, stream.length, out, 0, out.length);
      if (inf.error || inf.state[0] !== 64 || inf.state[1] !== 0) return false;
      if (Buffer.compare(Buffer.from(out.buffer, 0, text.length), text) !== 0) return false;
      inf.handle.reset();
    }
  } catch {
    return false;
  }
  return inf;
}

/** Which inflater runs in this thread ('handle' after the first stream when the check passed). */
export function inflaterKind(): 'handle' | 'inflateSync' | 'unused' {
  if (zlibInflater === undefined && rawInflater === undefined) return 'unused';
  return zlibInflater || rawInflater ? 'handle' : 'inflateSync';
}
