/**
 * Errors of the fitting code. Each names what it is about (the JSON path of a workspace problem, the
 * patch file and operation path of a patch that does not apply, the fit that did not converge) so a
 * scan can report it per workspace or per patch and carry on.
 */
import { RistrettoError } from '../errors/index.ts';

/** A workspace (or patch set) that is not valid pyhf JSON 1.0.0, or whose content cannot be modelled. */
export class WorkspaceError extends RistrettoError {
  /** JSON pointer of the offending value, e.g. `/channels/0/samples/1/data/2`. */
  readonly path: string;
  constructor(message: string, path: string, source?: string, hint?: string) {
    super(`${source ? `${source}: ` : ''}${path ? `at ${path}: ` : ''}${message}`, { path, source }, hint);
    this.path = path;
  }
}

/** Where a patch came from, for its errors. */
export interface PatchOrigin {
  /** The patch's name (e.g. `sbottom_1300_850_60`). */
  name?: string;
  /** The file holding it: a patch file, or a pyhf patch set. */
  file?: string;
  /** JSON pointer of the patch's operation list inside `file` (`''` for a patch file, `/patches/3/patch` in a patch set). */
  pointer?: string;
}

/**
 * A JSON Patch operation that cannot be applied (missing path, failed `test`, bad index...). The
 * message names the patch, its file and the failing operation's place in that file, then the
 * workspace path it targets: `patch sbottom_1 (RegionA/patch.sbottom_1.json at /0): operation 0 at
 * /channels/9/samples/-: index 9 is out of range (array has 3 items)`.
 */
export class PatchError extends RistrettoError {
  /** JSON pointer (into the workspace) the failing operation targets. */
  readonly path: string;
  /** Index of the failing operation in its patch. */
  readonly opIndex: number;
  /** The patch file (or patch set file), when the patch came from one. */
  readonly file: string | undefined;
  /** JSON pointer of the failing operation inside {@link file}, e.g. `/0` or `/patches/3/patch/0`. */
  readonly filePointer: string | undefined;
  /** Why the operation failed, without the patch and place: `index 9 is out of range (array has 3 items)`. */
  readonly reason: string;
  constructor(message: string, path: string, opIndex: number, origin: string | PatchOrigin = {}) {
    const o = typeof origin === 'string' ? { name: origin } : origin;
    const filePointer = o.file !== undefined && opIndex >= 0 ? `${o.pointer ?? ''}/${opIndex}` : undefined;
    const where = o.file !== undefined ? `${o.file}${filePointer ? ` at ${filePointer}` : ''}` : undefined;
    const who = o.name ? `patch ${o.name}${where ? ` (${where})` : ''}: ` : where ? `patch file ${where}: ` : '';
    super(
      `${who}${opIndex >= 0 ? `operation ${opIndex} at ${path || '/'}` : 'cannot apply'}: ${message}`,
      { path, opIndex, patch: o.name, file: o.file, filePointer },
      'check that the patch was made for this background-only workspace',
    );
    this.path = path;
    this.opIndex = opIndex;
    this.file = o.file;
    this.filePointer = filePointer;
    this.reason = message;
  }
}

/** The minimizer stopped without meeting its convergence criterion. */
export class FitConvergenceError extends RistrettoError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, context, 'try other initial values or bounds (measurement parameter config), or check the data');
  }
}

/** A scan that cannot start or go on as asked: a results file that belongs to another scan, no endpoint left... */
export class ScanError extends RistrettoError {
  constructor(message: string, context: Record<string, unknown> = {}, hint?: string) {
    super(message, context, hint);
  }
}

/** An option of a fit or scan that is not valid: an unknown optimizer, a thread count below 1... */
export class FitOptionsError extends RistrettoError {}

/**
 * The likelihood is not finite where a fit started or ended: a negative (or, with events observed, zero)
 * expected rate in some bin, or a constraint term out of its domain. The message names the channel, bin
 * and the samples that make the rate negative (with their JSON paths), and the parameter values when
 * they are not the nominal ones, so no NaN ever passes for a result.
 */
export class InvalidLikelihoodError extends RistrettoError {}
