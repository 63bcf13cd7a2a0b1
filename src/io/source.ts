/**
 * Byte sources: the bottom layer of every reader. A source knows only how to fetch byte ranges from a
 * local file, an http(s) URL (range requests, bounded concurrency, retry with backoff) or a root://
 * URL (XRootD, src/io/xrootd) and counts what it fetched. No format knowledge lives here.
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import PQueue from 'p-queue';
import { retry } from '../util/retry.ts';
import { nameOnce } from '../errors/index.ts';
import { SourceError, SourceUnreachableError } from './source-error.ts';
import { isXrootdUrl, XrootdSource } from './xrootd/index.ts';

export { SourceError, SourceUnreachableError };

export interface ByteSource {
  /** The path or URL, for messages. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Bytes fetched so far. */
  readonly bytesRead: number;
  /** Round trips for data so far, where the source counts them (XRootD). */
  readonly requests?: number;
  /** Bytes [start, end). Throws SourceError naming the source when the range is outside the file. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** The same read without awaiting, where the source can (local files, root:// URLs); http(s) leaves it out. */
  readSync?(start: number, end: number): Uint8Array;
  /**
   * Several ranges without awaiting, in one round trip where the source can (root://: one kXR_readv);
   * results in the order of `ranges`.
   */
  readvSync?(ranges: readonly { readonly start: number; readonly end: number }[]): Uint8Array[];
  /**
   * Optional (root://): the bytes of every range, in order, in as few round trips as the source can, received
   * into a buffer the source reuses once `release` is called. A request announced with `prefetchRanges` for
   * the same ranges (same order) is taken over instead of sent again.
   */
  readRanges?(ranges: readonly ByteRange[]): Promise<RangeBytes>;
  /**
   * Optional (root://): send `readRanges(ranges)` now, for a reader that will ask for these bytes next (the
   * next row group while it decodes this one). At most one is kept: a newer one, or closing, drops it.
   * Errors are not thrown here: they come out of the `readRanges` that takes the request over.
   */
  prefetchRanges?(ranges: readonly ByteRange[]): void;
  close(): Promise<void>;
}

/** Bytes [start, end) of a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** What `ByteSource.readRanges` returns. */
export interface RangeBytes {
  /** The bytes of each range asked for, in the order asked. */
  readonly bytes: readonly Uint8Array[];
  /**
   * The caller has decoded `bytes` and keeps no view of them: the source may receive later reads into
   * the same memory. Not calling it is safe (the memory is then left to the garbage collector).
   */
  release(): void;
}

/** True for remote files: http(s):// and root:// (XRootD) URLs. */
export function isUrl(pathOrUrl: string): boolean {
  return /^https?:\/\//i.test(pathOrUrl) || isXrootdUrl(pathOrUrl);
}

/** Open a local path, an http(s) URL or a root:// URL (concurrency, retries and backoff apply to both). */
export async function openSource(pathOrUrl: string, opts: HttpOptions = {}): Promise<ByteSource> {
  if (isXrootdUrl(pathOrUrl)) return XrootdSource.open(pathOrUrl, opts);
  return isUrl(pathOrUrl) ? HttpSource.open(pathOrUrl, opts) : FileSource.open(pathOrUrl);
}

