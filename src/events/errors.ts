/** Errors raised by the events layer. All carry the file, tree and branch they concern. */
import { RistrettoError } from '../errors/index.ts';

/**
 * Internal signal: the processor touched a branch that is not loaded yet. `runOnEvents` catches it,
 * loads the branch and re-runs the processor. It only escapes when events are used outside the
 * processor call (kept in a closure and read after `runOnEvents` returned).
 */
export class ColumnNotLoaded extends RistrettoError {
  readonly branch: string;
  constructor(branch: string) {
    super(
      `column ${branch} is not loaded`,
      { branch },
      'read events only inside the function given to runOnEvents (it is re-run once the column is loaded); ' +
        'do not keep the events object or swallow this error',
    );
    this.branch = branch;
  }
}

/** The processor asked for a branch (or collection field) the file does not have. */
export class BranchNotFound extends RistrettoError {
  readonly branch: string;
  readonly closest: readonly string[];
  constructor(branch: string, path: string, treeName: string, closest: readonly string[], what = 'branch') {
    super(
      `no ${what} ${branch} in ${path} tree ${treeName}` + (closest.length > 0 ? `; closest: ${closest.join(', ')}` : ''),
      { path, tree: treeName, branch, closest },
      'check the spelling against the names listed; `Object.keys(events)` and `Object.keys(events.<Collection>.fields)` list what exists',
    );
    this.branch = branch;
    this.closest = closest;
  }
}

/** Column discovery did not settle: the processor kept touching new branches, or kept swallowing the load signal. */
export class TooManyPasses extends RistrettoError {
  constructor(passes: number, path: string, treeName: string, loaded: readonly string[], lastMissing: readonly string[]) {
    super(
      `processor still needed unloaded columns after ${passes} passes over ${path} tree ${treeName} (last missing: ${lastMissing.join(', ')})`,
      { path, tree: treeName, passes, columnsRead: loaded, lastMissing },
      'pass the needed branches as `prefetch`, raise `maxPasses`, and make sure the processor does not catch ColumnNotLoaded',
    );
  }
}

/** A reader returned a column whose shape contradicts its branch metadata or its collection's offsets. */
export class ColumnShapeMismatch extends RistrettoError {
  constructor(branch: string, path: string, treeName: string, detail: string) {
    super(
      `column ${branch} from ${path} tree ${treeName} has an unexpected shape: ${detail}`,
      { path, tree: treeName, branch },
      'this is a reader bug or a file whose branches of one collection disagree on their counts; report it with the file',
    );
  }
}

/** `runOnEvents` was asked for entries outside the file. */
export class InvalidEntryRange extends RistrettoError {
  constructor(entryStart: number, entryStop: number, numEntries: number, path: string) {
    super(
      `entry range [${entryStart}, ${entryStop}) is not within [0, ${numEntries}] of ${path}`,
      { path, entryStart, entryStop, numEntries },
      'use integer bounds with 0 <= entryStart <= entryStop <= reader.numEntries',
    );
  }
}
