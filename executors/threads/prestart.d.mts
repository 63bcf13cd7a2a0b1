/** Types of prestart.mjs (plain JavaScript, so that bin/run-analysis.mjs can use it before the CLI loads). */
import type { Worker } from 'node:worker_threads';

/** The worker count a `run-analysis` command line asks for with `--executor threads`, else undefined. */
export declare function poolSizeFromArgv(argv: readonly string[]): number | undefined;
/** Worker threads of a pool of `workers` runners: one fewer when the calling thread runs items too. */
export declare function workerThreads(workers: number, callerRuns?: boolean): number;
/** Start the worker threads a `run-analysis` command line will use, if the worker runtime is built; how many. */
export declare function prestartFromArgv(argv: readonly string[]): number;
/** Start `n` pool workers from the cached worker runtime now; how many (0 when it is not built). */
export declare function prestart(n: number): number;
/** The runtime URL the prestarted workers run, if any were started. */
export declare function prestartedRuntime(): URL | undefined;
/** One prestarted, live worker running `href`, its listeners removed and referenced again; else undefined. */
export declare function takePrestarted(href: string): Worker | undefined;