export class FileSource implements ByteSource {
  bytesRead = 0;
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SourceError(
        code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot open: ${(e as Error).message}`,
        { file: path, code },
        // ls, convert and draw open the path given; a dataset JSON's files get their hint from
        // src/dataset/identity.ts, which looks at each before it is opened.
        code === 'ENOENT' ? 'check the path' : undefined,
        { cause: e },
      );
    }
    const st = await fh.stat();
    return new FileSource(path, st.size, fh);
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    checkRange(this, start, end);
    const out = new Uint8Array(end - start);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await this.fh.read(out, done, out.length - done, start + done);
      if (bytesRead === 0)
        throw new SourceError(`${this.name}: unexpected end of file at byte ${start + done}`, { file: this.name });
      done += bytesRead;
    }
    this.bytesRead += out.length;
    return out;
  }

  /** `read` with fs.readSync on the same descriptor (positioned reads: no shared file offset to race on). */
  readSync(start: number, end: number): Uint8Array {
    checkRange(this, start, end);
    const out = new Uint8Array(end - start);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fh.fd, out, done, out.length - done, start + done);
      if (n === 0)
        throw new SourceError(`${this.name}: unexpected end of file at byte ${start + done}`, { file: this.name });
      done += n;
    }
    this.bytesRead += out.length;
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export interface HttpOptions {
  /** Concurrent requests per source (default 4). */
  concurrency?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Bound of the first backoff wait in ms, doubled each retry up to 32× (full jitter; default 100). */
  backoffMs?: number;
  /** Extra request headers (e.g. authorization for a private store); never logged. */
  headers?: Record<string, string>;
}

/**
 * A server that ignores Range requests sends the whole file for every read; files up to this size are
 * kept after the first such answer, so a run downloads them once instead of once per basket or page.
 */
const KEEP_WHOLE_BYTES = 256 * 1024 * 1024;

export class HttpSource implements ByteSource {
  bytesRead = 0;
  /** The whole file, once a server that ignores ranges has sent it (see KEEP_WHOLE_BYTES). */
  private whole: Uint8Array | undefined;
  private warned = false;
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly queue: PQueue,
    private readonly opts: Required<Omit<HttpOptions, 'headers'>> & { headers: Record<string, string> },
  ) {}

  static async open(url: string, o: HttpOptions = {}): Promise<HttpSource> {
    const opts = {
      concurrency: o.concurrency ?? 4,
      retries: o.retries ?? 3,
      backoffMs: o.backoffMs ?? 100,
      headers: o.headers ?? {},
    };
    const queue = new PQueue({ concurrency: opts.concurrency });
    const res = await withRetry(url, opts, async () => {
      const r = await fetch(url, { method: 'HEAD', headers: opts.headers });
      if (!r.ok) throw httpStatusError(url, r.status);
      return r;
    });
    const len = Number(res.headers.get('content-length'));
    if (!Number.isFinite(len))
      throw new SourceError(
        `${url}: the server gave no content-length`,
        { url },
        'serve the file from a server that supports HEAD and range requests',
      );
    return new HttpSource(url, len, queue, opts);
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    checkRange(this, start, end);
    if (end === start) return new Uint8Array(0);
    // A copy: readers may decode into what they are given.
    if (this.whole) return this.whole.slice(start, end);
    const buf = await this.queue.add(() =>
      withRetry(this.name, this.opts, async () => {
        const r = await fetch(this.name, { headers: { ...this.opts.headers, range: `bytes=${start}-${end - 1}` } });
        if (r.status !== 206 && r.status !== 200) throw httpStatusError(this.name, r.status);
        let b = new Uint8Array(await r.arrayBuffer());
        if (r.status === 200) {
          // Kept whole, the file is copied from like any later read: a view would let a reader's
          // in-place decoding change the kept bytes.
          b = this.ignoredRange(b) ? b.slice(start, end) : b.subarray(start, end);
        }
        if (b.length !== end - start)
          throw new SourceError(`${this.name}: short response: ${b.length} of ${end - start} bytes`, {
            url: this.name,
            start,
            end,
          });
        return b;
      }),
    );
    this.bytesRead += buf.length;
    return buf;
  }

  /**
   * The server sent the whole file for a range request: say so once, and keep it if it is small enough.
   * Returns whether it is kept.
   */
  private ignoredRange(all: Uint8Array): boolean {
    const keep = all.length === this.size && all.length <= KEEP_WHOLE_BYTES;
    if (keep) this.whole = all;
    if (this.warned) return keep;
    this.warned = true;
    const mb = (all.length / 1e6).toFixed(1);
    process.emitWarning(
      `${this.name}: the server ignores Range requests and sent the whole file (${mb} MB) for one read; ${
        keep ? 'it is kept in memory for the later reads of this file' : 'every read downloads it again'
      } — serve the file from a server with range support, or copy it locally`,
      { code: 'RISTRETTO_HTTP_NO_RANGE' },
    );
    return keep;
  }

  async close(): Promise<void> {
    this.queue.clear();
    this.whole = undefined;
  }
}

class PermanentHttpError extends SourceError {}

function httpStatusError(url: string, status: number): Error {
  // 4xx other than 408/429 will not get better by retrying.
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  const msg = `${url}: HTTP ${status}`;
  return permanent ? new PermanentHttpError(msg, { url, status }) : new SourceError(msg, { url, status });
}

/** A request with full-jitter backoff (src/util/retry.ts); 4xx other than 408/429 fail at once. */
function withRetry<T>(url: string, opts: { retries: number; backoffMs: number }, fn: () => Promise<T>): Promise<T> {
  return retry(fn, {
    baseMs: opts.backoffMs,
    maxMs: opts.backoffMs * 32,
    maxAttempts: opts.retries + 1,
    retryable: (e) => !(e instanceof PermanentHttpError),
    giveUp: (lastErr, { attempts }) => {
      const cause =
        lastErr instanceof Error
          ? lastErr.cause instanceof Error
            ? `${lastErr.message} (${lastErr.cause.message})`
            : lastErr.message
          : String(lastErr);
      return new SourceUnreachableError(
        `${url}: read failed after ${attempts} attempts: ${nameOnce(url, cause)}`,
        { url, attempts },
        'check that the server is up and reachable',
        { cause: lastErr },
      );
    },
  });
}

function checkRange(src: ByteSource, start: number, end: number): void {
  if (start < 0 || end < start || end > src.size) {
    throw new SourceError(
      `${src.name}: byte range [${start}, ${end}) is outside the file (size ${src.size}); it may be truncated`,
      { file: src.name, start, end, size: src.size },
      'check that the file was copied completely',
    );
  }
}
