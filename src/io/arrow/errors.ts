/**
 * The Arrow reader's errors, in a module of their own so that code which only needs the classes (the
 * sync-read bridge reviving errors by name) does not load apache-arrow, a ~0.3–0.7 s import that every
 * sync-read helper thread and every run paid before any Arrow file was opened.
 */
import { EntryRangeError, joinErrorFamily, MissingColumnError, RistrettoError } from '../../errors/index.ts';

export class ArrowError extends RistrettoError {}
export class ArrowFormatError extends ArrowError {}
/** A requested column is not in the table. Also a {@link MissingColumnError}. */
export class ArrowColumnNotFoundError extends ArrowError {}
export class ArrowUnsupportedError extends ArrowError {}
/** An entry range outside the table or not a valid range. Also an {@link EntryRangeError}. */
export class ArrowRangeError extends ArrowError {}

joinErrorFamily(MissingColumnError, ArrowColumnNotFoundError);
joinErrorFamily(EntryRangeError, ArrowRangeError);
