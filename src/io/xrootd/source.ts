/**
 * XrootdSource: a ByteSource over `root://host:port//path`. Reads issued together (a reader fetching
 * the baskets or column chunks of one chunk with `Promise.all`) are gathered until the next turn of
 * the event loop and sent as kXR_readv vector reads — up to 1024 pieces and `maxVectorBytes` per round
 * trip — so a chunk costs a few round trips however many branches it touches. A read longer than a
 * kXR_readv element (2 MiB) goes as kXR_read of its own (in `maxVectorBytes` pieces) instead of 2 MiB
 * elements joined again by a copy, and every data answer is received into one buffer allocated for it
 * (connection.ts): the bytes a reader gets are the socket's, copied once. At most `concurrency`
 * vector reads are in flight (p-queue). A broken connection is retried with backoff and full jitter
 * (src/util/retry.ts) on a new connection (handshake, login, open again); when the retries run out,
 * the read fails with a SourceError naming the URL.
 *
 * `readRanges` reads several ranges as one request into a buffer the source reuses once the caller
 * releases it, and `prefetchRanges` sends such a request ahead of time (one at most): a reader
 * announces the next row group or basket cluster while it decodes the current one, so the round trip
 * to the server overlaps the processing instead of following it (see `prefetchRanges`).
 *
 * `readSync` / `readvSync` read without awaiting, for a processor's first touch of a column: they go
 * over a second session of the same file, opened on first use through this thread's relay thread
 * (relay.ts), with the same vector reads, retries and errors. Opening a file and reading it are written
 * once, as generators of protocol steps (`locate`, `fetchSteps`), that an async and a sync driver run.
 */
import PQueue from 'p-queue';
import { Backoff, retry } from '../../util/retry.ts';
import { nameOnce } from '../../errors/index.ts';
import { SourceError, SourceUnreachableError } from '../source-error.ts';
import type { ByteRange, RangeBytes } from '../source.ts';
import { BufferPool } from './buffer-pool.ts';
import { endpointOf, XrootdConnection, XrootdConnectionError, type Response } from './connection.ts';
import { dropParkedConnections, parkConnection, takeConnection } from './idle.ts';
import {
  closeParams,
  errorName,
  kXR_close,
  kXR_error,
  kXR_isDir,
  kXR_NotAuthorized,
  kXR_NotFound,
  kXR_ok,
  kXR_open,
  kXR_open_read,
  kXR_read,
  kXR_readv,
  kXR_redirect,
  kXR_retstat,
  kXR_stat,
  openParams,
  parseError,
  parseRedirect,
  parseStat,
  READV_ELEMENT_BYTES,
  READV_MAX_ELEMENT_BYTES,
  READV_MAX_ELEMENTS,
  readParams,
  readvBody,
  type Segment,
  splitReadv,
  type StatInfo,
} from './protocol.ts';
import { relayThread } from './relay.ts';
import { parseXrootdUrl, type XrootdUrl } from './url.ts';

export interface XrootdOptions {
  /** Vector reads in flight per source (default 4). */
  concurrency?: number;
  /** Retries after the first attempt when the connection breaks (default 5). */
  retries?: number;
  /**
   * Upper bound of the first backoff wait in ms, doubling per retry, full jitter (default 500): the
   * default retries span up to ~15 s, so a server restart is ridden out (0.7 s did not cover one).
   */
  backoffMs?: number;
  /** Give up on one request (a read, a stat, an open) after this long, in ms (default 60 000). */
  timeoutMs?: number;
  /**
   * Give up on a new connection that does not come up — TCP, handshake, login — after this long, in ms
   * (default LOGIN_TIMEOUT_MS or `timeoutMs`, whichever is shorter).
   */
  loginTimeoutMs?: number;
  /**
   * Bytes asked for in one round trip at most: a kXR_readv, or a piece of a longer read (default 32 MiB,
   * at least 64 KiB).
   */
  maxVectorBytes?: number;
}

type Settings = Required<XrootdOptions>;

/**
 * The default limit on a new connection's login (ms). A working server answers the handshake and the
 * login in milliseconds; one that accepts and never answers (hung, stopped) cost 60 s per attempt.
 */
export const LOGIN_TIMEOUT_MS = 15_000;

