/** Executor registry for the composition root (src/cli) and benchmarks: build an executor by name. */
import { RistrettoError } from '../src/errors/index.ts';
import type { Processor } from '../src/processor/types.ts';
import type { Executor, ExecutorFactory, ExecutorOptions } from './base.ts';
import { IterativeExecutor } from './iterative.ts';
import { ThreadsExecutor } from './threads/index.ts';

export {
  BaseExecutor,
  type Executor,
  type ExecutorContext,
  type ExecutorFactory,
  type ExecutorOptions,
  type ExecutorStats,
  type JobSpec,
} from './base.ts';
export { IterativeExecutor } from './iterative.ts';
export { ThreadsExecutor } from './threads/index.ts';

export const EXECUTOR_NAMES = ['iterative', 'threads'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

export interface CreateExecutorOptions extends ExecutorOptions {
  /** Runners for `threads`: worker threads, and the calling thread with `callerRuns`. */
  workers?: number;
  /** `threads`: run chunks on the calling thread too (see `ThreadsOptions.callerRuns`). */
  callerRuns?: boolean;
  /** In-process processor for `iterative` (avoids loading the bundle a second time on the main thread). */
  processor?: Processor<unknown>;
}

/** Build an executor by name; an unknown name lists the known ones. */
export function createExecutor(name: string, opts: CreateExecutorOptions = {}): Executor {
  switch (name) {
    case 'iterative':
      return new IterativeExecutor(opts);
    case 'threads':
      return new ThreadsExecutor(opts);
    default:
      throw new RistrettoError(
        `unknown executor "${name}"`,
        { executor: name },
        `choose one of: ${EXECUTOR_NAMES.join(', ')}`,
      );
  }
}

/**
 * The factory `runAnalysis` takes for an executor name: the runner builds (and closes) it once the processor
 * is loaded. An unknown name throws here, before any work starts.
 *
 * @example
 * ```ts
 * await runAnalysis({ fileset: 'datasets.json', processor: 'zmumu.ts', executor: executorFactory('threads'), workers: 4 });
 * ```
 */
export function executorFactory(
  name: string,
  options: Pick<CreateExecutorOptions, 'callerRuns'> = {},
): ExecutorFactory {
  if (!(EXECUTOR_NAMES as readonly string[]).includes(name)) createExecutor(name); // throws the listing error
  return (ctx) => createExecutor(name, { ...ctx, ...options });
}
