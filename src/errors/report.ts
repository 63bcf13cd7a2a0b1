/**
 * How every command (`ristretto …` and `run-analysis`) reports a failure, so they all do it one way.
 * Exit codes:
 *
 * - **1** — an error of Ristretto's own family (a {@link RistrettoError} subclass): bad input (a missing
 *   file, a bad option value, a damaged file, a branch that is not there), or the user's own code
 *   throwing (`UserCodeError`: a processor's `process`, `accumulator` or `postprocess`). One line
 *   that names the file/endpoint/chunk and says what to do; a command may add lines under it (run-analysis:
 *   the frames of the user's code, `  at processors/zmumu.ts:42:11 (in your code)`). The stack with --debug.
 * - **{@link INTERNAL_ERROR_EXIT_CODE} (70)** — anything else (a TypeError in Ristretto's code, a raw
 *   `ENOENT` from `fs`, an {@link InternalError}) is a bug in Ristretto: printed as "internal error" with
 *   its stack frames and a request to report it.
 * - 130 (Ctrl-C, a run interrupted after its checkpoint) and commander's own codes for usage errors are
 *   set by the commands themselves, not here.
 */
import { InternalError, RistrettoError } from './index.ts';

/** Exit code of a command that failed on a bug rather than on its input (sysexits' EX_SOFTWARE). */
export const INTERNAL_ERROR_EXIT_CODE = 70;

export interface ReportOptions {
  /** Print the stack of a user error too (`--debug`, RISTRETTO_DEBUG=1). */
  debug?: boolean;
  /** Where the text goes (default stderr). */
  write?: (text: string) => void;
  /**
   * The stack text of an error (default its `stack`): a command can add the causes' stacks and map
   * frames back to sources. Its lines before the first `    at` frame are the message, left out where
   * the message is printed already.
   */
  stack?: (e: Error) => string;
  /**
   * Lines (each ending in a newline) printed under the message of a family error without --debug, e.g.
   * where in the user's code a `UserCodeError` was thrown; '' for none.
   */
  detail?: (e: RistrettoError) => string;
}

/**
 * Prints `e` for the user of command `prog` and returns the exit code to use (1 or
 * {@link INTERNAL_ERROR_EXIT_CODE}).
 *
 * @example
 * ```ts
 * import { reportCommandError } from '../errors/report.ts';
 * try {
 *   await program.parseAsync(process.argv);
 * } catch (e) {
 *   process.exitCode = reportCommandError('ristretto', e);
 * }
 * ```
 */
export function reportCommandError(prog: string, e: unknown, opts: ReportOptions = {}): number {
  const write = opts.write ?? ((t: string) => void process.stderr.write(t));
  const stackOf = (x: Error) => (opts.stack ? opts.stack(x) : (x.stack ?? ''));
  if (e instanceof RistrettoError && !(e instanceof InternalError)) {
    write(opts.debug ? `${prog}: ${stackOf(e) || e.message}\n` : `${prog}: ${e.message}\n${opts.detail?.(e) ?? ''}`);
    return 1;
  }
  // The frames (and the causes after them) only: the lines before the first frame repeat the message.
  const lines = e instanceof Error ? stackOf(e).split('\n') : [];
  const first = lines.findIndex((l) => /^\s+at /.test(l));
  const stack = first < 0 ? '' : lines.slice(first).join('\n').trimEnd();
  // An InternalError's message already asks for a report; anything else gets the same request here.
  const ask =
    e instanceof InternalError
      ? ''
      : 'this is a bug in Ristretto, not a problem with your input; please report it with the command you ran and this output\n';
  const what =
    e instanceof InternalError
      ? e.message
      : `internal error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  write(`${prog}: ${what}\n${stack ? `${stack}\n` : ''}${ask}`);
  return INTERNAL_ERROR_EXIT_CODE;
}
