/**
 * The in-process executor (src/runner/in-process.ts) with the sync-read helper started from the thread
 * pool's bundled runtime, which loads several times faster than the TypeScript sources through tsx (if the
 * build fails, a helper starts from the sources on a miss).
 */
import { InProcessExecutor, type InProcessOptions } from '../src/runner/in-process.ts';
import { workerRuntime } from './threads/runtime.ts';

export type IterativeOptions = Omit<InProcessOptions, 'helperEntry'>;

export class IterativeExecutor extends InProcessExecutor {
  constructor(opts: IterativeOptions = {}) {
    super({ ...opts, helperEntry: workerRuntime });
  }
}
