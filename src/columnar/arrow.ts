/**
 * Zero-copy conversion between Ristretto columns and apache-arrow vectors: a flat column ↔ a primitive vector,
 * a jagged column ↔ `List<T>`, a collection ↔ `List<Struct<…>>`. Arrow's `Data` keeps references to the very
 * typed arrays it is given (offsets as `valueOffsets`, content as the child's values), and hands them back on
 * import. (Arrow re-wraps a `Uint8Array` in a new view object over the same memory, so masks round-trip as
 * the same bytes rather than the same object.) Copies happen only where Arrow's memory layout differs from ours: `Bool` (bit-packed) and 64-bit
 * integers (BigInt64) are converted on import; nulls are rejected.
 */
import {
  DataType,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int8,
  List,
  type RecordBatch,
  Struct,
  Uint16,
  Uint32,
  Uint8,
  Vector,
  makeData,
} from 'apache-arrow';
import type { Data } from 'apache-arrow';
import type { Collection, Column, Jagged, NumericArray } from './types.ts';
import { checkContent, checkJagged, eventsOf } from './shape.ts';
import { ColumnarError } from './errors.ts';

/** Arrow data whose type or nulls have no zero-copy (or any) equivalent among Ristretto columns. */
export class ArrowConversionError extends ColumnarError {}

function arrowTypeOf(a: NumericArray, where: string): DataType {
  if (a instanceof Float64Array) return new Float64();
  if (a instanceof Float32Array) return new Float32();
  if (a instanceof Int32Array) return new Int32();
  if (a instanceof Uint32Array) return new Uint32();
  if (a instanceof Int16Array) return new Int16();
  if (a instanceof Uint16Array) return new Uint16();
  if (a instanceof Int8Array) return new Int8();
  if (a instanceof Uint8Array) return new Uint8();
  throw new ArrowConversionError(
    `toArrow: ${where} is not a supported typed array (${(a as object)?.constructor?.name ?? typeof a})`,
    { where },
    'Use Float64/32, (U)Int32/16/8 typed arrays.',
  );
}

function primitiveData(a: NumericArray, where: string): Data {
  return makeData({ type: arrowTypeOf(a, where), length: a.length, nullCount: 0, data: a } as never);
}

/**
 * A flat column as an Arrow primitive vector sharing the same memory.
 *
 * @example
 * ```ts
 * const v = flatToArrow(metPt);                 // Vector<Float32>; v.data[0].values === metPt
 * ```
 */
export function flatToArrow(x: NumericArray): Vector {
  return new Vector([primitiveData(x, 'column')]);
}

/**
 * A jagged column as an Arrow `List<T>` vector: `valueOffsets` is `x.offsets` and the child's values are
 * `x.content` (the same objects, no copy).
 *
 * @example
 * ```ts
 * const v = jaggedToArrow(jetPt);
 * v.data[0].valueOffsets === jetPt.offsets;     // true
 * ```
 */
export function jaggedToArrow(x: Jagged): Vector {
  const n = checkJagged('jaggedToArrow', 'input', x);
  const child = primitiveData(x.content, 'content');
  const type = new List(new Field('item', child.type, false));
  return new Vector([makeData({ type, length: n, nullCount: 0, valueOffsets: x.offsets, child } as never)]);
}

/**
 * A collection as an Arrow `List<Struct<fields>>` vector; every field's typed array becomes a struct child's
 * values unchanged.
 *
 * @example
 * ```ts
 * const v = collectionToArrow(muons);           // List<Struct<{pt: Float32, eta: Float32, ...}>>
 * ```
 */
export function collectionToArrow(c: Collection): Vector {
  const n = eventsOf('collectionToArrow', 'collection', c.offsets);
  const names = Object.keys(c.fields);
  const children = names.map((f) => {
    const values = c.fields[f];
    checkContent('collectionToArrow', `field '${f}'`, c.offsets, values);
    return primitiveData(values, `field '${f}'`);
  });
  // A struct's length is the shortest field (they are normally all equal to the content length).
  const length = children.reduce((m, d) => Math.min(m, d.length), names.length > 0 ? Infinity : c.offsets[n]);
  const struct = makeData({
    type: new Struct(names.map((f, i) => new Field(f, children[i].type, false))),
    length,
    nullCount: 0,
    children,
  } as never);
  const type = new List(new Field('item', struct.type, false));
  return new Vector([makeData({ type, length: n, nullCount: 0, valueOffsets: c.offsets, child: struct } as never)]);
}

