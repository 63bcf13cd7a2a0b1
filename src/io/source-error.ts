/**
 * SourceError on its own module, so byte sources that source.ts dispatches to (src/io/xrootd) can
 * extend it without an import cycle. Import it from source.ts.
 */
import { RistrettoError } from '../errors/index.ts';

/**
 * A byte source could not be opened or read (missing file, server down, range outside the file). The
 * message starts with the file or URL (`PATH: file not found`), so a wrapper that names the file drops
 * it with `nameOnce` (src/errors).
 */
export class SourceError extends RistrettoError {}

/**
 * A server stayed unreachable (refused, reset, no answer) through every retry of a source: unlike a
 * missing file, a later attempt may succeed. The source says to check the server; the caller that can
 * try again later adds how (run-analysis' --retries for a chunk read, src/runner/errors.ts).
 */
export class SourceUnreachableError extends SourceError {}
