/**
 * Merging of accumulator values: the one operation a runner applies to combine chunk outputs.
 * Dispatch happens once per value (per key of a nested output), never per element of an array.
 */
import { ColumnAccumulator } from './column.ts';
import { MergeError, formatPath } from './errors.ts';
import { binaryDecoder, isAddable, isBinarySerializable, type Addable } from './protocol.ts';
import { type AnyTypedArray, concatTyped, copyTyped, copyView, isTypedArray, typedArrayName } from './typed.ts';

type Path = (string | number)[];

const SUPPORTED =
  'accumulators hold numbers, bigints, strings, booleans, plain objects, arrays, Maps, Sets, typed arrays, ' +
  'ColumnAccumulator and Addable values';

/**
 * Merge `b` into `a` and return a value equal to `a + b`.
 *
 * Numbers and bigints add; plain objects and Maps merge key-wise (a key on one side only is copied);
 * Sets take the union; arrays, typed arrays and `ColumnAccumulator`s concatenate (a then b: the only
 * order-dependent merge); `Addable` values use `iadd` when present, else `add`; strings and booleans must
 * be equal; `null`/`undefined` on either side yields the other side.
 *
 * `a` MAY be mutated and returned (this keeps a running total's memory bounded), so always use the
 * return value: a typed array cannot grow in place and comes back as a new array. `b` is never mutated,
 * and the result never shares mutable state with `b`.
 *
 * @throws MergeError naming the key path, e.g. `at "muons/pt": cannot merge Hist with number`.
 * @example
 * ```ts
 * let total = { n: 0, cutflow: { all: 0 } };
 * for (const chunk of outputs) total = accumulate(total, chunk);
 * ```
 */
export function accumulate<T>(a: T, b: T): T {
  return mergeInto(a, b, []) as T;
}

/**
 * `a + b` as a new value, mutating neither input.
 *
 * @example
 * ```ts
 * const both = merged({ n: 2, tags: new Set(['mc']) }, { n: 3, tags: new Set(['data']) });
 * // { n: 5, tags: Set {'mc', 'data'} }
 * ```
 */
export function merged<T>(a: T, b: T): T {
  return mergeInto(copyValue(a, []), b, []) as T;
}

/**
 * Fold many accumulators into one (into `initial`, which may be mutated, when given).
 *
 * @example
 * ```ts
 * const total = accumulateAll(chunkOutputs); // undefined for an empty list
 * ```
 */
export function accumulateAll<T>(items: Iterable<T>, initial?: T): T | undefined {
  let acc: T | undefined = initial;
  for (const item of items) acc = mergeInto(acc, item, []) as T;
  return acc;
}

/**
 * A deep copy that `accumulate` may later mutate without touching the original.
 *
 * @example
 * ```ts
 * const snapshot = copyAccumulator(total);
 * ```
 */
export function copyAccumulator<T>(v: T): T {
  return copyValue(v, []) as T;
}

/**
 * Short type name for messages: "number", "object", "Map", "Float32Array", or a class name like "Hist".
 *
 * @example
 * ```ts
 * describeType(new Float32Array(2)); // "Float32Array"
 * ```
 */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  if (Array.isArray(v)) return 'array';
  if (isTypedArray(v)) return typedArrayName(v);
  if (isPlainObject(v)) return 'object';
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Assign an own property even when the key is "__proto__" (a plain assignment would set the prototype). */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

function mismatch(a: unknown, b: unknown, path: Path, hint?: string): MergeError {
  const ta = describeType(a);
  const tb = describeType(b);
  return new MergeError(
    `at ${formatPath(path)}: cannot merge ${ta} with ${tb}`,
    { path: path.join('/'), left: ta, right: tb },
    hint ?? 'every output must have the same structure and types in every chunk',
  );
}

