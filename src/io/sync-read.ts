/**
 * Synchronous reads for readers that only read asynchronously, so a processor can run exactly once per
 * chunk: when it touches a column that was not prefetched, the column is read on the spot and returned.
 *
 * Every thread that needs it gets one lazily started helper worker_thread. The helper opens its own
 * reader for the same file (`openReader` with the tree name, cached like the ReaderCache), does the
 * async read, posts the columns back over a MessagePort (typed-array buffers transferred) and bumps a
 * counter in a SharedArrayBuffer; the calling thread blocks in `Atomics.wait` on that counter and takes
 * the reply with `receiveMessageOnPort`. Errors come back as the same error classes (by name).
 *
 * Which readers use it: http(s) files of every format, RNTuple and Arrow files over root:// — a
 * network read cannot be awaited without stopping the thread's event loop, so it happens on another
 * thread — and local Arrow files and RNTuples. Local Parquet and local ROOT files implement
 * `EventReader.readSync` themselves (fs.readSync and the same synchronous decoding as their async read),
 * and so do ROOT TTrees and Parquet files over root://, whose byte source reads synchronously through a small relay thread
 * that only carries TCP bytes (src/io/xrootd/relay.ts): the helper's start-up and second open of the
 * file cost 0.5–2.5 s on the first chunk of every run and every pool worker (22.5 s for ROOT at load
 * ~30), far more than the chunk itself. The bridge only serves misses —
 * columns already known (prefetch, the set a worker remembers per processor) are still read up front,
 * asynchronously, on the caller's reader — so it is paid on the first chunk a worker sees, not in the
 * steady state. Readers that can read synchronously anyway (in-memory ones, custom readers) implement
 * `readSync` and never start the helper.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { RistrettoError } from '../errors/index.ts';
import {
  ArrowColumnNotFoundError,
  ArrowError,
  ArrowFormatError,
  ArrowRangeError,
  ArrowUnsupportedError,
} from './arrow/errors.ts';
import { extensionOf, registeredFormats, UnsupportedFormatError } from './open.ts';
import {
  ParquetColumnNotFoundError,
  ParquetError,
  ParquetFormatError,
  ParquetRangeError,
  ParquetUnsupportedError,
} from './parquet/errors.ts';
import { DelegatingReader } from './delegating-reader.ts';
import type { Column, EventReader } from './reader.ts';
import {
  BasketReadError,
  BranchNotFoundError,
  CorruptBasketError,
  EntryRangeError,
  RootError,
  RootFileError,
  TreeNotFoundError,
  UnsupportedBranchError,
} from './root/errors.ts';
import { SourceError } from './source.ts';

/** Messages to the helper. */
export type HelperRequest =
  | {
      type: 'read';
      id: number;
      file: string;
      tree: string;
      version: string;
      names: string[];
      entryStart: number;
      entryStop: number;
    }
  | { type: 'open'; file: string; tree: string; version: string }
  | { type: 'evict'; file: string; tree: string; version: string };

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  context?: Record<string, unknown>;
  hint?: string;
}

/** Replies from the helper; each is followed by a bump of the shared counter. */
export type HelperReply =
  | { type: 'result'; id: number; columns: Record<string, Column>; bytes: number }
  | { type: 'error'; id: number; error: WireError }
  /** The helper could not start (or died): every pending and later read fails with this. */
  | { type: 'fatal'; error: WireError };

/** The helper thread could not be started or died; reads through it fail with this. */
export class SyncReadHelperError extends RistrettoError {}

/** Close the helper after this long without a read (it holds open files). */
const IDLE_MS = 30_000;

/**
 * Give up on one read after this long (env RISTRETTO_SYNC_READ_TIMEOUT, seconds). While it waits, the
 * calling thread's event loop is stopped: a file served over HTTP *from that same thread* (an in-process
 * test server) can never arrive, and without a limit the thread would hang for good.
 */
function timeoutMs(): number {
  const s = Number(process.env.RISTRETTO_SYNC_READ_TIMEOUT);
  return (Number.isFinite(s) && s > 0 ? s : 300) * 1000;
}

let helperEntry: URL = new URL('./sync-read-helper.mjs', import.meta.url);

/**
 * Use another module as the helper's entry: one that calls `serve` from sync-read-helper.ts when its
 * `workerData.role` is SYNC_READ_HELPER_ROLE. The thread pool's workers use their own bundled runtime,
 * which starts much faster than the TypeScript sources through tsx (and inside a bundle
 * `import.meta.url` no longer points into src/io anyway).
 */
