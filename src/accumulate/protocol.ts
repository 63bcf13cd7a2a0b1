import { closestNames } from '../errors/suggest.ts';
import { UnknownBinaryTypeError } from './errors.ts';

/**
 * The contract every mergeable accumulator value follows. Plain numbers, nested objects, Maps, Sets and
 * typed arrays are handled by the accumulate module itself; anything else (histograms, user types)
 * implements `Addable`. Binary transport uses a registry keyed by a stable type tag so that values
 * round-trip exactly between threads, processes and hosts.
 */
export interface Addable<T> {
  /** Return the sum of `this` and `other`; must be associative and commutative. Must not mutate `other`. */
  add(other: T): T;
}

/**
 * An Addable that can also merge in place. `accumulate` prefers `iadd` so that a runner's running total
 * does not reallocate per chunk. `iadd` returns `this` (a `void` return is treated as `this`).
 */
export interface InPlaceAddable<T> extends Addable<T> {
  /** Add `other` into `this` and return `this`. Must not mutate `other`. */
  // biome-ignore lint/suspicious/noConfusingVoidType: an iadd written as a void method must still satisfy the interface
  iadd(other: T): T | void;
}

/**
 * A value that can copy itself deeply. `accumulate` copies a value that exists on one side only (so a
 * later in-place merge never writes into the caller's input); an Addable with `iadd` should provide
 * `copy` (or `clone`, which is also accepted), otherwise it is copied through its binary parts, and
 * failing that the merge is refused.
 */
export interface Copyable<T> {
  copy(): T;
}

/** A value that can be written to, and rebuilt from, binary parts (JSON header + raw buffers). */
export interface BinarySerializable {
  /** Stable tag under which the decoder is registered, e.g. "ristretto.Hist". */
  readonly binaryTag: string;
  /** A JSON-able header plus the typed arrays that carry the bulk data (kept binary, never JSON numbers). */
  toBinaryParts(): { header: unknown; buffers: ArrayBufferView[] };
}

/** Rebuilds a value from what `toBinaryParts` produced. */
export type BinaryDecoder = (header: unknown, buffers: ArrayBufferView[]) => unknown;

const decoders = new Map<string, BinaryDecoder>();
/**
 * Decoders registered by any copy of this module in this thread. A processor runs from its bundle, which
 * carries its own copy of Ristretto: a type it registers must still decode in the runner's copy. Each
 * copy prefers its own decoders (so its own classes come back); this registry serves the others.
 */
const anyCopy = ((globalThis as Record<symbol, unknown>)[Symbol.for('ristretto.binaryDecoders')] ??= new Map<
  string,
  BinaryDecoder
>()) as Map<string, BinaryDecoder>;

/**
 * True when `v` has an `add` method (and is not a Set, whose `add` inserts an element).
 *
 * @example
 * ```ts
 * isAddable(hist); // true
 * isAddable(new Set()); // false
 * ```
 */
export function isAddable(v: unknown): v is Addable<unknown> {
  return (
    typeof v === 'object' && v !== null && !(v instanceof Set) && typeof (v as { add?: unknown }).add === 'function'
  );
}

/**
 * True when `v` carries a binary tag and can split itself into binary parts.
 *
 * @example
 * ```ts
 * if (isBinarySerializable(v)) console.log(v.binaryTag); // "ristretto.Hist"
 * ```
 */
export function isBinarySerializable(v: unknown): v is BinarySerializable {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { binaryTag?: unknown }).binaryTag === 'string' &&
    typeof (v as { toBinaryParts?: unknown }).toBinaryParts === 'function'
  );
}

/**
 * Tags that currently have a decoder, e.g. for diagnostics.
 *
 * @example
 * ```ts
 * registeredBinaryTags(); // ['ristretto.WeightStatistics', 'ristretto.Hist']
 * ```
 */
export function registeredBinaryTags(): string[] {
  return [...decoders.keys()];
}

/**
 * Register the decoder for a binary tag; a module that defines a BinarySerializable class calls this once
 * at load time (so importing the module on the decoding side is enough). Registering a tag again replaces
 * its decoder.
 *
 * @example
 * ```ts
 * registerBinaryType('ristretto.Hist', (header, buffers) => Hist.fromBinaryParts(header, buffers));
 * ```
 */
export function registerBinaryType(tag: string, decode: BinaryDecoder): void {
  decoders.set(tag, decode);
  if (!anyCopy.has(tag)) anyCopy.set(tag, decode);
}

/**
 * Look up a decoder; an unknown tag means the defining module was never imported on this side.
 *
 * @throws UnknownBinaryTypeError listing the closest registered tags.
 * @example
 * ```ts
 * const hist = binaryDecoder('ristretto.Hist')(header, buffers);
 * ```
 */
export function binaryDecoder(tag: string): BinaryDecoder {
  const d = decoders.get(tag) ?? anyCopy.get(tag);
  if (!d) {
    const known = [...new Set([...decoders.keys(), ...anyCopy.keys()])];
    throw new UnknownBinaryTypeError(
      `no binary decoder registered for type "${tag}"`,
      { tag, known },
      `import the module that defines it before decoding (closest known: ${closestNames(tag, known, 3).join(', ') || 'none'})`,
    );
  }
  return d;
}
