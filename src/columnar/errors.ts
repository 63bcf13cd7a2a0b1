/** Typed errors of the columnar kernels: each names the operation and the sizes or names involved. */
import { RistrettoError } from '../errors/index.ts';

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

/** A field a kernel needs is not in the collection. */
export class FieldNotFoundError extends ColumnarError {
  readonly field: string;
  readonly available: readonly string[];

  constructor(operation: string, field: string, available: readonly string[]) {
    const closest = closestNames(field, available);
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

/** An argument is outside what the kernel supports (a combination size, a dtype, an index). */
export class InvalidArgumentError extends ColumnarError {}

/** Up to three names closest to `name` by edit distance (case-insensitive), nearest first. */
export function closestNames(name: string, candidates: readonly string[]): string[] {
  const target = name.toLowerCase();
  return candidates
    .map((c) => {
      const lc = c.toLowerCase();
      // A name containing the other (`Jet_pt` for `pt`) counts as close as one edit.
      const d = lc.includes(target) || target.includes(lc) ? Math.min(1, editDistance(target, lc)) : editDistance(target, lc);
      return { c, d };
    })
    .filter(({ c, d }) => d <= Math.max(1, Math.floor(Math.max(c.length, target.length) / 3)))
    .sort((x, y) => x.d - y.d)
    .slice(0, 3)
    .map(({ c }) => c);
}

function editDistance(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}
