/**
 * A processor that calls `process.exit(n)` inside process() ends an in-process run with no word: the
 * runner never gets control back. While a chunk runs, an 'exit' listener names the chunk and the
 * processor in one line on stderr (nothing can stop the exit itself), and an exit code 0 becomes 1: the
 * run did not finish. Exits the commands make themselves (a second Ctrl-C) go through
 * {@link exitDeliberately}, so that they are not reported as the processor's.
 */
import { writeSync } from 'node:fs';
import { relative } from 'node:path';
import type { WorkItem } from '../dataset/chunking.ts';
import { describeItem } from './errors.ts';

let deliberate = false;

/**
 * `process.exit(code)` for the commands' own exits (quit at once on a second Ctrl-C, a closed stdout):
 * a chunk running at that moment is not blamed for it.
 */
export function exitDeliberately(code: number): never {
  deliberate = true;
  process.exit(code);
}

/** What to do instead of process.exit in a processor (the threads executor says it too). */
export const PROCESS_EXIT_ADVICE = 'process() must return its accumulator (throw an Error to fail a chunk)';

/**
 * Arms the report for chunks run on this thread by `processor` (its source file). Call `running(item)`
 * as each chunk starts and `disarm()` when the chunk or batch is over (also when it failed).
 *
 * @example
 * ```ts
 * const guard = guardProcessExit(job.processor.source);
 * try {
 *   return await processBatch(items, processor, state, { onItem: (k) => guard.running(items[k]) });
 * } finally {
 *   guard.disarm();
 * }
 * ```
 */
export function guardProcessExit(processorFile: string): { running(item: WorkItem): void; disarm(): void } {
  let current: WorkItem | undefined;
  const onExit = (code: number) => {
    if (deliberate || !current) return;
    const file = relative(process.cwd(), processorFile) || processorFile;
    writeSync(
      2,
      `ristretto: process() of ${file} called process.exit(${code}) on ${describeItem(current)}; the run stopped there — ${PROCESS_EXIT_ADVICE}\n`,
    );
    if (!code) process.exitCode = 1;
  };
  process.on('exit', onExit);
  return {
    running(item) {
      current = item;
    },
    disarm() {
      current = undefined;
      process.off('exit', onExit);
    },
  };
}