export function setSyncReadHelperEntry(url: string | URL): void {
  helperEntry = new URL(url);
}

/** `workerData.role` of a helper thread. */
export const SYNC_READ_HELPER_ROLE = 'ristretto-sync-read-helper';

interface Helper {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly flag: Int32Array;
  dead: WireError | undefined;
}

/** The per-thread client of the helper. */
class SyncReadBridge {
  private helper: Helper | undefined;
  private nextId = 0;
  private idle: NodeJS.Timeout | undefined;

  /** Read synchronously through the helper. */
  read(
    file: string,
    tree: string,
    version: string,
    names: readonly string[],
    entryStart: number,
    entryStop: number,
  ): { columns: Record<string, Column>; bytes: number } {
    const h = this.ensure();
    const id = ++this.nextId;
    let seen = Atomics.load(h.flag, 0);
    const req: HelperRequest = { type: 'read', id, file, tree, version, names: [...names], entryStart, entryStop };
    h.port.postMessage(req);
    const limit = timeoutMs();
    const deadline = performance.now() + limit;
    try {
      for (;;) {
        if (h.dead) throw revive(h.dead);
        const got = receiveMessageOnPort(h.port);
        if (got) {
          const m = got.message as HelperReply;
          if (m.type === 'fatal') {
            h.dead = m.error;
            continue;
          }
          if (m.id !== id) continue; // defensive: one read at a time, and a helper that timed out is dropped
          if (m.type === 'error') throw revive(m.error);
          return { columns: m.columns, bytes: m.bytes };
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          h.dead = toWireError(
            new SyncReadHelperError(
              `reading ${names.join(', ')} of ${file} (entries ${entryStart}-${entryStop}) on first access took more than ${limit / 1000} s`,
              { file, tree, branches: [...names] },
              'a file served from this same thread (an in-process HTTP server) cannot be read this way: serve it from another thread or ' +
                'process, or prefetch the columns; for a slow remote file raise RISTRETTO_SYNC_READ_TIMEOUT (seconds)',
            ),
          );
          continue;
        }
        Atomics.wait(h.flag, 0, seen, left);
        seen = Atomics.load(h.flag, 0);
      }
    } finally {
      if (h.dead) this.drop(h);
      this.armIdle();
    }
  }

  /** Start the helper (if needed) and let it open the file now, so a later miss does not wait for either. */
  warm(file?: string, tree = '', version = ''): void {
    try {
      const h = this.ensure();
      if (file !== undefined) h.port.postMessage({ type: 'open', file, tree, version } satisfies HelperRequest);
      this.armIdle();
    } catch {
      // A helper that cannot start reports it on the first real read.
    }
  }

  /** Let the helper close its reader of the file (after a read error on it). */
  evict(file: string, tree: string, version: string): void {
    this.helper?.port.postMessage({ type: 'evict', file, tree, version } satisfies HelperRequest);
  }

  /** Terminate the helper; a later read starts a new one. */
  async close(): Promise<void> {
    const h = this.helper;
    if (!h) return;
    this.drop(h);
    await h.worker.terminate().catch(() => undefined);
  }

  private ensure(): Helper {
    if (this.helper && !this.helper.dead) return this.helper;
    if (helperEntry.protocol === 'file:' && !existsSync(fileURLToPath(helperEntry))) {
      throw new SyncReadHelperError(
        `cannot read columns synchronously: the helper module ${fileURLToPath(helperEntry)} does not exist`,
        { entry: helperEntry.href },
        'code bundled from Ristretto must call setSyncReadHelperEntry() with the location of src/io/sync-read-helper.mjs',
      );
    }
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(helperEntry, {
      workerData: { role: SYNC_READ_HELPER_ROLE, port: port2, flag },
      transferList: [port2],
    });
    // Never keep the process (or a pool worker) alive for the helper's sake.
    worker.unref();
    port1.unref();
    const h: Helper = { worker, port: port1, flag, dead: undefined };
    worker.on(
      'error',
      (e) => (h.dead ??= { name: 'SyncReadHelperError', message: `the sync-read helper thread failed: ${e.message}` }),
    );
    worker.on('exit', () => {
      h.dead ??= { name: 'SyncReadHelperError', message: 'the sync-read helper thread exited' };
      if (this.helper === h) this.helper = undefined;
    });
    this.helper = h;
    return h;
  }

  private drop(h: Helper): void {
    if (this.helper === h) this.helper = undefined;
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    void h.worker.terminate().catch(() => undefined);
  }

  private armIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    if (!this.helper) return;
    this.idle = setTimeout(() => void this.close(), IDLE_MS);
    this.idle.unref();
  }
}

