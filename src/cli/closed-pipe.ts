import { exitDeliberately } from '../runner/exit-guard.ts';

/**
 * `ristretto fit scan --json | head`, `run-analysis … | head`: a reader that closes the pipe (also while
 * worker threads' printed lines are relayed) ends the command quietly instead of with an unhandled
 * EPIPE stack. Installed once by each command's entry point.
 *
 * @example
 * ```ts
 * exitQuietlyOnClosedPipe();
 * process.exitCode = await main();
 * ```
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exitDeliberately(0);
    throw e;
  });
}
