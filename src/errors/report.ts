/**
 * How every `ristretto` command reports a failure, so they all do it one way: an error of Ristretto's own
 * family (a {@link RistrettoError} subclass, which names the file/endpoint and says what to do) is one line
 * and exit code 1; anything else (a TypeError, a raw `ENOENT` from `fs`, an {@link InternalError}) is a bug
 * in Ristretto, printed as "internal error" with its stack and a request to report it, exit code
 * {@link INTERNAL_ERROR_EXIT_CODE}.
 */
import { InternalError, RistrettoError } from './index.ts';

/** Exit code of a command that failed on a bug rather than on its input (sysexits' EX_SOFTWARE). */
export const INTERNAL_ERROR_EXIT_CODE = 70;

export interface ReportOptions {
  /** Print the stack of a user error too (`--debug`, RISTRETTO_DEBUG=1). */
  debug?: boolean;
  /** Where the text goes (default stderr). */
  write?: (text: string) => void;
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
  if (e instanceof RistrettoError && !(e instanceof InternalError)) {
    write(`${prog}: ${opts.debug ? (e.stack ?? e.message) : e.message}\n`);
    return 1;
  }
  // The frames only: the first line of a stack repeats the message printed above.
  const stack =
    e instanceof Error
      ? (e.stack ?? '')
          .split('\n')
          .filter((l) => /^\s+at /.test(l))
          .join('\n')
      : '';
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
