/**
 * Start the thread pool's workers before the command has loaded. `bin/run-analysis.mjs` calls
 * `prestartFromArgv` first thing: with `--executor threads` on the command line and the worker runtime
 * already built, the workers start booting Node and loading the runtime (~0.1–0.3 CPU-s each) while the
 * main thread is still loading the CLI (~0.3–0.5 s), instead of after it. The `ThreadsExecutor` the command
 * builds then adopts them (`takePrestarted`) instead of starting its own.
 *
 * Plain JavaScript on purpose: it runs before anything is compiled or bundled. It never builds (a cache
 * miss starts nothing; the executor builds and starts workers as before), and workers nobody adopts are
 * unreferenced, so they never keep the process alive (a `--help`, a failed start).
 *
 * @example
 * ```js
 * import { prestartFromArgv } from '../executors/threads/prestart.mjs';
 * prestartFromArgv(process.argv.slice(2)); // before loading the CLI
 * ```
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bundleDir, lookupBuild } from '../../src/processor/build-cache.mjs';

const KEY = Symbol.for('ristretto.threads.prestarted');
const ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/**
 * The worker count a `run-analysis` command line asks for with `--executor threads` (`-e threads`,
 * `--executor=threads`; `--workers N`, `-w N`, `--workers=N`, default: the available cores), or undefined
 * when it runs no thread pool, asks for help or the version, or gives an unreadable worker count (the
 * CLI reports that).
 * @param {readonly string[]} argv
 * @returns {number | undefined}
 */
export function poolSizeFromArgv(argv) {
  let executor;
  let workers;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === '-h' || a === '--help' || a === '-V' || a === '--version') return undefined;
    const value = (long, short) => {
      if (a === long || a === short) return argv[++i];
      if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
      if (a.startsWith(short) && a.length > short.length && !a.startsWith('--')) return a.slice(short.length);
      return undefined;
    };
    const e = value('--executor', '-e');
    if (e !== undefined) {
      executor = e;
      continue;
    }
    const w = value('--workers', '-w');
    if (w !== undefined) workers = w;
  }
  if (executor !== 'threads') return undefined;
  if (workers === undefined) return availableParallelism();
  const n = Number(workers);
  return /^\d+$/.test(workers) && n >= 1 && n <= 256 ? n : undefined;
}

/**
 * Worker threads a pool of `workers` runners starts: one fewer when the calling thread runs items too
 * (`ThreadsOptions.callerRuns`, `run-analysis --caller-runs`; off by default).
 * @param {number} workers
 * @param {boolean} [callerRuns]
 * @returns {number}
 */
export function workerThreads(workers, callerRuns = false) {
  return callerRuns && workers >= 2 ? workers - 1 : workers;
}

/**
 * Start the worker threads a `run-analysis` command line will use (see `poolSizeFromArgv` and
 * `workerThreads`), if the worker runtime is built. Returns how many were started.
 * @param {readonly string[]} argv
 * @returns {number}
 */
export function prestartFromArgv(argv) {
  if (process.env.RISTRETTO_TSX && process.env.RISTRETTO_TSX !== '0') return 0;
  const n = poolSizeFromArgv(argv);
  const end = argv.indexOf('--');
  const callerRuns = (end < 0 ? argv : argv.slice(0, end)).includes('--caller-runs');
  return n === undefined ? 0 : prestart(workerThreads(n, callerRuns));
}

/**
 * Start `n` pool workers from the cached worker runtime now (none when it is not built yet).
 * @param {number} n
 * @returns {number} workers started
 */
export function prestart(n) {
  let built;
  try {
    built = lookupBuild(ENTRY, 'runtime');
  } catch {
    return 0;
  }
  if (!built) return 0;
  const href = pathToFileURL(built.file).href;
  /** @type {{ href: string; workers: { worker: Worker; failed?: string }[] }} */
  const pool = { href, workers: [] };
  for (let i = 0; i < n; i++) {
    // The same workerData the executor gives its own workers (ThreadsExecutor.spawn, maxReaders unset).
    const worker = new Worker(new URL(href), { workerData: { maxReaders: undefined, bundleDir, runtime: href } });
    const rec = { worker, failed: undefined };
    // Until adopted: failures are noted (an 'error' without a listener would throw here), and the
    // worker does not keep the process alive.
    worker.on('error', (e) => (rec.failed ??= `${e?.name}: ${e?.message}`));
    worker.on('exit', (code) => (rec.failed ??= `exited with code ${code}`));
    worker.unref();
    pool.workers.push(rec);
  }
  /** @type {Record<symbol, unknown>} */ (globalThis)[KEY] = pool;
  return n;
}

/**
 * The runtime URL the prestarted workers run, if any were started (so the executor need not look it up).
 * @returns {URL | undefined}
 */
export function prestartedRuntime() {
  const pool = /** @type {{ href: string } | undefined} */ (/** @type {Record<symbol, unknown>} */ (globalThis)[KEY]);
  return pool ? new URL(pool.href) : undefined;
}

/**
 * Hand over one prestarted worker running `href`, alive and with its listeners removed (the caller adds
 * its own and references it), or undefined when none is left.
 * @param {string} href
 * @returns {Worker | undefined}
 */
export function takePrestarted(href) {
  const pool = /** @type {{ href: string; workers: { worker: Worker; failed?: string }[] } | undefined} */ (
    /** @type {Record<symbol, unknown>} */ (globalThis)[KEY]
  );
  if (!pool || pool.href !== href) return undefined;
  while (pool.workers.length > 0) {
    const rec = /** @type {{ worker: Worker; failed?: string }} */ (pool.workers.shift());
    if (rec.failed !== undefined) {
      void rec.worker.terminate().catch(() => undefined);
      continue;
    }
    rec.worker.removeAllListeners('error');
    rec.worker.removeAllListeners('exit');
    rec.worker.ref();
    return rec.worker;
  }
  return undefined;
}
