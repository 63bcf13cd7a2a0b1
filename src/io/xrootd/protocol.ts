/**
 * The XRootD wire format (protocol 5, the subset a reader needs): request and response codes, request
 * encoding and the parsing of the few response bodies the client looks into. Pure functions over
 * bytes; the socket lives in connection.ts.
 *
 * Every request is a 24-byte header — stream id (2), request id (2), 16 request-specific bytes, body
 * length (4) — followed by the body; every response is an 8-byte header — stream id (2), status (2),
 * body length (4) — followed by the body. All integers are big-endian.
 */
import { SourceError } from '../source-error.ts';

/**
 * A server answer that does not parse (a stat text, a vector read that does not match its request).
 * The byte source rethrows it as a SourceError naming the URL.
 */
export class XrootdProtocolError extends SourceError {}

/** Request ids. */
export const kXR_close = 3003;
export const kXR_protocol = 3006;
export const kXR_login = 3007;
export const kXR_open = 3010;
export const kXR_read = 3013;
export const kXR_stat = 3017;
export const kXR_readv = 3025;

/** Response status codes. */
export const kXR_ok = 0;
export const kXR_oksofar = 4000;
export const kXR_attn = 4001;
export const kXR_authmore = 4002;
export const kXR_error = 4003;
export const kXR_redirect = 4004;
export const kXR_wait = 4005;
export const kXR_waitresp = 4006;
export const kXR_status = 4007;

/** kXR_attn action: the deferred response to a request answered by kXR_waitresp. */
export const kXR_asynresp = 5008;

/** kXR_open options. */
export const kXR_open_read = 0x0010;
export const kXR_retstat = 0x0400;

/** kXR_stat flags (in the stat text). */
export const kXR_isDir = 2;
export const kXR_other = 4;
export const kXR_offline = 8;

/** The protocol version this client speaks (5.0.0); the server answers with its own. */
export const CLIENT_PROTOCOL_VERSION = 0x500;

/** kXR_login capver: protocol level 5 and "understands kXR_attn/kXR_asynresp". */
const LOGIN_CAPVER = 0x80 | 5;

/** Limits of one kXR_readv request (XRootD's maxRvecsz and maxRvecln). */
export const READV_MAX_ELEMENTS = 1024;
export const READV_MAX_ELEMENT_BYTES = 2_097_136;

export const REQUEST_HEADER_BYTES = 24;
export const RESPONSE_HEADER_BYTES = 8;
/** Each kXR_readv element, in the request and before its data in the response. */
export const READV_ELEMENT_BYTES = 16;

/** Server error numbers (XErrorCode) by name, for messages. */
const ERROR_NAMES: Record<number, string> = {
  3000: 'kXR_ArgInvalid',
  3001: 'kXR_ArgMissing',
  3002: 'kXR_ArgTooLong',
  3003: 'kXR_FileLocked',
  3004: 'kXR_FileNotOpen',
  3005: 'kXR_FSError',
  3006: 'kXR_InvalidRequest',
  3007: 'kXR_IOError',
  3008: 'kXR_NoMemory',
  3009: 'kXR_NoSpace',
  3010: 'kXR_NotAuthorized',
  3011: 'kXR_NotFound',
  3012: 'kXR_ServerError',
  3013: 'kXR_Unsupported',
  3014: 'kXR_noserver',
  3015: 'kXR_NotFile',
  3016: 'kXR_isDirectory',
  3017: 'kXR_Cancelled',
  3018: 'kXR_ItExists',
  3019: 'kXR_ChkSumErr',
  3020: 'kXR_inProgress',
  3021: 'kXR_overQuota',
  3022: 'kXR_SigVerErr',
  3023: 'kXR_DecryptErr',
  3024: 'kXR_Overloaded',
  3025: 'kXR_fsReadOnly',
  3026: 'kXR_BadPayload',
  3027: 'kXR_AttrNotFound',
  3028: 'kXR_TLSRequired',
  3029: 'kXR_noReplicas',
  3030: 'kXR_AuthFailed',
  3031: 'kXR_Impossible',
  3032: 'kXR_Conflict',
  3033: 'kXR_TooManyErrs',
  3034: 'kXR_ReqTimedOut',
  3035: 'kXR_TimerExpired',
};

export const kXR_NotFound = 3011;
export const kXR_NotAuthorized = 3010;
export const kXR_isDirectory = 3016;

export function errorName(errnum: number): string {
  return ERROR_NAMES[errnum] ?? `error ${errnum}`;
}

/**
 * The initial handshake (four zero-or-fixed int32s then 2012) that every connection starts with. The
 * server answers with a response on stream 0 whose 8-byte body is its protocol version and kind.
 */
export function handshake(): Buffer {
  const b = Buffer.alloc(20);
  b.writeInt32BE(4, 12);
  b.writeInt32BE(2012, 16);
  return b;
}

/** A request: header with `params` (≤ 16 bytes, zero-padded) then `body`. */
export function encodeRequest(streamId: number, requestId: number, params: Buffer, body?: Uint8Array): Buffer {
  const len = body?.length ?? 0;
  const b = Buffer.alloc(REQUEST_HEADER_BYTES + len);
  b.writeUInt16BE(streamId, 0);
  b.writeUInt16BE(requestId, 2);
  params.copy(b, 4, 0, Math.min(16, params.length));
  b.writeInt32BE(len, 20);
  if (body) b.set(body, REQUEST_HEADER_BYTES);
  return b;
}

