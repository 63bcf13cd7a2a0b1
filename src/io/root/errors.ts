/**
 * Typed errors of the ROOT reader. Each carries the file, tree, branch and (where it applies) the basket
 * and entry range, so a message is enough to find the faulty bytes again.
 */
import { EntryRangeError, joinErrorFamily, MissingColumnError, RistrettoError } from '../../errors/index.ts';

/** Base of every error the ROOT reader throws. */
export class RootError extends RistrettoError {}

/** The file cannot be opened or its structure (keys, streamers, tree metadata) cannot be parsed. */
export class RootFileError extends RootError {}

/** The requested tree is not in the file; `context.available` lists the trees that are. */
export class TreeNotFoundError extends RootError {}

/** A requested branch is not in the tree; `context.suggestions` lists the closest names. */
export class BranchNotFoundError extends RootError {}

/** The branch exists but its type or layout cannot be decoded into a column. */
export class UnsupportedBranchError extends RootError {}

/**
 * The branch's type cannot be known because the file lacks the streamer information of its leaf (or
 * member) class: lengths and counters would read as scalars, so the reader refuses instead of guessing.
 */
export class MissingStreamerError extends UnsupportedBranchError {}

/** A basket's bytes are inconsistent (bad header, failed or short decompression, bad entry offsets). */
export class CorruptBasketError extends RootError {}

/** Fetching basket bytes failed (I/O or network, after the source's retries); the cause says why. */
export class BasketReadError extends RootError {}

/** The entry range passed to `read` is outside the tree or not a valid range: the family class itself, shared by every reader. */
export { EntryRangeError };

joinErrorFamily(MissingColumnError, BranchNotFoundError);
