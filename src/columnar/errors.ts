/** Typed errors of the columnar kernels: each names the operation and the sizes or names involved. */
import { joinErrorFamily, MissingColumnError, RistrettoError } from '../errors/index.ts';
import { closestNames } from '../errors/suggest.ts';

/** Base of every error raised by a columnar kernel. */
export class ColumnarError extends RistrettoError {}

/** Two inputs of one kernel disagree in length (number of events, or of elements). */
export class LengthMismatchError extends ColumnarError {
  readonly operation: string;
  readonly expected: number;
  readonly actual: number;

  constructor(operation: string, what: string, expected: number, actual: number, hint?: string) {
    super(
      `${operation}: ${what} has length ${actual}, expected ${expected}`,
      { operation, what, expected, actual },
      hint ?? 'Pass columns of the same chunk (same number of events); filter all of them with the same mask.',
    );
    this.operation = operation;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Two jagged inputs do not have the same list lengths, so their elements cannot be paired up. */
export class OffsetsMismatchError extends ColumnarError {
  constructor(operation: string, event: number, leftCount: number, rightCount: number) {
    super(
      `${operation}: jagged inputs differ in structure at event ${event} (${leftCount} vs ${rightCount} elements)`,
      { operation, event, leftCount, rightCount },
      'Combine jagged columns of the same collection only, or select both with the same object mask first.',
    );
  }
}

/** A field a kernel needs is not in the collection. Also a {@link MissingColumnError}. */
export class FieldNotFoundError extends ColumnarError {
  readonly field: string;
  readonly available: readonly string[];

  constructor(operation: string, field: string, available: readonly string[]) {
    // Only near names: a list of unrelated fields would read as noise next to the full list in the hint.
    const closest = closestNames(field, available, 3, { nearOnly: true });
    super(
      `${operation}: collection has no field '${field}'` +
        (closest.length > 0 ? ` (closest: ${closest.join(', ')})` : ''),
      { operation, field, available, closest },
      `Available fields: ${available.length > 0 ? available.join(', ') : '(none)'}.`,
    );
    this.field = field;
    this.available = available;
  }
}

joinErrorFamily(MissingColumnError, FieldNotFoundError);

/** An argument is outside what the kernel supports (a combination size, a dtype, an index). */
export class InvalidArgumentError extends ColumnarError {}
