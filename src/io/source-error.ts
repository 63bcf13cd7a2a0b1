/**
 * SourceError on its own module, so byte sources that source.ts dispatches to (src/io/xrootd) can
 * extend it without an import cycle. Import it from source.ts.
 */
import { RistrettoError } from '../errors/index.ts';

/** A byte source could not be opened or read (missing file, server down, range outside the file). */
export class SourceError extends RistrettoError {}
