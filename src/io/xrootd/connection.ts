/**
 * One logged-in XRootD connection (node:net): handshake, kXR_protocol, kXR_login, then any number of
 * requests in flight at once, told apart by their 2-byte stream id. `request` resolves with the final
 * response (kXR_ok, kXR_error or kXR_redirect): partial kXR_oksofar bodies are joined, kXR_wait is
 * honoured by sending the request again after the wait, kXR_waitresp by waiting for the kXR_attn
 * (kXR_asynresp) that carries the real answer. Anything that breaks the connection — refused, reset,
 * closed, timed out — rejects every request in flight with XrootdConnectionError, the one error worth
 * retrying on a new connection.
 *
 * A request may name the buffer its answer goes into (`into`, sized by the caller, who knows how many
 * bytes a read returns): the kXR_ok and kXR_oksofar bodies are then received straight into it, one after
 * the other, instead of each into a buffer of its own that is joined at the end. A data round trip thus
 * allocates its bytes once; on a 20 M-event Parquet query the extra buffers had doubled the major GCs.
 *
 * A connection made with `connectSync` runs over the relay thread (relay.ts) instead of a socket of
 * this thread: `requestSync` then sends a request and blocks until its final response, with the same
 * parsing, the same waits and the same deadline as `request`, for reads that cannot be awaited.
 */
import { connect } from 'node:net';
import { internalError } from '../../errors/index.ts';
import { SourceError } from '../source-error.ts';
import {
  encodeRequest,
  handshake,
  kXR_asynresp,
  kXR_attn,
  kXR_authmore,
  kXR_login,
  kXR_ok,
  kXR_oksofar,
  kXR_protocol,
  kXR_wait,
  kXR_waitresp,
  loginParams,
  protocolParams,
  RESPONSE_HEADER_BYTES,
} from './protocol.ts';
import type { Relay } from './relay.ts';

/** kXR_login's parameters: this process and user. */
const LOGIN = (): Buffer => loginParams(process.pid, process.env.USER ?? 'ristretto');

/** The socket's read buffer for headers and small bodies (the size of Node's own per-read buffers). */
const SCRATCH_BYTES = 64 << 10;
/** Bodies with at least this much still to come are read straight into place instead of via the scratch. */
const DIRECT_BYTES = 32 << 10;

/** The connection broke (or never came up): retry on a new one. */
export class XrootdConnectionError extends SourceError {}

/** A final response. */
export interface Response {
  readonly status: number;
  readonly body: Buffer;
}

export interface ConnectionOptions {
  /** Give up on any one request after this long (ms). */
  timeoutMs: number;
  /**
   * Give up on coming up — the TCP connection, then each of the handshake with kXR_protocol and
   * kXR_login — after this long (ms; default `timeoutMs`). A server answers a login in milliseconds: a
   * hung one need not cost a whole read's timeout per attempt.
   */
  loginTimeoutMs?: number;
  /** Longest server-requested wait (kXR_wait, kXR_waitresp) honoured, in seconds. */
  maxWaitSeconds?: number;
}

interface Pending {
  readonly requestId: number;
  readonly params: Buffer;
  readonly body: Buffer | undefined;
  readonly parts: Buffer[];
  /** Where the answer's bodies go, in order (set by the caller; dropped if the server sends more). */
  into: Buffer | undefined;
  readonly dest: Buffer | undefined;
  /** Bytes of `into` received so far. */
  intoFill: number;
  readonly resolve: (r: Response) => void;
  readonly reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** When the request is given up on (performance.now() ms): what `requestSync` checks, as timers cannot fire. */
  deadline: number;
  /** The wait that `deadline` ends (ms), for the message. */
  limitMs: number;
  /** This request's answer is waited for this long (ms) instead of `timeoutMs`. */
  readonly timeoutMs: number | undefined;
  /** After a kXR_wait on a synchronous connection: when to send the request again (0: not waiting). */
  resendAt: number;
}

/** Where a connection writes: a socket of this thread, or one of the relay thread. */
interface Wire {
  write(b: Uint8Array): void;
  destroy(): void;
  ref?(): void;
  unref?(): void;
}

export class XrootdConnection {
  /** Set once the connection is unusable; every later request fails with it. */
  broken: XrootdConnectionError | undefined;
  /** The session id from kXR_login. */
  sessionId: Buffer = Buffer.alloc(0);

