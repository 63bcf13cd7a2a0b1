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

  /** `instanceof` that also holds for errors made by another copy of Ristretto (a processor bundle's). */
  static override [Symbol.hasInstance](x: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about, which may be a subclass
    return isErrorOf(this, x);
  }
}

const plainInstanceOf = Function.prototype[Symbol.hasInstance];
// The same symbol in every copy of this module (Symbol.for), so it marks errors of any copy.
const ERROR_BRAND = Symbol.for('ristretto.brand.RistrettoError');
Object.defineProperty(RistrettoError.prototype, ERROR_BRAND, { value: true });

/**
 * `x instanceof cls` across copies of Ristretto. A processor runs from its bundle with its own copy of
 * the error classes, while the runner's copy builds the events it reads and merges what it returns: a
 * `MissingBranchError` thrown by the runner's events must still be `instanceof MissingColumnError` in
 * the processor, and a bundle's `FillError` a `RistrettoError` to the CLI. An error of another copy
 * carries the brand; it is an instance of `cls` when a class of that name is on its prototype chain
 * (Ristretto's error class names are unique, and bundles keep class names).
 */
function isErrorOf(cls: abstract new (...args: never[]) => Error, x: unknown): boolean {
  if (plainInstanceOf.call(cls, x)) return true;
  if (typeof x !== 'object' || x === null || (x as Record<symbol, unknown>)[ERROR_BRAND] !== true) return false;
  for (let p = Object.getPrototypeOf(x); p !== null; p = Object.getPrototypeOf(p)) {
    if (Object.hasOwn(p, 'constructor') && (p as { constructor: { name: string } }).constructor.name === cls.name)
      return true;
  }
  return false;
}

/**
 * Make `cls` (which keeps its own base, e.g. ParquetError) a member of `family`: `e instanceof family` is
 * then true for its instances too. JavaScript has single inheritance, and a Parquet column that is not there
 * is both a ParquetError and a missing column. The membership is a registry-symbol mark on `cls`'s
 * prototype, so it holds for errors made by any copy of Ristretto.
 */
export function joinErrorFamily(
  family: typeof MissingColumnError | typeof EntryRangeError,
  ...classes: (abstract new (
    ...args: never[]
  ) => Error)[]
): void {
  const mark = familyMark(family);
  for (const c of classes) Object.defineProperty(c.prototype, mark, { value: true, configurable: true });
}

const familyMark = (family: { name: string }): symbol => Symbol.for(`ristretto.family.${family.name}`);

function inFamily(family: abstract new (...args: never[]) => Error, x: unknown): boolean {
  if (isErrorOf(family, x)) return true;
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[familyMark(family)] === true;
}

/**
 * The hint for an error that wraps `cause`, or none when the cause already says what to do (its
 * message, quoted by the wrapper, carries its hint): one piece of advice per failure, not one per layer.
 *
 * @example
 * throw new BasketReadError(`cannot fetch …: ${e.message}`, ctx, adviceUnlessTold(e, 'check the file'), { cause: e });
 */
export function adviceUnlessTold(cause: unknown, hint: string): string | undefined {
  return cause instanceof RistrettoError && cause.hint ? undefined : hint;
}

/**
 * `detail` (the message of a cause) for a wrapper whose own text names `subject` (a file, a URL) just
 * before it: without the `subject: ` it starts with, and with `subject: subject: ` said once, so the
 * user reads the file's name once per mention, whatever the source (local, http, root://). Source errors
 * start with the file they are about (`root://h//f.root: the server refused kXR_stat: …`,
 * `data/a.root: file not found`), so a wrapper keeps its "cannot open FILE" and loses nothing.
 *
 * @example
 * ```ts
 * throw new RootFileError(`cannot open ROOT file ${path}: ${nameOnce(path, e.message)}`, { file: path });
 * ```
 */
export function nameOnce(subject: string, detail: string): string {
  if (!subject) return detail;
  const lead = `${subject}: `;
  const once = detail.split(`${lead}${lead}`).join(lead);
  return once.startsWith(lead) ? once.slice(lead.length) : once;
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
    // Only the family class itself looks at members; its subclasses test by their own name.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about, which may be a subclass
    return this === MissingColumnError ? inFamily(this, x) : isErrorOf(this, x);
  }
}

/**
 * An entry range outside a file, tree or table, or not a valid range (start > stop, negative, not integer).
 * One family across ROOT and RNTuple, Parquet (`ParquetRangeError`), Arrow (`ArrowRangeError`) and the events
 * layer: `e instanceof EntryRangeError` catches all of them.
 */
export class EntryRangeError extends RistrettoError {
  static override [Symbol.hasInstance](x: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about, which may be a subclass
    return this === EntryRangeError ? inFamily(this, x) : isErrorOf(this, x);
  }
}

/**
 * Whether [start, stop) is an entry range of something with `numEntries` entries: integers with
 * 0 <= start <= stop <= numEntries. The readers and the events layer check their arguments with it before
 * throwing their member of the {@link EntryRangeError} family.
 *
 * @example
 * ```ts
 * if (!isEntryRange(start, stop, this.numEntries)) throw new ParquetRangeError(`entry range [${start}, ${stop}) …`);
 * ```
 */
export function isEntryRange(start: number, stop: number, numEntries: number): boolean {
  return Number.isInteger(start) && Number.isInteger(stop) && start >= 0 && start <= stop && stop <= numEntries;
}

/**
 * The user's own code threw: a processor's `process`, `accumulator` or `postprocess` (or the module
 * itself as it loads), or a function submitted for remote execution. Not a problem with the input files
 * and not a bug in Ristretto: the message names the user's file or function and, for a chunk, its
 * dataset, file and entry range; the user's error is the `cause`. Commands print the frames of the
 * user's code under the message and exit 1 (src/errors/report.ts).
 *
 * @example
 * ```ts
 * try {
 *   await runAnalysis({ fileset: 'datasets.json', processor: 'processors/zmumu.ts' });
 * } catch (e) {
 *   if (e instanceof UserCodeError) console.error('the processor failed:', e.message, e.cause);
 *   else throw e;
 * }
 * ```
 */
export class UserCodeError extends RistrettoError {}

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

/**
 * Throws {@link internalError}: the expression form, for a value that cannot be missing unless Ristretto has a bug
 * (`map.get(key) ?? brokenInvariant('…')`), where a non-null assertion would let a bug surface later as an
 * unrelated `TypeError` far from its cause.
 *
 * @example
 * ```ts
 * const slot = slots.get(id) ?? brokenInvariant(`no slot for task ${id}`, { id });
 * ```
 */
export function brokenInvariant(what: string, context: Record<string, unknown> = {}): never {
  throw internalError(what, context);
}
