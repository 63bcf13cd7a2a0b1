/**
 * The typed-array kinds an accumulator may hold, looked up by name once per array (never per element).
 * Names are the constructor names, which is also how the binary codec records them.
 */

import { brokenInvariant } from '../errors/index.ts';

/** Every typed array kind (numeric and 64-bit integer). */
export type AnyTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** Constructor of a typed array kind, as used to allocate and to view a buffer. */
export interface TypedArrayConstructor<T extends AnyTypedArray = AnyTypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

const constructors: Record<string, TypedArrayConstructor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
// Float16Array exists from Node 24 on; accept it where the runtime has it.
const f16 = (globalThis as { Float16Array?: TypedArrayConstructor }).Float16Array;
if (f16) constructors.Float16Array = f16;

/** True for typed arrays of any kind (a Node Buffer counts as a Uint8Array; a DataView does not). */
export function isTypedArray(v: unknown): v is AnyTypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** The kind name of a typed array ("Float32Array"); a Node Buffer reports "Uint8Array". */
export function typedArrayName(v: ArrayBufferView): string {
  // toString tag rather than constructor.name: a Buffer is a Uint8Array subclass and must travel as one.
  return Object.prototype.toString.call(v).slice(8, -1);
}

/** The constructor for a kind name, or undefined for an unknown name. */
export function typedArrayConstructor(name: string): TypedArrayConstructor | undefined {
  return Object.hasOwn(constructors, name) ? constructors[name] : undefined;
}

/** All kind names this runtime supports. */
export function typedArrayNames(): string[] {
  return Object.keys(constructors);
}

/** A new zero-filled typed array of `a`'s kind (a Buffer gives a plain Uint8Array) with `length` elements. */
export function allocLike<T extends AnyTypedArray>(a: T, length: number): T {
  const name = typedArrayName(a);
  const ctor = typedArrayConstructor(name) ?? brokenInvariant(`a typed array of unknown kind ${name}`);
  return new ctor(length) as T;
}

/** Concatenate two typed arrays of the same kind into a new one. */
export function concatTyped<T extends AnyTypedArray>(a: T, b: T): T {
  const out = allocLike(a, a.length + b.length);
  (out as Uint8Array).set(a as Uint8Array, 0);
  (out as Uint8Array).set(b as Uint8Array, a.length);
  return out;
}

/** A copy with its own buffer, of the same kind (a Buffer comes back as a plain Uint8Array). */
export function copyTyped<T extends AnyTypedArray>(a: T): T {
  const out = allocLike(a, a.length);
  (out as Uint8Array).set(a as Uint8Array);
  return out;
}

/** A copy of any view (typed array or DataView) with its own buffer. */
export function copyView(v: ArrayBufferView): ArrayBufferView {
  if (v instanceof DataView) return new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  return copyTyped(v as AnyTypedArray);
}