  private readonly pending = new Map<number, Pending>();
  private nextStream = 1;
  // Incoming-response state: the 8-byte header, then a body buffer of exactly dlen bytes that socket
  // chunks are copied into (no growing concatenation, which is quadratic on multi-megabyte reads).
  private readonly head = Buffer.alloc(RESPONSE_HEADER_BYTES);
  private headFill = 0;
  private bodyBuf: Buffer | undefined;
  private bodyFill = 0;
  /** The body being received lies in its request's `into`. */
  private bodyInto = false;
  /** The part of `bodyBuf` the socket was last given to read into (`nextReadBuffer`). */
  private direct: Uint8Array | undefined;
  private handshakeWaiter: ((r: Response) => void) | undefined;
  /** Until logged in, requests (kXR_protocol, kXR_login) get `loginTimeoutMs` instead of `timeoutMs`. */
  private loggingIn = true;

  private constructor(
    private readonly socket: Wire,
    /** "host:port", for messages. */
    readonly endpoint: string,
    private readonly opts: ConnectionOptions,
    /** Set for a connection over the relay thread (`connectSync`). */
    private readonly relay?: Relay,
    /** The socket's read buffer between bodies (`nextReadBuffer`); unused over the relay thread. */
    private readonly scratch?: Buffer,
  ) {}

