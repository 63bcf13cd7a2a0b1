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

/** A JSON Patch operation that cannot be applied (missing path, failed `test`, bad index...). */
export class PatchError extends RistrettoError {
  /** JSON pointer the failing operation targets. */
  readonly path: string;
  /** Index of the failing operation in its patch. */
  readonly opIndex: number;
  constructor(message: string, path: string, opIndex: number, patchName?: string) {
    super(
      `${patchName ? `patch ${patchName}: ` : ''}operation ${opIndex} at ${path || '/'}: ${message}`,
      { path, opIndex, patch: patchName },
      'check that the patch was made for this background-only workspace',
    );
    this.path = path;
    this.opIndex = opIndex;
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
