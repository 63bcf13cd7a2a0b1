/**
 * Worker threads for fit scans. Each thread loads the bundled fit task module once (thread-worker.ts
 * and what it imports, npm packages external, content-addressed in the bundle cache like the threads
 * executor's runtime), receives the background-only workspace with its first patch, and then only
 * patches. One patch per thread at a time; the next goes to whichever thread is free first.
 *
 * A thread that dies (out of memory, a crash in native code) is replaced; its patch is tried once
 * more through the one retry helper (../util/retry.ts) and then reported as failed, naming the patch.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RistrettoError } from '../errors/index.ts';
import { retry } from '../util/retry.ts';
import { FitOptionsError, ScanError } from './errors.ts';
import { bundleDir, bundleESM, writeContentAddressed } from '../processor/bundle.ts';
import type { NamedPatch } from './patchset.ts';
import type { ScanOptions } from './scan.ts';
import type { ScanRecord } from './scan-results.ts';
import type { WorkspaceSpec } from './spec.ts';
import { FIT_TASK_VERSION, type FitTaskReply, type FitTestArgs } from './task.ts';

const ENTRY = fileURLToPath(new URL('./thread-worker.ts', import.meta.url));

const runtimes = new Map<string, Promise<URL>>();

/** URL of the bundled thread entry `entry` (default thread-worker.ts; built once per process). */
export function fitWorkerRuntime(entry: string = ENTRY): Promise<URL> {
  let runtime = runtimes.get(entry);
  if (!runtime) {
    runtime = (async () => {
      const code = await bundleESM(entry, 'runtime');
      const hash = createHash('sha256').update(code).digest('hex');
      return pathToFileURL(await writeContentAddressed(bundleDir, `fit-worker-${hash}.mjs`, code));
    })().catch((e: unknown) => {
      runtimes.delete(entry);
      throw e;
    });
    runtimes.set(entry, runtime);
  }
  return runtime;
}

/** Something that tests patches and reports each result as it finishes. */
export interface PatchRunner {
  run(
    bkg: WorkspaceSpec,
    wsHash: string,
    patches: readonly NamedPatch[],
    options: ScanOptions,
    emit: (r: ScanRecord) => void,
  ): Promise<void>;
}

/** Turns a worker's reply into a result for `patch` (errors name the patch and the place). */
export function recordFromReply(
  patch: NamedPatch,
  reply: FitTaskReply | undefined,
  where: string,
  seconds: number,
): ScanRecord {
  const fail = (error: string): ScanRecord => ({
    name: patch.name,
    values: patch.values,
    ok: false,
    error,
    seconds,
    where,
  });
  if (!reply || typeof reply !== 'object') return fail(`${where} returned no reply`);
  switch (reply.kind) {
    case 'result':
      return { ...reply.item, where };
    case 'version-mismatch':
      return fail(
        `${where} runs fit task revision ${reply.workerVersion}, this client ${FIT_TASK_VERSION}; update Ristretto on one side`,
      );
    case 'bad-request':
      return fail(`${where} refused the task: ${reply.message}`);
    default:
      return fail(`${where} gave an unexpected reply (${String((reply as { kind?: unknown }).kind)})`);
  }
}

/** The thread testing a patch was lost (it exited or threw outside the task): the patch may be tried again. */
class ThreadLostError extends RistrettoError {}

/**
 * One worker thread, spawned on first use and again after it is lost. It keeps the workspace it was
 * sent; a replacement gets it again with its first patch.
 */
class FitThread {
  private worker: Worker | undefined;
  /** Set by close: no thread is started again and a test waiting for its reply fails at once. */
  private closed = false;
  private staged = false;
  private nextId = 0;
  private pending: { id: number; resolve: (r: FitTaskReply) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly entry: URL,
    readonly index: number,
  ) {}