  /** Connect, handshake, kXR_protocol and kXR_login. Throws XrootdConnectionError or SourceError. */
  static async connect(host: string, port: number, opts: ConnectionOptions): Promise<XrootdConnection> {
    const endpoint = endpointOf(host, port);
    // Received bytes land in buffers this connection hands the socket (`nextReadBuffer`): a body of some
    // size straight where it belongs, the rest in one reused scratch buffer. 'data' events instead gave
    // every read a fresh 64 KiB buffer, thousands per run, and the garbage collector ran twice as often
    // as on the local file (bench/RESULTS.md "Session 15: root:// client CPU").
    const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    const receiver: { conn?: XrootdConnection } = {};
    const socket = connect({
      host,
      port,
      onread: {
        buffer: () => receiver.conn?.nextReadBuffer() ?? scratch,
        callback: (n: number, buf: Uint8Array) => {
          receiver.conn?.received(n, buf);
          return true; // keep reading
        },
      },
    });
    const conn = new XrootdConnection(socket, endpoint, opts, undefined, scratch);
    receiver.conn = conn;
    socket.setNoDelay(true);
    socket.on('error', (e) => conn.fail(`connection to ${endpoint} failed: ${e.message}`, e));
    socket.on('close', () => conn.fail(`connection to ${endpoint} closed by the server`));
    // The server's FIN is read in the poll phase, 'close' only comes in a later phase: a connection kept
    // for reuse (idle.ts) must look broken as soon as its peer is gone.
    socket.on('end', () => conn.fail(`connection to ${endpoint} closed by the server`));
    try {
      await new Promise<void>((resolve, reject) => {
        const ms = opts.loginTimeoutMs ?? opts.timeoutMs;
        const t = setTimeout(
          () => reject(new XrootdConnectionError(`connecting to ${endpoint} timed out after ${ms} ms`, { endpoint })),
          ms,
        );
        socket.once('connect', () => (clearTimeout(t), resolve()));
        socket.once(
          'close',
          () => (
            clearTimeout(t),
            reject(conn.broken ?? new XrootdConnectionError(`connection to ${endpoint} closed`, { endpoint }))
          ),
        );
      });
      // The handshake is answered on stream 0; kXR_protocol goes in the same packet, as xrootd clients do.
      const shake = new Promise<Response>((resolve) => (conn.handshakeWaiter = resolve));
      socket.write(handshake());
      const proto = conn.request(kXR_protocol, protocolParams());
      conn.shookHands(await Promise.race([shake, proto.then(() => shake)]));
      await proto;
      conn.loggedIn(await conn.request(kXR_login, LOGIN()));
      return conn;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /**
   * `connect` over `relay`'s thread, blocking this thread until logged in; the connection then serves
   * `requestSync`. Throws XrootdConnectionError or SourceError like `connect`.
   */
  static connectSync(host: string, port: number, opts: ConnectionOptions, relay: Relay): XrootdConnection {
    const endpoint = endpointOf(host, port);
    const socket = relay.connect(host, port);
    const conn = new XrootdConnection(socket, endpoint, opts, relay);
    socket.onData = (chunk) => conn.onData(chunk);
    socket.onError = (message) => conn.fail(`connection to ${endpoint} failed: ${message}`);
    socket.onClose = () => conn.fail(`connection to ${endpoint} closed by the server`);
    try {
      const ms = opts.loginTimeoutMs ?? opts.timeoutMs;
      if (!relay.pump(() => socket.connected || conn.broken !== undefined, performance.now() + ms))
        throw new XrootdConnectionError(`connecting to ${endpoint} timed out after ${ms} ms`, { endpoint });
      if (conn.broken) throw conn.broken;
      let hs: Response | undefined;
      conn.handshakeWaiter = (r) => (hs = r);
      socket.write(handshake());
      // The server answers the handshake before kXR_protocol, which went right behind it.
      conn.requestSync(kXR_protocol, protocolParams());
      conn.shookHands(hs);
      conn.loggedIn(conn.requestSync(kXR_login, LOGIN()));
      return conn;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** The handshake's answer (8 bytes: protocol version and server type), else this is no XRootD server. */
  private shookHands(hs: Response | undefined): void {
    if (!hs || hs.body.length < 8)
      throw new XrootdConnectionError(`${this.endpoint} is not an XRootD server (bad handshake reply)`, {
        endpoint: this.endpoint,
      });
  }

  /** Take the session id from the kXR_login answer; a server that wants authentication is refused. */
  private loggedIn(login: Response): void {
    if (login.status !== 0) throw this.unexpected('kXR_login', login);
    this.sessionId = login.body.subarray(0, 16);
    this.loggingIn = false;
    const sec = login.body.subarray(16).toString('latin1');
    if (sec.includes('&P=')) {
      const protocols = [...sec.matchAll(/&P=([a-z0-9]+)/g)].map((m) => m[1]).join(', ');
      throw new SourceError(
        `${this.endpoint} requires authentication (${protocols}), which Ristretto's XRootD client does not implement`,
        { endpoint: this.endpoint, protocols },
        'read the file through a server that allows anonymous reads, over https, or copy it locally with xrdcp',
      );
    }
  }

  /**
   * Send a request; resolves with the final response (status kXR_ok, kXR_error or kXR_redirect). With
   * `into`, a kXR_ok answer's body is `into` up to the bytes received (see the top of this file); with
   * `timeoutMs`, the answer is waited for that long instead of the connection's `timeoutMs`.
   */
  request(requestId: number, params: Buffer, body?: Buffer, into?: Buffer, timeoutMs?: number): Promise<Response> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<Response>((resolve, reject) =>
      this.start(requestId, params, body, resolve, reject, into, timeoutMs),
    );
  }

  /**
   * `request`, blocking until the final response (only on a `connectSync` connection). The deadline, and
   * the resend after a kXR_wait, are kept here: no timer fires while the thread is blocked.
   */
  requestSync(requestId: number, params: Buffer, body?: Buffer, into?: Buffer): Response {
    const relay = this.relay;
    if (!relay) throw internalError(`the connection to ${this.endpoint} was not made with connectSync`);
    if (this.broken) throw this.broken;
    let out: Response | undefined;
    let err: Error | undefined;
    const { id, p } = this.start(
      requestId,
      params,
      body,
      (r) => (out = r),
      (e) => (err = e),
      into,
    );
    for (;;) {
      if (out) return out;
      if (err) throw err;
      const now = performance.now();
      if (p.resendAt > 0 && now >= p.resendAt) {
        p.resendAt = 0;
        this.send(id, p);
      } else if (p.resendAt === 0 && now >= p.deadline) this.expire(p);
      // A kXR_wait arriving while pumping sets resendAt: stop pumping then, to resend at the right time.
      else relay.pump(() => out !== undefined || err !== undefined || p.resendAt > 0, p.resendAt || p.deadline);
    }
  }

  /** Send a request on a free stream id; its final response goes to `resolve`, a failure to `reject`. */
  private start(
    requestId: number,
    params: Buffer,
    body: Buffer | undefined,
    resolve: (r: Response) => void,
    reject: (e: Error) => void,
    into?: Buffer,
    timeoutMs?: number,
  ): { id: number; p: Pending } {
    const id = this.streamId();
    const p: Pending = {
      requestId,
      params,
      body,
      parts: [],
      into,
      dest: into,
      intoFill: 0,
      resolve,
      reject,
      timer: undefined,
      deadline: 0,
      limitMs: 0,
      timeoutMs,
      resendAt: 0,
    };
    this.pending.set(id, p);
    this.send(id, p);
    return { id, p };
  }

  close(): void {
    this.fail('connection closed by the client');
    this.socket.destroy();
  }

  /** Working, with no request in flight: it may serve another file (idle.ts). */
  get idle(): boolean {
    return this.broken === undefined && this.pending.size === 0 && this.bodyBuf === undefined;
  }

  /**
   * Whether the socket keeps the process alive (Node's ref/unref): a connection parked for reuse does
   * not, so a command that is done exits at once instead of when the parking ends.
   */
  keepAlive(on: boolean): void {
    if (on) this.socket.ref?.();
    else this.socket.unref?.();
  }

  private send(id: number, p: Pending): void {
    this.arm(
      p,
      this.loggingIn ? (this.opts.loginTimeoutMs ?? this.opts.timeoutMs) : (p.timeoutMs ?? this.opts.timeoutMs),
    );
    this.socket.write(encodeRequest(id, p.requestId, p.params, p.body));
  }

  /** (Re)start the request's deadline. */
  private arm(p: Pending, ms: number): void {
    clearTimeout(p.timer);
    p.deadline = performance.now() + ms;
    p.limitMs = ms;
    if (this.relay) return; // requestSync watches the deadline itself
    p.timer = setTimeout(() => this.expire(p), ms);
    p.timer.unref?.();
  }

  /** A request that never completes leaves the stream in an unknown state: drop the connection. */
  private expire(p: Pending): void {
    const what = this.loggingIn ? 'logging in' : `request ${p.requestId}`;
    this.fail(`no answer from ${this.endpoint} within ${Math.round(p.limitMs / 1000)} s (${what})`);
    this.socket.destroy();
  }

  private streamId(): number {
    for (;;) {
      const id = this.nextStream;
      this.nextStream = id >= 0xffff ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  /**
   * Where the socket reads next: the rest of the body being received when at least DIRECT_BYTES of it are
   * missing (the kernel copies them into place; a read never goes past the body's end, so the next
   * header is never split off into it), else the scratch buffer, which `received` parses at once.
   */
  private nextReadBuffer(): Uint8Array | undefined {
    const body = this.bodyBuf;
    if (body && body.length - this.bodyFill >= DIRECT_BYTES) return (this.direct = body.subarray(this.bodyFill));
    this.direct = undefined;
    return this.scratch;
  }

  /** `n` bytes were read into `buf` (what `nextReadBuffer` handed out). */
  private received(n: number, buf: Uint8Array): void {
    if (buf === this.direct && this.bodyBuf) {
      this.direct = undefined;
      this.bodyFill += n;
      if (this.bodyFill === this.bodyBuf.length) this.bodyDone();
    } else this.onData(buf as Buffer, n);
  }

  /** Parse `chunk[0, end)`: headers and bodies are copied out of it (it is reused for the next read). */
  private onData(chunk: Buffer, end = chunk.length): void {
    let at = 0;
    while (at < end) {
      if (!this.bodyBuf) {
        const n = Math.min(RESPONSE_HEADER_BYTES - this.headFill, end - at);
        chunk.copy(this.head, this.headFill, at, at + n);
        this.headFill += n;
        at += n;
        if (this.headFill < RESPONSE_HEADER_BYTES) return;
        const dlen = this.head.readInt32BE(4);
        if (dlen < 0) {
          this.fail(`${this.endpoint} sent a response with a negative length`);
          this.socket.destroy();
          return;
        }
        this.bodyBuf = this.bodyFor(this.head.readUInt16BE(0), this.head.readUInt16BE(2), dlen);
        this.bodyFill = 0;
      }
      const n = Math.min(this.bodyBuf.length - this.bodyFill, end - at);
      chunk.copy(this.bodyBuf, this.bodyFill, at, at + n);
      this.bodyFill += n;
      at += n;
      if (this.bodyFill === this.bodyBuf.length) this.bodyDone();
    }
  }

  /** The body in `bodyBuf` is complete: hand the response on and wait for the next header. */
  private bodyDone(): void {
    const stream = this.head.readUInt16BE(0);
    const status = this.head.readUInt16BE(2);
    const body = this.bodyBuf as Buffer;
    this.bodyBuf = undefined;
    this.headFill = 0;
    const inInto = this.bodyInto;
    if (inInto) {
      this.bodyInto = false;
      const p = this.pending.get(stream);
      if (p) p.intoFill += body.length;
    }
    this.dispatch(stream, status, body, inInto);
  }

  /**
   * Where a body of `dlen` bytes is received: the next bytes of its request's `into` for data (kXR_ok,
   * kXR_oksofar) that fits there, else a buffer of its own. A request whose answer outgrows `into` gives
   * it up: what it holds becomes the first part, and the parts are joined as for any other request.
   */
  private bodyFor(stream: number, status: number, dlen: number): Buffer {
    const p = this.pending.get(stream);
    if (p?.into && (status === kXR_ok || status === kXR_oksofar)) {
      if (p.intoFill + dlen <= p.into.length) {
        this.bodyInto = true;
        return p.into.subarray(p.intoFill, p.intoFill + dlen);
      }
      if (p.intoFill > 0) p.parts.push(p.into.subarray(0, p.intoFill));
      p.into = undefined;
    }
    return Buffer.allocUnsafe(dlen);
  }

  /** A complete response; `inInto`: its body was received into its request's `into`. */
  private dispatch(stream: number, status: number, body: Buffer, inInto = false): void {
    if (status === kXR_attn) {
      // kXR_asynresp: action (4), reserved (4), then a whole response (header + body) for some stream.
      if (body.length >= 16 && body.readInt32BE(0) === kXR_asynresp) {
        const inner = body.subarray(8);
        this.dispatch(
          inner.readUInt16BE(0),
          inner.readUInt16BE(2),
          inner.subarray(RESPONSE_HEADER_BYTES, RESPONSE_HEADER_BYTES + inner.readInt32BE(4)),
        );
      }
      return; // other attention codes are advisory
    }
    if (stream === 0 && this.handshakeWaiter) {
      const w = this.handshakeWaiter;
      this.handshakeWaiter = undefined;
      w({ status, body });
      return;
    }
    const p = this.pending.get(stream);
    if (!p) return; // a late answer to a request already given up on
    const max = (this.opts.maxWaitSeconds ?? 600) * 1000;
    switch (status) {
      case kXR_oksofar:
        if (!inInto) p.parts.push(body); // else it is already in place in `into`
        this.arm(p, this.opts.timeoutMs);
        return;
      case kXR_wait: {
        // The server is busy (file staging, too many clients): send the same request again later.
        const ms = Math.min(max, Math.max(0, body.readInt32BE(0)) * 1000);
        p.parts.length = 0;
        p.into = p.dest;
        p.intoFill = 0;
        clearTimeout(p.timer);
        if (this.relay) p.resendAt = performance.now() + ms;
        else p.timer = setTimeout(() => !this.broken && this.send(stream, p), ms);
        return;
      }
      case kXR_waitresp: {
        // The answer comes later in a kXR_attn; keep the stream and wait that long plus the usual limit.
        const ms = Math.min(max, Math.max(0, body.readInt32BE(0)) * 1000);
        this.arm(p, ms + this.opts.timeoutMs);
        return;
      }
      case kXR_authmore:
        this.finish(stream, p);
        p.reject(
          new SourceError(
            `${this.endpoint} asked for authentication in the middle of a request`,
            { endpoint: this.endpoint },
            'use a server that allows anonymous reads',
          ),
        );
        return;
      default: {
        this.finish(stream, p);
        // A kXR_ok received into `into` is the whole answer there; anything else (an answer that came in
        // a kXR_attn, an error) joins its parts, led by what `into` holds of a kXR_ok.
        let full = body;
        if (inInto && p.into) full = p.into.subarray(0, p.intoFill);
        else {
          const parts =
            p.into && p.intoFill > 0 && status === kXR_ok ? [p.into.subarray(0, p.intoFill), ...p.parts] : p.parts;
          if (parts.length) full = Buffer.concat([...parts, body]);
        }
        p.resolve({ status, body: full });
      }
    }
  }

  private finish(stream: number, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(stream);
  }

  private fail(message: string, cause?: Error): void {
    if (!this.broken)
      this.broken = new XrootdConnectionError(message, { endpoint: this.endpoint }, undefined, { cause });
    for (const [id, p] of this.pending) {
      this.finish(id, p);
      p.reject(this.broken);
    }
    if (this.handshakeWaiter) this.handshakeWaiter = undefined;
  }

  /** A response a step did not expect (kXR_error handled by the caller; this is for the rest). */
  unexpected(step: string, r: Response): SourceError {
    return new XrootdConnectionError(`${this.endpoint} answered ${step} with status ${r.status}`, {
      endpoint: this.endpoint,
      status: r.status,
    });
  }
}

/** "host:port" (IPv6 hosts bracketed): how a connection names its server. */
export function endpointOf(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
