/** Errors raised by the events layer. All carry the file, tree and branch they concern. */
import { EntryRangeError, MissingColumnError, RistrettoError } from '../errors/index.ts';

/**
 * A column was touched on an events object after its `runOnEvents` call returned (kept in a closure):
 * the chunk is over and its reader may be closed, so columns not loaded by then are not read any more.
 */
export class ColumnNotLoadedError extends RistrettoError {
  readonly branch: string;
  constructor(branch: string) {
    super(
      `column ${branch} is not loaded`,
      { branch },
      'read events only inside the function given to runOnEvents; do not keep the events object beyond the call',
    );
    this.branch = branch;
  }
}

/** A column that was not prefetched was touched, and the reader can neither read synchronously nor be reopened by the helper thread. */
export class SyncReadUnavailableError extends RistrettoError {
  readonly branch: string;
  constructor(branch: string, path: string, treeName: string) {
    super(
      `column ${branch} of ${path} tree ${treeName} was not prefetched, and this reader cannot read synchronously`,
      { path, tree: treeName, branch },
      'implement readSync on the reader (EventReader), or list every branch the processor uses in `prefetch`',
    );
    this.branch = branch;
  }
}

/** The processor asked for a branch (or collection field) the file does not have. */
export class MissingBranchError extends MissingColumnError {
  readonly branch: string;
  readonly closest: readonly string[];
  constructor(branch: string, path: string, treeName: string, closest: readonly string[], what = 'branch') {
    super(
      `no ${what} ${branch} in ${path} tree ${treeName}${closest.length > 0 ? `; closest: ${closest.join(', ')}` : ''}`,
      { path, tree: treeName, branch, closest },
      `fix the name (\`npx ristretto ls ${path}\` lists every branch)`,
    );
    this.branch = branch;
    this.closest = closest;
  }
}

/** A reader returned a column whose shape contradicts its branch metadata or its collection's offsets. */
export class ColumnShapeMismatchError extends RistrettoError {
  constructor(branch: string, path: string, treeName: string, detail: string) {
    super(
      `column ${branch} from ${path} tree ${treeName} has an unexpected shape: ${detail}`,
      { path, tree: treeName, branch },
      'this is a reader bug or a file whose branches of one collection disagree on their counts; report it with the file',
    );
  }
}

/** `runOnEvents` was asked for entries outside the file. */
export class InvalidEntryRangeError extends EntryRangeError {
  constructor(entryStart: number, entryStop: number, numEntries: number, path: string) {
    super(
      `entry range [${entryStart}, ${entryStop}) is not within [0, ${numEntries}] of ${path}`,
      { path, entryStart, entryStop, numEntries },
      'use integer bounds with 0 <= entryStart <= entryStop <= reader.numEntries',
    );
  }
}

/** `events.define(name, text)` was given a name already in use or an expression without one value per event. */
export class DefineError extends RistrettoError {}
