/** Executor registry for the CLI and runner: build an executor by name. */
import { RistrettoError } from '../src/errors/index.ts';
import type { Processor } from '../src/processor/types.ts';
import type { Executor, ExecutorOptions } from './base.ts';
import { IterativeExecutor } from './iterative.ts';
import { ThreadsExecutor } from './threads/index.ts';

export { BaseExecutor, type Executor, type ExecutorOptions, type ExecutorStats, type JobSpec } from './base.ts';
export { IterativeExecutor } from './iterative.ts';
export { ThreadsExecutor } from './threads/index.ts';

export const EXECUTOR_NAMES = ['iterative', 'threads'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

export interface CreateExecutorOptions extends ExecutorOptions {
  /** Worker threads for `threads`. */
  workers?: number;
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
      throw new RistrettoError(`unknown executor "${name}"`, { executor: name }, `choose one of: ${EXECUTOR_NAMES.join(', ')}`);
  }
}