function settings(o: XrootdOptions): Settings {
  const timeoutMs = o.timeoutMs ?? 60_000;
  return {
    concurrency: o.concurrency ?? 4,
    retries: o.retries ?? 5,
    backoffMs: o.backoffMs ?? 500,
    timeoutMs,
    loginTimeoutMs: o.loginTimeoutMs ?? Math.min(LOGIN_TIMEOUT_MS, timeoutMs),
    // at least 64 KiB: a long read is cut into pieces of this size
    maxVectorBytes: Math.max(1 << 16, o.maxVectorBytes ?? 32 << 20),
  };
}

/**
 * Round trips for data (kXR_read/kXR_readv) of every XrootdSource in this thread, their bytes, the
 * `readRanges` answered by a prefetched request, and the connections made (logins), for benchmarks.
 */
export const xrootdCounters = { requests: 0, bytes: 0, prefetchHits: 0, connections: 0 };

/** An open file: the connection it was opened on and its handle. */
interface Session {
  readonly conn: XrootdConnection;
  readonly fh: Buffer;
  readonly stat: StatInfo;
}

/** One read() waiting for its pieces. */
interface Wanted {
  readonly start: number;
  readonly end: number;
  readonly resolve: (b: Uint8Array) => void;
  readonly reject: (e: unknown) => void;
  left: number;
  out: Uint8Array | undefined;
  done: boolean;
}

interface Piece extends Segment {
  readonly wanted: Wanted;
}

/** One protocol step of a plan: what the driver does for it, asynchronously or blocking. */
type Step =
  | { readonly kind: 'connect'; readonly host: string; readonly port: number }
  | {
      readonly kind: 'request';
      readonly conn: XrootdConnection;
      readonly requestId: number;
      readonly params: Buffer;
      readonly body?: Buffer;
      /** Where a data answer goes (connection.ts `request`). */
      readonly into?: Buffer;
    };
type Plan<T> = Generator<Step, T, XrootdConnection | Response>;

function* connectStep(host: string, port: number): Plan<XrootdConnection> {
  return (yield { kind: 'connect', host, port }) as XrootdConnection;
}

function* requestStep(
  conn: XrootdConnection,
  requestId: number,
  params: Buffer,
  body?: Buffer,
  into?: Buffer,
): Plan<Response> {
  return (yield { kind: 'request', conn, requestId, params, body, into }) as Response;
}

/**
 * Run the plan `make` makes on this thread's sockets; a connection kept from a closed file (idle.ts) is
 * used first. When a kept connection breaks — above all when it times out, its server gone without
 * closing it (a dropped network, a NAT that forgot the flow) — the others kept for that server are
 * likely dead too: they are dropped, and the plan runs once more from the start on a new connection.
 * That costs the caller a login timeout (the first request on a kept connection gets no longer), not
 * a request timeout per kept connection, nor a retry.
 */
async function drive<T>(make: () => Plan<T>, opts: Settings): Promise<T> {
  const kept = new Set<XrootdConnection>();
  try {
    return await runPlan(make(), opts, kept);
  } catch (e) {
    const lost = [...kept].find((c) => c.broken === e);
    if (!lost) throw e;
    dropParkedConnections(lost.endpoint);
    return runPlan(make(), opts, new Set());
  }
}

/** `drive`'s loop: the connections it took from the keep go into `kept`. */
async function runPlan<T>(plan: Plan<T>, opts: Settings, kept: Set<XrootdConnection>): Promise<T> {
  const untried = new Set<XrootdConnection>();
  let step = plan.next();
  while (!step.done) {
    const s = step.value;
    let got: XrootdConnection | Response;
    try {
      if (s.kind === 'connect') {
        const taken = await takeConnection(endpointOf(s.host, s.port));
        if (taken) kept.add(taken), untried.add(taken);
        got = taken ?? (await connectNew(s.host, s.port, opts));
      } else {
        // The first answer on a kept connection is waited for as long as a login: it tells whether the
        // connection still leads to the server, and if not, `drive` connects anew at no retry's cost.
        const probe = untried.delete(s.conn) ? opts.loginTimeoutMs : undefined;
        got = await s.conn.request(s.requestId, s.params, s.body, s.into, probe);
      }
    } catch (e) {
      step = plan.throw(e);
      continue;
    }
    step = plan.next(got);
  }
  return step.value;
}

function connectNew(host: string, port: number, opts: Settings): Promise<XrootdConnection> {
  xrootdCounters.connections++;
  return XrootdConnection.connect(host, port, limits(opts));
}