/** kXR_protocol parameters: our version; no TLS, no signing (flags 0). */
export function protocolParams(): Buffer {
  const p = Buffer.alloc(16);
  p.writeInt32BE(CLIENT_PROTOCOL_VERSION, 0);
  return p;
}

/** kXR_login parameters: process id, user name (8 bytes, zero-padded) and capabilities. */
export function loginParams(pid: number, user: string): Buffer {
  const p = Buffer.alloc(16);
  p.writeInt32BE(pid & 0x7fffffff, 0);
  Buffer.from(user.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 8) || 'ristretto', 'latin1').copy(p, 4, 0, 8);
  p[14] = LOGIN_CAPVER;
  return p;
}

/** kXR_open parameters: mode 0, the given options. */
export function openParams(options: number): Buffer {
  const p = Buffer.alloc(16);
  p.writeUInt16BE(options, 2);
  return p;
}

/** kXR_read / kXR_close parameters start with the 4-byte file handle. */
export function readParams(fh: Buffer, offset: number, length: number): Buffer {
  const p = Buffer.alloc(16);
  fh.copy(p, 0, 0, 4);
  p.writeBigInt64BE(BigInt(offset), 4);
  p.writeInt32BE(length, 12);
  return p;
}

export function closeParams(fh: Buffer): Buffer {
  const p = Buffer.alloc(16);
  fh.copy(p, 0, 0, 4);
  return p;
}

/** One piece of a vector read. */
export interface Segment {
  readonly offset: number;
  readonly length: number;
}

/** kXR_readv body: one 16-byte element (file handle, length, offset) per segment. */
export function readvBody(fh: Buffer, segments: readonly Segment[]): Buffer {
  const b = Buffer.alloc(segments.length * READV_ELEMENT_BYTES);
  for (let i = 0; i < segments.length; i++) {
    const at = i * READV_ELEMENT_BYTES;
    fh.copy(b, at, 0, 4);
    b.writeInt32BE(segments[i].length, at + 4);
    b.writeBigInt64BE(BigInt(segments[i].offset), at + 8);
  }
  return b;
}

/**
 * Split a kXR_readv response into the segments' bytes (views into `body`, no copy). The server
 * answers each element, in order, with the element's 16-byte header and its data; a header that does
 * not match the request (another offset, fewer bytes) means the file is shorter than expected.
 */
export function splitReadv(body: Buffer, segments: readonly Segment[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const s of segments) {
    if (at + READV_ELEMENT_BYTES > body.length)
      throw new XrootdProtocolError(`vector read response ends after ${out.length} of ${segments.length} segments`);
    const len = body.readInt32BE(at + 4);
    const off = Number(body.readBigInt64BE(at + 8));
    if (off !== s.offset || len !== s.length) {
      throw new XrootdProtocolError(
        `vector read returned ${len} bytes at ${off} where ${s.length} bytes at ${s.offset} were asked (the file may have changed or be truncated)`,
      );
    }
    at += READV_ELEMENT_BYTES;
    if (at + len > body.length)
      throw new XrootdProtocolError(`vector read response is cut inside the segment at ${s.offset}`);
    // A plain Uint8Array view: readers expect Uint8Array semantics (Buffer's slice does not copy).
    out.push(new Uint8Array(body.buffer, body.byteOffset + at, len));
    at += len;
  }
  return out;
}

/** What kXR_stat (or kXR_open with kXR_retstat) says about a file. */
export interface StatInfo {
  readonly id: string;
  readonly size: number;
  readonly flags: number;
  readonly mtime: number;
}

/** Parse the stat text "id size flags mtime" (NUL-terminated). */
export function parseStat(text: string): StatInfo {
  const parts = text.replace(/\0.*$/s, '').trim().split(/\s+/);
  const size = Number(parts[1]);
  if (parts.length < 4 || !Number.isSafeInteger(size))
    throw new XrootdProtocolError(`unreadable stat response ${JSON.stringify(text.slice(0, 80))}`);
  return { id: parts[0], size, flags: Number(parts[2]), mtime: Number(parts[3]) };
}

/** Body of kXR_error: error number then a NUL-terminated message. */
export function parseError(body: Buffer): { errnum: number; message: string } {
  if (body.length < 4) return { errnum: 0, message: 'error without details' };
  return { errnum: body.readInt32BE(0), message: body.subarray(4).toString('utf8').replace(/\0.*$/s, '').trim() };
}

/** Body of kXR_redirect: port, then "host[?opaque]" (a port < 0 means the host part is a URL). */
export function parseRedirect(body: Buffer): { port: number; host: string; opaque: string } {
  const port = body.readInt32BE(0);
  const text = body.subarray(4).toString('utf8').replace(/\0.*$/s, '');
  const q = text.indexOf('?');
  const hostPart = q < 0 ? text : text.slice(0, q);
  return { port, host: hostPart, opaque: q < 0 ? '' : text.slice(q + 1).split('\t')[0] };
}