  /** Test one patch; rejects with ThreadLostError when the thread dies meanwhile. */
  async test(bkg: WorkspaceSpec, wsHash: string, patch: NamedPatch, options: ScanOptions): Promise<FitTaskReply> {
    for (;;) {
      if (this.closed) throw this.closedError('is closed');
      const worker = (this.worker ??= this.spawn());
      const args: FitTestArgs = { v: FIT_TASK_VERSION, op: 'test', wsHash, patch, options };
      // The workspace travels once per thread, with its first patch.
      if (!this.staged) args.workspace = bkg;
      this.staged = true;
      const id = this.nextId++;
      const reply = await new Promise<FitTaskReply>((resolve, reject) => {
        this.pending = { id, resolve, reject };
        worker.postMessage({ id, args });
      });
      // Cannot happen with the workspace sent first; resend it rather than fail the patch.
      if (reply?.kind === 'missing-workspace' && !args.workspace) {
        this.staged = false;
        continue;
      }
      return reply;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.closedError('was closed while testing a patch'));
    await w?.terminate();
  }

  /** A test asked of, or waiting on, a thread the scan has closed (it stopped, or was stopped). */
  private closedError(what: string): ScanError {
    return new ScanError(`fit thread ${this.index} ${what}`, { thread: this.index });
  }

  private spawn(): Worker {
    const w = new Worker(this.entry);
    w.on('message', (m: { id: number; reply: FitTaskReply }) => {
      const p = this.pending;
      if (w !== this.worker || !p || m.id !== p.id) return;
      this.pending = undefined;
      p.resolve(m.reply);
    });
    const lost = (why: string) => {
      // A replaced or closed thread's own exit says nothing about the current one.
      if (w !== this.worker) return;
      this.worker = undefined;
      this.staged = false;
      void w.terminate();
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new ThreadLostError(why));
    };
    w.on('error', (e) => lost(e.message));
    w.on('exit', (code) => lost(`exit code ${code}`));
    return w;
  }
}

/**
 * A patch whose thread was lost is tried once more on a fresh thread (the one retry helper, with no
 * wait: nothing outside the process is to recover), then reported failed, naming the patch.
 */
const THREAD_LOST_RETRY = {
  baseMs: 0,
  maxMs: 0,
  maxAttempts: 2,
  retryable: (e: unknown) => e instanceof ThreadLostError,
};

/** `--executor threads`: a pool of worker threads for the duration of one scan. */
export class ThreadPoolRunner implements PatchRunner {
  readonly workers: number;
  /** Source file of the thread entry (default thread-worker.ts); another one answers the same messages, e.g. an instrumented copy. */
  readonly entry: string;

  constructor(workers: number, opts: { entry?: string } = {}) {
    if (!Number.isInteger(workers) || workers < 1)
      throw new FitOptionsError(
        `workers must be a positive integer, got ${workers}`,
        { workers },
        'use 1 or more threads',
      );
    this.workers = workers;
    this.entry = opts.entry ?? ENTRY;
  }

  async run(
    bkg: WorkspaceSpec,
    wsHash: string,
    patches: readonly NamedPatch[],
    options: ScanOptions,
    emit: (r: ScanRecord) => void,
  ): Promise<void> {
    if (patches.length === 0) return;
    const entry = await fitWorkerRuntime(this.entry);
    const threads = Array.from({ length: Math.min(this.workers, patches.length) }, (_, i) => new FitThread(entry, i));
    let next = 0;
    // One lane per thread; each takes the next patch when its thread is free.
    const lane = async (t: FitThread) => {
      for (let p = patches[next++]; p !== undefined; p = patches[next++]) {
        const patch = p;
        const started = performance.now();
        const where = `thread ${t.index}`;
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const reply = await retry(() => t.test(bkg, wsHash, patch, options), THREAD_LOST_RETRY);
          emit(recordFromReply(patch, reply, where, seconds()));
        } catch (e) {
          if (!(e instanceof ThreadLostError)) throw e;
          emit({
            name: patch.name,
            values: patch.values,
            ok: false,
            error: `${where} was lost twice while testing ${patch.name} (${e.message})`,
            seconds: seconds(),
            where,
          });
        }
      }
    };
    try {
      await Promise.all(threads.map(lane));
    } finally {
      await Promise.all(threads.map((t) => t.close()));
    }
  }
}