let bridge: SyncReadBridge | undefined;

/** This thread's helper client. */
function syncReadBridge(): SyncReadBridge {
  return (bridge ??= new SyncReadBridge());
}

/** Terminate this thread's helper (it restarts on the next miss). */
export function closeSyncReads(): Promise<void> {
  return bridge?.close() ?? Promise.resolve();
}

/**
 * A reader that can read synchronously: `reader` itself when it implements `readSync`, a wrapper reading
 * misses through the helper when the helper can open the same file (`openReader` knows its extension),
 * else `reader` unchanged (a miss then fails with a clear error). `version` keys the helper's reader
 * cache like the ReaderCache's (the file id).
 */
export function ensureSyncReads(reader: EventReader, version = ''): EventReader {
  if (reader.readSync) return reader;
  if (!registeredFormats().includes(extensionOf(reader.path))) return reader;
  return new HelperBackedReader(reader, version);
}

/** Start the helper for `reader`'s file ahead of a likely miss (no-op for readers that read synchronously themselves). */
export function warmSyncReads(reader: EventReader): void {
  if (reader instanceof HelperBackedReader) reader.warm();
}

/** Delegates everything to the caller's reader, except `readSync`, which goes through the helper. */
class HelperBackedReader extends DelegatingReader {
  private helperBytes = 0;
  constructor(
    inner: EventReader,
    private readonly version: string,
  ) {
    super(inner);
  }
  /** The caller's reader's bytes plus the helper's reads for it (its first read also pays for opening the file). */
  override get bytesRead(): number {
    return this.inner.bytesRead + this.helperBytes;
  }
  readSync(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column> {
    const { columns, bytes } = syncReadBridge().read(
      this.path,
      this.treeName,
      this.version,
      names,
      entryStart,
      entryStop,
    );
    this.helperBytes += bytes;
    return columns;
  }
  warm(): void {
    syncReadBridge().warm(this.path, this.treeName, this.version);
  }
  /** Closing (e.g. the ReaderCache evicting a reader after a read error) also drops the helper's reader of the file. */
  override close(): Promise<void> {
    bridge?.evict(this.path, this.treeName, this.version);
    return this.inner.close();
  }
}

/** Error classes a reader may throw, by name, so a helper's error arrives as the same class. */
const CLASSES: Record<string, abstract new (...args: never[]) => Error> = Object.fromEntries(
  [
    RistrettoError,
    SourceError,
    UnsupportedFormatError,
    SyncReadHelperError,
    RootError,
    RootFileError,
    TreeNotFoundError,
    BranchNotFoundError,
    UnsupportedBranchError,
    CorruptBasketError,
    BasketReadError,
    EntryRangeError,
    ParquetError,
    ParquetFormatError,
    ParquetColumnNotFoundError,
    ParquetUnsupportedError,
    ParquetRangeError,
    ArrowError,
    ArrowFormatError,
    ArrowColumnNotFoundError,
    ArrowUnsupportedError,
    ArrowRangeError,
    Error,
    TypeError,
    RangeError,
  ].map((c) => [c.name, c]),
);

/** An error for the wire: name, message (hint included, as RistrettoError builds it), stack, context, hint. */
export function toWireError(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const w: WireError = { name: e.name, message: e.message, stack: e.stack };
  if (e instanceof RistrettoError) {
    w.hint = e.hint;
    try {
      w.context = structuredClone(e.context) as Record<string, unknown>;
    } catch {
      // context with something uncloneable: leave it out
    }
  }
  return w;
}

/** The error `w` describes, as an instance of the same class when it is a known one (constructors are bypassed: the message is final). */
export function revive(w: WireError): Error {
  const cls = CLASSES[w.name] ?? (w.context !== undefined || w.hint !== undefined ? RistrettoError : Error);
  const e = Object.create(cls.prototype) as Error & { context?: unknown; hint?: unknown };
  Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(e, 'name', { value: w.name, writable: true, configurable: true });
  const here = new Error().stack?.split('\n').slice(1).join('\n') ?? '';
  Object.defineProperty(e, 'stack', {
    value: `${w.stack ?? `${w.name}: ${w.message}`}\n    --- read in the sync-read helper thread, for:\n${here}`,
    writable: true,
    configurable: true,
  });
  if (cls.prototype instanceof RistrettoError || cls === RistrettoError) {
    Object.defineProperty(e, 'context', { value: w.context ?? {}, enumerable: true });
    Object.defineProperty(e, 'hint', { value: w.hint, enumerable: true });
  }
  return e;
}