/** A new connection's time limits. */
function limits(opts: Settings): { timeoutMs: number; loginTimeoutMs: number } {
  return { timeoutMs: opts.timeoutMs, loginTimeoutMs: opts.loginTimeoutMs };
}

/** Run a plan blocking this thread, its connections over the relay thread. */
function driveSync<T>(plan: Plan<T>, opts: Settings): T {
  let step = plan.next();
  while (!step.done) {
    const s = step.value;
    let got: XrootdConnection | Response;
    try {
      got =
        s.kind === 'connect'
          ? XrootdConnection.connectSync(s.host, s.port, limits(opts), relayThread())
          : s.conn.requestSync(s.requestId, s.params, s.body, s.into);
    } catch (e) {
      step = plan.throw(e);
      continue;
    }
    step = plan.next(got);
  }
  return step.value;
}

/**
 * The round trips for `reads`: those that fit a kXR_readv element (≤ 2 MiB) grouped into vector reads
 * of at most 1024 elements and `maxBytes`; each longer one alone, as kXR_read of ≤ `maxBytes` pieces
 * (a one-piece round trip is a kXR_read), so that it arrives in one piece instead of 2 MiB elements.
 */
function batchesOf<R extends { readonly start: number; readonly end: number }>(
  reads: readonly R[],
  maxBytes: number,
): (Segment & { readonly read: R })[][] {
  const batches: (Segment & { readonly read: R })[][] = [];
  let batch: (Segment & { readonly read: R })[] = [];
  let bytes = 0;
  for (const r of reads) {
    const length = r.end - r.start;
    if (length > READV_MAX_ELEMENT_BYTES) {
      for (let off = r.start; off < r.end; off += maxBytes)
        batches.push([{ read: r, offset: off, length: Math.min(maxBytes, r.end - off) }]);
      continue;
    }
    if (batch.length === READV_MAX_ELEMENTS || (batch.length > 0 && bytes + length > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ read: r, offset: r.start, length });
    bytes += length;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

const MAX_REDIRECTS = 8;

export class XrootdSource {
  bytesRead = 0;
  /** Data round trips (kXR_read + kXR_readv requests) so far, retries included. */
  requests = 0;
  /** Connections re-established after a failure. */
  reconnects = 0;
  /** `readRanges` calls answered by the request a `prefetchRanges` had sent. */
  prefetchHits = 0;

  private readonly queue: PQueue;
  private wanted: Wanted[] = [];
  private flushScheduled = false;
  private session: Promise<Session>;
  /** `session` once it resolved and while its connection works: a request then goes out at once. */
  private ready: Session | undefined;
  /** Receive buffers of `readRanges`, reused once released. */
  private readonly pool = new BufferPool();
  /** The request `prefetchRanges` sent, until a `readRanges` of the same ranges takes it. */
  private ahead: { readonly key: string; readonly bytes: Promise<RangeBytes> } | undefined;
  /** The session `readSync` uses (over the relay thread), opened on its first call. */
  private syncSession: Session | undefined;
  private closed = false;
  // Batches numbered as flushed; when one gives up (the server stayed unreachable through all retries),
  // the batches queued behind it fail with the same error instead of each retrying from the start.
  private batchSeq = 0;
  private abandonUpTo = 0;
  private abandonError: unknown;

  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly url: XrootdUrl,
    private readonly opts: Settings,
    first: Session,
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.session = Promise.resolve(first);
    this.ready = first;
  }

  /**
   * Open `root://host[:port]//path`: connect, log in, kXR_stat and kXR_open (following redirects).
   * Throws SourceError naming the URL: the file is missing, a directory, not readable, or the server
   * cannot be reached after the retries.
   *
   * @example
   * ```ts
   * const src = await XrootdSource.open('root://127.0.0.1:1094//data/nano_dimuon.root');
   * const magic = await src.read(0, 4); // "root"
   * console.log(src.size, src.requests);
   * await src.close();
   * ```
   */
  static async open(url: string, o: XrootdOptions = {}): Promise<XrootdSource> {
    const u = parseXrootdUrl(url);
    const opts = settings(o);
    const s = await withRetry(url, opts, 'open', () => openSession(url, u, opts));
    // The first chunk of a run reads the columns its processor touches through `readvSync`, which needs
    // this thread's relay thread: started now, it boots while the file's metadata is read instead of
    // when the first column is touched (65–195 ms of a 1 M-event Q1 command at load 11). Unref'd: a
    // process that never reads synchronously does not wait for it.
    relayThread();
    return new XrootdSource(url, s.stat.size, u, opts, s);
  }

  /** Bytes [start, end); reads issued in the same turn of the event loop share vector reads. */
  read(start: number, end: number): Promise<Uint8Array> {
    try {
      this.check(start, end);
    } catch (e) {
      return Promise.reject(e);
    }
    if (end === start) return Promise.resolve(new Uint8Array(0));
    return new Promise<Uint8Array>((resolve, reject) => {
      this.wanted.push({ start, end, resolve, reject, left: 0, out: undefined, done: false });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate rather than a microtask: readers that await once before reading (a decoded
        // header, a cache lookup) still land in the same batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Bytes [start, end) without awaiting (one round trip; see `readvSync`).
   *
   * @example
   * ```ts
   * const src = await XrootdSource.open('root://127.0.0.1:1094//data/nano_dimuon.root');
   * const magic = src.readSync(0, 4); // "root", read while this thread waits
   * await src.close();
   * ```
   */
  readSync(start: number, end: number): Uint8Array {
    return this.readvSync([{ start, end }])[0];
  }

  /**
   * The bytes of every [start, end) range, in order, without awaiting: for a reader that must answer
   * now (a processor touched a column that was not prefetched). The ranges go out as kXR_readv round
   * trips like `read`'s, over a second session of the file that the first call opens through this
   * thread's relay thread; a broken connection is retried the same way and ends in the same
   * SourceError naming the URL.
   */
  readvSync(ranges: readonly { readonly start: number; readonly end: number }[]): Uint8Array[] {
    for (const r of ranges) this.check(r.start, r.end);
    const out: (Uint8Array | undefined)[] = ranges.map((r) => (r.end === r.start ? new Uint8Array(0) : undefined));
    const reads = ranges.flatMap((r, i) => (r.end > r.start ? [{ start: r.start, end: r.end, i }] : []));
    for (const batch of batchesOf(reads, this.opts.maxVectorBytes)) {
      const parts = withRetrySync(this.name, this.opts, 'read', () =>
        driveSync(this.fetchSteps(this.liveSync(), batch), this.opts),
      );
      batch.forEach((p, k) => {
        this.bytesRead += p.length;
        const r = p.read;
        if (p.offset === r.start && p.length === r.end - r.start) out[r.i] = parts[k];
        else (out[r.i] ??= new Uint8Array(r.end - r.start)).set(parts[k], p.offset - r.start);
      });
    }
    return out as Uint8Array[];
  }

  /**
   * The bytes of every range, in order: one round trip for all of them when they fit a kXR_readv (1024
   * ranges, `maxVectorBytes`), received into a buffer of this source that `release` hands back for the
   * next call (two are kept). If `prefetchRanges` sent the same ranges, its request is taken over: its
   * bytes may be here already. Failures are those of `read` (retries, then a SourceError naming the URL).
   */
  readRanges(ranges: readonly ByteRange[]): Promise<RangeBytes> {
    try {
      for (const r of ranges) this.check(r.start, r.end);
    } catch (e) {
      return Promise.reject(e);
    }
    const ahead = this.ahead;
    if (ahead && ahead.key === keyOf(ranges)) {
      this.ahead = undefined;
      this.prefetchHits++;
      xrootdCounters.prefetchHits++;
      return ahead.bytes;
    }
    return this.fetchRanges(ranges);
  }

  /**
   * Send `readRanges(ranges)` now, before it is asked for: the server answers while the caller decodes and
   * processes what it has, and the bytes wait in the socket. One request is kept ahead at most (memory: one
   * row group or basket cluster); a newer call or `close` drops the older one, whose buffer comes back to
   * the pool once its answer is in. A failure (after the retries) is kept for the `readRanges` that takes it.
   */
  prefetchRanges(ranges: readonly ByteRange[]): void {
    if (this.closed || ranges.some((r) => !(r.start >= 0 && r.end >= r.start && r.end <= this.size))) return;
    this.dropAhead();
    const bytes = this.fetchRanges(ranges);
    bytes.catch(() => {}); // surfaces in the readRanges that takes it over, if any
    this.ahead = { key: keyOf(ranges), bytes };
  }

  /** Forget the request sent ahead; its buffer returns to the pool when its answer is in. */
  private dropAhead(): void {
    const a = this.ahead;
    this.ahead = undefined;
    a?.bytes.then(
      (r) => r.release(),
      () => {},
    );
  }

  /** `readRanges` without the prefetched request: the round trips, into one buffer of the pool. */
  private async fetchRanges(ranges: readonly ByteRange[]): Promise<RangeBytes> {
    const reads = ranges.flatMap((r, i) => (r.end > r.start ? [{ start: r.start, end: r.end, i }] : []));
    const batches = batchesOf(reads, this.opts.maxVectorBytes);
    // Each round trip's answer lies in its own stretch of one buffer: a kXR_read answer is the data alone,
    // so the pieces of a long range, read one after the other, end up next to each other.
    let total = 0;
    const at = batches.map((b) => {
      const start = total;
      total += b.length === 1 ? b[0].length : b.reduce((n, p) => n + READV_ELEMENT_BYTES + p.length, 0);
      return start;
    });
    const buf = this.pool.take(total);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (!this.closed) this.pool.give(buf);
    };
    try {
      const parts = await Promise.all(
        batches.map((b, k) => this.send(b, buf.subarray(at[k], k + 1 < at.length ? at[k + 1] : total))),
      );
      const bytes: Uint8Array[] = ranges.map(() => new Uint8Array(0));
      const seen = new Set<number>();
      batches.forEach((b, k) =>
        b.forEach((p, j) => {
          const r = p.read;
          this.bytesRead += p.length;
          if (seen.has(r.i)) return;
          seen.add(r.i);
          // the first piece of a range: the range is whole (kXR_readv element) or its pieces follow it
          const part = parts[k][j];
          bytes[r.i] = new Uint8Array(part.buffer, part.byteOffset, r.end - r.start);
        }),
      );
      return { bytes, release };
    } catch (e) {
      // A round trip still in flight may yet write into the buffer: leave it to the garbage collector.
      released = true;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropAhead();
    this.pool.clear();
    this.syncSession?.conn.close();
    this.syncSession = undefined;
    this.queue.clear();
    let s: Session | undefined;
    try {
      s = await this.session;
    } catch {
      return;
    }
    if (s.conn.broken) return;
    // Close the handle politely, but never wait long for a server that is going away; a connection whose
    // handle was closed serves the next file opened on that server (idle.ts).
    const closed = await Promise.race([
      s.conn.request(kXR_close, closeParams(s.fh)).then(
        (r) => r.status === kXR_ok,
        () => false,
      ),
      new Promise<false>((r) => setTimeout(() => r(false), 2000).unref()),
    ]);
    if (closed) parkConnection(s.conn);
    else s.conn.close();
  }

  /** A range inside the file, of an open source; else the SourceError saying which. */
  private check(start: number, end: number): void {
    if (!(start >= 0 && end >= start && end <= this.size)) {
      throw new SourceError(
        `${this.name}: byte range [${start}, ${end}) is outside the file (size ${this.size}); it may be truncated`,
        { file: this.name, start, end, size: this.size },
        'check that the file was copied completely',
      );
    }
    if (this.closed) throw new SourceError(`${this.name} is closed`, { url: this.name }, 'open it again');
  }

  private flush(): void {
    this.flushScheduled = false;
    const reads = this.wanted.sort((a, b) => a.start - b.start);
    this.wanted = [];
    const batches: Piece[][] = batchesOf(reads, this.opts.maxVectorBytes).map((b) =>
      b.map((p) => {
        p.read.left++;
        return { wanted: p.read, offset: p.offset, length: p.length };
      }),
    );
    for (const b of batches) {
      this.send(b).then(
        (parts) => b.forEach((p, i) => this.deliver(p, parts[i])),
        (e) => b.forEach((p) => fail(p.wanted, e)),
      );
    }
  }

  /**
   * One round trip through the queue, retried on a new connection when the old one breaks. When it gives
   * up, the round trips queued behind it fail with the same error instead of each retrying from the start.
   */
  private async send(pieces: readonly Segment[], into?: Buffer): Promise<Uint8Array[]> {
    const seq = ++this.batchSeq;
    const parts = await this.queue.add(async () => {
      if (seq <= this.abandonUpTo) throw this.abandonError;
      try {
        return await withRetry(this.name, this.opts, 'read', () => this.fetch(pieces, into));
      } catch (e) {
        if ((e as Error).cause instanceof XrootdConnectionError && this.abandonUpTo < this.batchSeq) {
          this.abandonUpTo = this.batchSeq;
          this.abandonError = e;
        }
        throw e;
      }
    });
    return parts ?? Promise.reject(new SourceError(`${this.name} is closed`, { url: this.name }, 'open it again'));
  }

  private deliver(p: Piece, bytes: Uint8Array): void {
    const w = p.wanted;
    if (w.done) return;
    this.bytesRead += bytes.length;
    if (w.left === 1 && !w.out && p.offset === w.start && p.length === w.end - w.start) {
      w.done = true;
      w.resolve(bytes);
      return;
    }
    w.out ??= new Uint8Array(w.end - w.start);
    w.out.set(bytes, p.offset - w.start);
    if (--w.left === 0) {
      w.done = true;
      w.resolve(w.out);
    }
  }

  /**
   * One round trip: kXR_read for a single piece, kXR_readv for several. On a working connection the
   * request is written before this returns, so that a prefetch goes out even if the caller then keeps
   * the thread busy (a processor running over the current chunk).
   */
  private async fetch(pieces: readonly Segment[], into?: Buffer): Promise<Uint8Array[]> {
    const s = this.ready && !this.ready.conn.broken ? this.ready : await this.live();
    return drive(() => this.fetchSteps(s, pieces, into), this.opts);
  }

  /** The round trip of `fetch`, as a plan for either driver; the answer goes into `into` when given. */
  private *fetchSteps(s: Session, pieces: readonly Segment[], given?: Buffer): Plan<Uint8Array[]> {
    this.requests++;
    xrootdCounters.requests++;
    const single = pieces.length === 1;
    // The answer's size is known (the data, plus a 16-byte header per kXR_readv element): one buffer.
    const into =
      given ??
      Buffer.allocUnsafe(single ? pieces[0].length : pieces.reduce((n, p) => n + READV_ELEMENT_BYTES + p.length, 0));
    const r = single
      ? yield* requestStep(s.conn, kXR_read, readParams(s.fh, pieces[0].offset, pieces[0].length), undefined, into)
      : yield* requestStep(s.conn, kXR_readv, Buffer.alloc(16), readvBody(s.fh, pieces), into);
    if (r.status === kXR_redirect) {
      // A data server handing the file elsewhere mid-read: start over from the URL's host.
      s.conn.close();
      throw new XrootdConnectionError(`${s.conn.endpoint} redirected a read of ${this.name}`, { url: this.name });
    }
    if (r.status !== kXR_ok) throw serverError(this.name, s.conn, single ? 'kXR_read' : 'kXR_readv', r);
    let parts: Uint8Array[];
    if (single) {
      if (r.body.length !== pieces[0].length) {
        throw new SourceError(
          `${this.name}: asked for ${pieces[0].length} bytes at ${pieces[0].offset}, got ${r.body.length}; the file may have changed or been truncated on the server`,
          { url: this.name },
          'check the file on the server',
        );
      }
      parts = [new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.length)];
    } else {
      try {
        parts = splitReadv(r.body, pieces);
      } catch (e) {
        throw new SourceError(
          `${this.name}: ${(e as Error).message}`,
          { url: this.name },
          'check the file on the server',
          { cause: e },
        );
      }
    }
    xrootdCounters.bytes += r.body.length;
    return parts;
  }

  /** The current session, or a new one (connect, login, open) when its connection broke. */
  private async live(): Promise<Session> {
    const p = this.session;
    let s: Session | undefined;
    try {
      s = await p;
    } catch {
      // a failed reconnect: try anew below
    }
    if (s && !s.conn.broken) return s;
    if (this.closed) throw new SourceError(`${this.name} is closed`, { url: this.name }, 'open it again');
    if (this.session === p) {
      this.reconnects++;
      this.ready = undefined;
      this.session = drive(() => locate(this.name, this.url, true), this.opts).then((n) => {
        this.ready = this.sameFile(n as Session);
        return this.ready;
      });
      this.session.catch(() => {});
    }
    return this.session;
  }

  /** `live` for `readvSync`: its own session, opened (again) through the relay thread when needed. */
  private liveSync(): Session {
    const s = this.syncSession;
    if (s && !s.conn.broken) return s;
    if (this.closed) throw new SourceError(`${this.name} is closed`, { url: this.name }, 'open it again');
    if (s) this.reconnects++;
    this.syncSession = undefined;
    const n = this.sameFile(driveSync(locate(this.name, this.url, true), this.opts) as Session);
    if (this.closed) {
      n.conn.close();
      throw new SourceError(`${this.name} is closed`, { url: this.name }, 'open it again');
    }
    this.syncSession = n;
    return n;
  }

  /** A session opened again must see the file this source was opened on. */
  private sameFile(n: Session): Session {
    if (n.stat.size === this.size) return n;
    n.conn.close();
    throw new SourceError(
      `${this.name} changed on the server while being read (size ${this.size} → ${n.stat.size})`,
      { url: this.name },
      'run again on the new file',
    );
  }
}

/** The identity of a list of ranges, for taking over a prefetched request. */
function keyOf(ranges: readonly ByteRange[]): string {
  return ranges.map((r) => `${r.start}-${r.end}`).join(',');
}

function fail(w: Wanted, e: unknown): void {
  if (w.done) return;
  w.done = true;
  w.reject(e);
}

/** Stat a root:// URL without opening it (for file identities); throws SourceError. */
export async function statXrootd(url: string, o: XrootdOptions = {}): Promise<StatInfo> {
  const u = parseXrootdUrl(url);
  const opts = settings(o);
  return withRetry(url, opts, 'stat', async () => {
    const { conn, stat } = await drive(() => locate(url, u, false), opts);
    parkConnection(conn); // the file is usually opened next
    return stat;
  });
}

async function openSession(url: string, u: XrootdUrl, opts: Settings): Promise<Session> {
  return (await drive(() => locate(url, u, true), opts)) as Session;
}

/**
 * Connect to the URL's host, kXR_stat the path and (with `open`) kXR_open it, following kXR_redirect
 * to other hosts. A missing file, a directory or a refused read are SourceErrors (not retried).
 */
function* locate(
  url: string,
  u: XrootdUrl,
  open: boolean,
): Plan<{ conn: XrootdConnection; stat: StatInfo; fh?: Buffer }> {
  let host = u.host;
  let port = u.port;
  let opaque = u.opaque;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const conn = yield* connectStep(host, port);
    try {
      const path = Buffer.from(opaque ? `${u.path}?${opaque}` : u.path, 'utf8');
      let step = 'kXR_stat';
      let r = yield* requestStep(conn, kXR_stat, Buffer.alloc(16), path);
      if (r.status === kXR_ok) {
        const stat = statOf(url, conn, r.body);
        if (stat.flags & kXR_isDir)
          throw new SourceError(
            `${url}: this is a directory, not a file`,
            { url },
            'name a file inside it (`xrdfs HOST ls DIR` lists them)',
          );
        if (!open) return { conn, stat };
        step = 'kXR_open';
        r = yield* requestStep(conn, kXR_open, openParams(kXR_open_read | kXR_retstat), path);
        if (r.status === kXR_ok) {
          const fh = Buffer.from(r.body.subarray(0, 4));
          const fresh = r.body.length > 12 ? statOf(url, conn, r.body.subarray(12)) : stat;
          return { conn, stat: fresh, fh };
        }
      }
      if (r.status === kXR_redirect) {
        const to = parseRedirect(r.body);
        conn.close();
        if (to.port < 0)
          throw new SourceError(
            `${url}: redirected to ${to.host}, which is not an XRootD host`,
            { url, redirect: to.host },
            'open that URL directly',
          );
        host = to.host;
        port = to.port;
        if (to.opaque) opaque = [u.opaque, to.opaque].filter(Boolean).join('&');
        continue;
      }
      throw serverError(url, conn, step, r);
    } catch (e) {
      conn.close();
      throw e;
    }
  }
  throw new SourceError(
    `${url}: more than ${MAX_REDIRECTS} redirects`,
    { url },
    'the servers redirect in a loop; tell their admins',
  );
}

/** The stat text of an answer, or a SourceError naming the URL and the server that sent something else. */
function statOf(url: string, conn: XrootdConnection, body: Buffer): StatInfo {
  try {
    return parseStat(body.toString('latin1'));
  } catch (e) {
    throw new SourceError(
      `${url}: ${conn.endpoint} sent an ${(e as Error).message}`,
      { url, endpoint: conn.endpoint },
      'check that the server is an XRootD server (`xrdfs HOST:PORT stat /path`)',
      { cause: e },
    );
  }
}

function serverError(url: string, conn: XrootdConnection, step: string, r: Response): SourceError {
  if (r.status !== kXR_error) return conn.unexpected(step, r);
  const { errnum, message } = parseError(r.body);
  const name = errorName(errnum);
  const hint =
    errnum === kXR_NotFound
      ? 'check the path on the server (`xrdfs HOST:PORT ls DIR` lists a folder); root:// paths are absolute: root://host:port//abs/path'
      : errnum === kXR_NotAuthorized
        ? 'the server does not let this client read the file; ask its administrators'
        : 'check the server log';
  return new SourceError(
    `${url}: the server refused ${step}: ${message} [${name}]`,
    { url, endpoint: conn.endpoint, errnum, error: name },
    hint,
  );
}

/**
 * `fn` retried on a new connection while the connection breaks. Opening and stat-ing (ls, convert, a
 * run's preprocessing, where a user waits with nothing on the screen) say on stderr that they try again
 * after an attempt the user waited for (a refused connection fails in milliseconds and retries quietly),
 * and stop once a login timeout has passed since the first failure: a server that accepts but never
 * answers costs two login timeouts (2 × 15 s), not one request timeout per attempt (6 × 60 s), while a
 * restarting server, which refuses connections for a few seconds, is still waited for through the
 * backoff (its ~15 s). Reads keep every attempt.
 */
async function withRetry<T>(url: string, opts: Settings, what: string, fn: () => Promise<T>): Promise<T> {
  const opening = what !== 'read';
  let began = 0;
  const attempt = () => {
    began = performance.now();
    return fn();
  };
  const waited = () => performance.now() - began >= Math.min(SLOW_ATTEMPT_MS, opts.timeoutMs);
  return retry(attempt, {
    baseMs: opts.backoffMs,
    maxMs: opts.backoffMs * 32,
    maxAttempts: opts.retries + 1,
    ...(opening
      ? {
          maxElapsedMs: opts.loginTimeoutMs,
          onRetry: (e, failures, delayMs) => waited() && retrying(url, e, failures, delayMs, opts),
        }
      : {}),
    retryable: (e) => e instanceof XrootdConnectionError,
    giveUp: (e, { attempts }) => gaveUp(url, what, e, attempts),
  });
}

/** An attempt this long (or as long as the request timeout, if shorter) is one the user noticed waiting for. */
const SLOW_ATTEMPT_MS = 2000;

/** One line on stderr (a process warning) per retry of an open: what failed and when the next attempt is. */
function retrying(url: string, e: unknown, failures: number, delayMs: number, opts: Settings): void {
  process.emitWarning(
    `${url}: ${(e as Error).message}; trying again in ${(delayMs / 1000).toFixed(1)} s (attempt ${failures + 1} of at most ${opts.retries + 1})`,
    { code: 'RISTRETTO_XROOTD_RETRY' },
  );
}

/** `withRetry` blocking this thread: the same attempts, backoff with full jitter and final error. */
function withRetrySync<T>(url: string, opts: Settings, what: string, fn: () => T): T {
  const backoff = new Backoff({ baseMs: opts.backoffMs, maxMs: opts.backoffMs * 32 });
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof XrootdConnectionError)) throw e;
      if (attempt >= opts.retries + 1) throw gaveUp(url, what, e, attempt);
      Atomics.wait(SLEEP, 0, 0, backoff.next());
    }
  }
}

/** Slept on (never notified) between synchronous attempts. */
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * The server stayed unreachable: a SourceUnreachableError that says to check the server. Whoever can try
 * again later adds how (run-analysis' --retries, for a chunk read: src/runner/errors.ts); `ls`, `convert`
 * and opening in preprocessing have no such option.
 */
function gaveUp(url: string, what: string, e: unknown, attempts: number): SourceUnreachableError {
  return new SourceUnreachableError(
    `${url}: ${what} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${nameOnce(url, (e as Error).message)}`,
    { url, attempts },
    'check that the XRootD server is up and reachable (`xrdfs HOST:PORT stat /path`)',
    { cause: e },
  );
}