/** Any Ristretto column as an Arrow vector (flat → primitive, jagged → List, collection → List<Struct>). */
export function toArrow(x: Column): Vector {
  if (ArrayBuffer.isView(x)) return flatToArrow(x);
  if ('content' in x) return jaggedToArrow(x);
  return collectionToArrow(x);
}

function singleData(v: Vector | Data, where: string): Data {
  if (v instanceof Vector) {
    if (v.data.length !== 1) {
      throw new ArrowConversionError(
        `fromArrow: ${where} has ${v.data.length} chunks; a zero-copy column needs exactly one`,
        { where, chunks: v.data.length },
        'Convert each record batch (vector.data[i]) separately, one chunk per call.',
      );
    }
    return v.data[0];
  }
  return v;
}

function rejectNulls(d: Data, where: string): void {
  if (d.nullCount > 0) {
    throw new ArrowConversionError(
      `fromArrow: ${where} has ${d.nullCount} nulls, which Ristretto columns cannot hold`,
      { where, nullCount: d.nullCount },
      'Fill nulls before converting (e.g. with NaN or an empty list), or drop those rows.',
    );
  }
}

function primitiveValues(d: Data, where: string): NumericArray {
  rejectNulls(d, where);
  const t = d.type;
  if (DataType.isFloat(t) || DataType.isInt(t)) {
    const values = d.values as unknown;
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
      // 64-bit integers have no typed-array peer in our columns: copy to Float64 (exact up to 2^53).
      const out = new Float64Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = Number(values[i]);
      return out;
    }
    if (!ArrayBuffer.isView(values) || (values instanceof Uint16Array && DataType.isFloat(t))) {
      // Float16 arrives as raw Uint16 bits.
      throw unsupported(t, where);
    }
    // IPC readers hand out buffers padded to 8 bytes: trim to the length (a view, still no copy).
    const typed = values as NumericArray;
    return typed.length > d.length ? (typed.subarray(0, d.length) as NumericArray) : typed;
  }
  if (DataType.isBool(t)) {
    // Arrow packs booleans in bits; masks here are one byte per element, so this one copies.
    const bits = d.values as Uint8Array;
    const out = new Uint8Array(d.length);
    for (let i = 0, b = d.offset; i < d.length; i++, b++) out[i] = (bits[b >> 3] >> (b & 7)) & 1;
    return out;
  }
  throw unsupported(t, where);
}

function unsupported(t: DataType, where: string): ArrowConversionError {
  return new ArrowConversionError(
    `fromArrow: ${where} has Arrow type ${String(t)}, which has no Ristretto column equivalent`,
    { where, type: String(t) },
    'Supported: Float64/32, Int/Uint 8-32 (zero-copy), Int64/Uint64 and Bool (copied), List of those, List<Struct> of those.',
  );
}

/**
 * An Arrow primitive, `List<primitive>` or `List<Struct<primitive…>>` vector (one chunk) as a flat column, jagged
 * column or collection, reusing Arrow's typed arrays.
 *
 * @example
 * ```ts
 * const muons = fromArrow(table.getChild('Muon')!) as Collection;
 * ```
 */
export function fromArrow(v: Vector | Data, where = 'vector'): Column {
  const d = singleData(v, where);
  if (DataType.isList(d.type)) {
    rejectNulls(d, where);
    // Arrow JS keeps buffers relative to `d.offset` already (only the null bitmap uses it).
    const offsets = d.valueOffsets.length === d.length + 1 ? d.valueOffsets : d.valueOffsets.subarray(0, d.length + 1);
    const child = d.children[0];
    if (DataType.isStruct(child.type)) {
      rejectNulls(child, `${where} struct`);
      const fields: Record<string, NumericArray> = {};
      child.type.children.forEach((f: Field, i: number) => {
        fields[f.name] = primitiveValues(child.children[i], `${where}.${f.name}`);
      });
      return { offsets, fields };
    }
    return { offsets, content: primitiveValues(child, `${where} content`) };
  }
  if (DataType.isStruct(d.type)) {
    throw new ArrowConversionError(
      `fromArrow: ${where} is a Struct without a List around it`,
      { where },
      'Convert its children one by one (flat columns), or wrap per-event structs in a List.',
    );
  }
  return primitiveValues(d, where);
}

/**
 * Every column of a record batch, converted with {@link fromArrow}, keyed by column name.
 *
 * @example
 * ```ts
 * for (const batch of reader) { const chunk = fromArrowBatch(batch); ... }
 * ```
 */
export function fromArrowBatch(batch: RecordBatch): Record<string, Column> {
  const out: Record<string, Column> = {};
  batch.schema.fields.forEach((f, i) => {
    out[f.name] = fromArrow(batch.data.children[i], f.name);
  });
  return out;
}
