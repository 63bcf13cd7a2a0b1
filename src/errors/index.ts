/**
 * Base of Ristretto's error hierarchy. Every error carries context fields (file, tree, branch, entry
 * range, endpoint, task id...) and a sentence on what to do, so that the CLI can print a short message
 * instead of a stack trace.
 */
export class RistrettoError extends Error {
  /** Structured context, safe to log (never tokens or secrets). */
  readonly context: Readonly<Record<string, unknown>>;
  /** What the user should do about it. */
  readonly hint: string | undefined;

  constructor(message: string, context: Record<string, unknown> = {}, hint?: string, options?: { cause?: unknown }) {
    super(hint ? `${message} — ${hint}` : message, options);
    this.name = new.target.name;
    this.context = context;
    this.hint = hint;
  }
}

const plainInstanceOf = Function.prototype[Symbol.hasInstance];
const members = new WeakMap<object, Set<abstract new (...args: never[]) => Error>>();

/**
 * Make `cls` (which keeps its own base, e.g. ParquetError) a member of `family`: `e instanceof family` is
 * then true for its instances too. JavaScript has single inheritance, and a Parquet column that is not there
 * is both a ParquetError and a missing column.
 */
export function joinErrorFamily(
  family: typeof MissingColumnError | typeof EntryRangeError,
  ...classes: (abstract new (
    ...args: never[]
  ) => Error)[]
): void {
  let set = members.get(family);
  if (!set) members.set(family, (set = new Set()));
  for (const c of classes) set.add(c);
}

function inFamily(family: object, x: unknown): boolean {
  if (plainInstanceOf.call(family, x)) return true;
  for (const c of members.get(family) ?? []) if (plainInstanceOf.call(c, x)) return true;
  return false;
}

/**
 * A branch, column or field that was asked for is not there. One family across the readers (ROOT
 * `BranchNotFoundError`, `ParquetColumnNotFoundError`, `ArrowColumnNotFoundError`), the events layer and the
 * columnar kernels (`FieldNotFoundError`): `e instanceof MissingColumnError` catches all of them. Each
 * names what is missing and where, and lists the closest names in its context where it knows them.
 *
 * @example
 * ```ts
 * try {
 *   await reader.read(['Muon_ptt'], 0, 100);
 * } catch (e) {
 *   if (e instanceof MissingColumnError) console.error(e.message); // "... closest: Muon_pt ..."
 *   else throw e;
 * }
 * ```
 */
export class MissingColumnError extends RistrettoError {
  static override [Symbol.hasInstance](x: unknown): boolean {
    // Only the family class itself looks at members; its subclasses test plainly.
    return this === MissingColumnError ? inFamily(this, x) : plainInstanceOf.call(this, x);
  }
}

/**
 * An entry range outside a file, tree or table, or not a valid range (start > stop, negative, not integer).
 * One family across ROOT and RNTuple, Parquet (`ParquetRangeError`), Arrow (`ArrowRangeError`) and the events
 * layer: `e instanceof EntryRangeError` catches all of them.
 */
export class EntryRangeError extends RistrettoError {
  static override [Symbol.hasInstance](x: unknown): boolean {
    return this === EntryRangeError ? inFamily(this, x) : plainInstanceOf.call(this, x);
  }
}

/**
 * Something Ristretto's own code assumed cannot happen, happened: a bug, not bad input. Thrown through
 * {@link internalError} so every such message asks for a report the same way; errors a user can cause
 * have their own classes (with what to do) instead.
 */
export class InternalError extends RistrettoError {}

/**
 * An {@link InternalError} for a broken invariant: `internal error: <what> — this is a bug in Ristretto;
 * please report it …`.
 *
 * @example
 * ```ts
 * if (!layout) throw internalError(`no layout for class ${cls}`, { cls });
 * ```
 */
export function internalError(what: string, context: Record<string, unknown> = {}): InternalError {
  return new InternalError(
    `internal error: ${what}`,
    context,
    'this is a bug in Ristretto; please report it with the command you ran and this message',
  );
}