function mergeInto(a: unknown, b: unknown, path: Path): unknown {
  if (b === null || b === undefined) return a;
  if (a === null || a === undefined) return copyValue(b, path);
  if (a === b && typeof a === 'object') b = copyValue(b, path); // merging a value with itself: read a frozen copy

  const ta = typeof a;
  if (ta !== 'object' || typeof b !== 'object') {
    if (ta !== typeof b) throw mismatch(a, b, path);
    if (ta === 'number') return (a as number) + (b as number);
    if (ta === 'bigint') return (a as bigint) + (b as bigint);
    if (ta === 'string' || ta === 'boolean') {
      if (a === b) return a;
      throw new MergeError(
        `at ${formatPath(path)}: cannot merge ${ta}s ${JSON.stringify(a)} and ${JSON.stringify(b)}: they must be equal`,
        { path: path.join('/'), left: a, right: b },
        'strings and booleans in an accumulator are labels and must agree across chunks; use a Set to collect distinct values',
      );
    }
    throw new MergeError(
      `at ${formatPath(path)}: cannot merge values of type ${ta}`,
      { path: path.join('/') },
      SUPPORTED,
    );
  }

  const oa = a as object;
  const ob = b as object;
  if (isTypedArray(oa)) {
    if (!isTypedArray(ob) || typedArrayName(oa) !== typedArrayName(ob)) {
      throw mismatch(a, b, path, 'typed arrays concatenate only with the same kind; convert one side first');
    }
    return concatTyped(oa, ob);
  }
  if (oa instanceof ColumnAccumulator) {
    if (!(ob instanceof ColumnAccumulator)) {
      throw mismatch(a, b, path, 'wrap the other side with ColumnAccumulator.from(...) so both are columns');
    }
    if (oa.kind !== ob.kind) throw mismatch(oa.kind, ob.kind, path, 'one column keeps one element type');
    return oa.append(ob);
  }
  if (Array.isArray(oa)) {
    if (!Array.isArray(ob)) throw mismatch(a, b, path);
    const n = ob.length;
    for (let i = 0; i < n; i++) oa.push(copyValue(ob[i], path));
    return oa;
  }
  if (oa instanceof Map) {
    if (!(ob instanceof Map)) throw mismatch(a, b, path);
    for (const [k, v] of ob) {
      path.push(String(k));
      oa.set(k, mergeInto(oa.get(k), v, path));
      path.pop();
    }
    return oa;
  }
  if (oa instanceof Set) {
    if (!(ob instanceof Set)) throw mismatch(a, b, path);
    for (const v of ob) oa.add(v);
    return oa;
  }
  if (isPlainObject(oa)) {
    if (!isPlainObject(ob)) throw mismatch(a, b, path);
    for (const k of Object.keys(ob)) {
      path.push(k);
      const had = Object.hasOwn(oa, k);
      setOwn(oa, k, mergeInto(had ? oa[k] : undefined, ob[k], path));
      path.pop();
    }
    return oa;
  }
  if (isAddable(oa)) {
    if (Object.getPrototypeOf(oa) !== Object.getPrototypeOf(ob)) throw mismatch(a, b, path);
    try {
      const iadd = (oa as { iadd?: (o: unknown) => unknown }).iadd;
      if (typeof iadd === 'function') return iadd.call(oa, ob) ?? oa;
      return (oa as Addable<unknown>).add(ob);
    } catch (e) {
      if (e instanceof MergeError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new MergeError(
        `at ${formatPath(path)}: cannot merge ${describeType(a)} with ${describeType(b)}: ${why}`,
        { path: path.join('/'), left: describeType(a), right: describeType(b) },
        undefined,
        { cause: e },
      );
    }
  }
  throw new MergeError(
    `at ${formatPath(path)}: cannot merge ${describeType(a)}: not an accumulator type`,
    { path: path.join('/'), type: describeType(a) },
    `${SUPPORTED}; give ${describeType(a)} an add() method (Addable)`,
  );
}

/** Deep copy for values that will be merged into later; immutable leaves are shared. */
function copyValue(v: unknown, path: Path): unknown {
  if (typeof v === 'function' || typeof v === 'symbol') {
    throw new MergeError(
      `at ${formatPath(path)}: cannot merge a ${typeof v}`,
      { path: path.join('/'), type: typeof v },
      SUPPORTED,
    );
  }
  if (v === null || typeof v !== 'object') return v;
  if (isTypedArray(v)) return copyTyped(v as AnyTypedArray);
  if (v instanceof ColumnAccumulator) return v.copy();
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyValue(v[i], path);
    return out;
  }
  if (v instanceof Map) {
    const out = new Map();
    for (const [k, x] of v) {
      path.push(String(k));
      out.set(k, copyValue(x, path));
      path.pop();
    }
    return out;
  }
  if (v instanceof Set) return new Set(v);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
    for (const k of Object.keys(v)) {
      path.push(k);
      setOwn(out, k, copyValue(v[k], path));
      path.pop();
    }
    return out;
  }
  if (isAddable(v)) {
    const copy = (v as { copy?: () => unknown }).copy ?? (v as { clone?: () => unknown }).clone;
    if (typeof copy === 'function') return copy.call(v);
    // Without iadd, accumulate never writes into the value, so sharing it is safe.
    if (typeof (v as { iadd?: unknown }).iadd !== 'function') return v;
    if (isBinarySerializable(v)) {
      const { header, buffers } = v.toBinaryParts();
      const owned = buffers.map(copyView);
      return binaryDecoder(v.binaryTag)(structuredClone(header), owned);
    }
    throw new MergeError(
      `at ${formatPath(path)}: cannot copy ${describeType(v)}: it merges in place (iadd) but has no copy() or clone()`,
      { path: path.join('/'), type: describeType(v) },
      `give ${describeType(v)} a copy() method (or make it BinarySerializable) so a merged result never aliases an input`,
    );
  }
  throw new MergeError(
    `at ${formatPath(path)}: cannot merge ${describeType(v)}: not an accumulator type`,
    { path: path.join('/'), type: describeType(v) },
    `${SUPPORTED}; give ${describeType(v)} an add() method (Addable)`,
  );
}
