/** Per-event concatenation of two collections (muons ∪ electrons → leptons). */
import type { Collection, NumericArray } from './types.ts';
import { checkContent, ctorOf, eventsOf } from './shape.ts';
import { lazyRecord } from './lazy.ts';
import { FieldNotFoundError, InvalidArgumentError, LengthMismatchError } from './errors.ts';

/** Options of {@link concatenate}. */
export interface ConcatenateOptions {
  /** Adds an Int32 field recording where each object came from, e.g. `{ name: 'flavour', a: 13, b: 11 }`. */
  readonly tag?: { readonly name: string; readonly a: number; readonly b: number };
  /** Fields to keep (each must exist in both); default: every field the two collections have in common. */
  readonly fields?: readonly string[];
}

/**
 * Concatenates two collections event by event: event i lists a's objects, then b's. Keeps the fields common to
 * both (or `options.fields`); a field keeps its dtype when both sides agree, otherwise it becomes Float64Array.
 * Fields are built lazily, on first access.
 *
 * @example
 * ```ts
 * const leptons = concatenate(muons, electrons, { tag: { name: 'flavour', a: 13, b: 11 } });
 * leptons.fields.pt; leptons.fields.flavour; // Int32Array of 13 / 11
 * ```
 */
export function concatenate(a: Collection, b: Collection, options: ConcatenateOptions = {}): Collection {
  const op = 'concatenate';
  const n = eventsOf(op, 'first collection', a.offsets);
  const nb = eventsOf(op, 'second collection', b.offsets);
  if (nb !== n) throw new LengthMismatchError(op, 'second collection (events)', n, nb);
  const names = options.fields ?? Object.keys(a.fields).filter((f) => f in b.fields);
  for (const f of names) {
    if (!(f in a.fields)) throw new FieldNotFoundError(op, f, Object.keys(a.fields));
    if (!(f in b.fields)) throw new FieldNotFoundError(op, f, Object.keys(b.fields));
  }
  const tag = options.tag;
  if (tag !== undefined && names.includes(tag.name)) {
    throw new InvalidArgumentError(
      `${op}: tag field '${tag.name}' is also a field of both collections`,
      { operation: op, tag: tag.name },
      'Choose another tag name, or leave that field out with options.fields.',
    );
  }

  const offsets = new Int32Array(n + 1);
  const ao = a.offsets;
  const bo = b.offsets;
  let total = 0;
  for (let e = 0; e < n; e++) {
    total += ao[e + 1] - ao[e] + (bo[e + 1] - bo[e]);
    offsets[e + 1] = total;
  }
  if (total > 0x7fffffff) {
    throw new InvalidArgumentError(
      `${op}: ${total} objects exceed Int32 offsets`,
      { operation: op, total },
      'Process smaller chunks.',
    );
  }

  const build = (name: string): NumericArray => {
    if (tag !== undefined && name === tag.name) {
      const out = new Int32Array(total);
      for (let e = 0; e < n; e++) {
        const mid = offsets[e] + (ao[e + 1] - ao[e]);
        out.fill(tag.a, offsets[e], mid);
        out.fill(tag.b, mid, offsets[e + 1]);
      }
      return out;
    }
    const fa = a.fields[name];
    const fb = b.fields[name];
    checkContent(op, `first collection field '${name}'`, ao, fa);
    checkContent(op, `second collection field '${name}'`, bo, fb);
    const Ctor = ctorOf(fa) === ctorOf(fb) ? ctorOf(fa) : Float64Array;
    const out = new Ctor(total);
    let pos = 0;
    for (let e = 0; e < n; e++) {
      for (let j = ao[e], hi = ao[e + 1]; j < hi; j++) out[pos++] = fa[j];
      for (let j = bo[e], hi = bo[e + 1]; j < hi; j++) out[pos++] = fb[j];
    }
    return out;
  };
  const keys = tag === undefined ? names : [...names, tag.name];
  return { offsets, fields: lazyRecord(keys, build) };
}
