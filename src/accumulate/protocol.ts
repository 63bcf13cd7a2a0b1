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

/** Register the decoder for a binary tag; a module that defines a BinarySerializable class calls this once. */
export function registerBinaryType(tag: string, decode: BinaryDecoder): void {
  decoders.set(tag, decode);
}

/** Look up a decoder; an unknown tag means the defining module was never imported on this side. */
export function binaryDecoder(tag: string): BinaryDecoder {
  const d = decoders.get(tag);
  if (!d) {
    throw new Error(
      `no binary decoder registered for type "${tag}": import the module that defines it before decoding ` +
        `(known: ${[...decoders.keys()].join(', ') || 'none'})`,
    );
  }
  return d;
}
