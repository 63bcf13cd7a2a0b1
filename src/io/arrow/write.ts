/**
 * Arrow IPC file writer. Typed arrays go into Arrow `Data` as they are (no copy): flat columns as
 * primitive vectors, jagged columns as List<T> whose offsets and child values are the very arrays of
 * the Ristretto column. The exceptions keep the declared type for other readers (pyarrow): `bool` is
 * bit-packed into Arrow Bool, `int64` / `uint64` values become Int64 / Uint64 (one converting copy).
 * Strings (bytes + offsets) become Utf8 over the same two arrays, lists of lists List<List<T>>.
 * Several chunks become several record batches of one file.
 */
import { createWriteStream } from 'node:fs';
import {
  Field,
  List,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Type,
  Utf8,
  type Data,
  type DataType,
  type Int,
} from 'apache-arrow';
import type { NumericArray } from '../../columnar/types.ts';
import { RistrettoError } from '../../errors/index.ts';
import { isDoublyJagged, type AnyColumn, type Column, type DType } from '../reader.ts';
import type { ColumnKinds } from '../parquet/write.ts';
import { dtypeOfArray } from '../parquet/dtype.ts';
import { arrowTypeOf, DTYPE_KEY } from './types.ts';

export class ArrowWriteError extends RistrettoError {}

function isJagged(c: Column): c is Extract<Column, { offsets: Int32Array }> {
  return !ArrayBuffer.isView(c);
}

function lengthOf(c: AnyColumn): number {
  return ArrayBuffer.isView(c) ? c.length : c.offsets.length - 1;
}

/** The Arrow schema for columns with the given dtypes (taken from the arrays when not given). */
export function arrowSchemaOf(
  columns: Record<string, AnyColumn>,
  dtypes: Readonly<Record<string, DType>> = {},
  kinds: ColumnKinds = {},
): Schema {
  const fields = Object.entries(columns).map(([name, c]) => {
    if (kinds[name] === 'string') return new Field(name, new Utf8(), false);
    const two = isDoublyJagged(c);
    const inner = two
      ? c.content.content
      : isJagged(c as Column)
        ? (c as Extract<Column, { offsets: Int32Array }>).content
        : (c as NumericArray);
    const dtype = dtypes[name] ?? dtypeOfArray(inner);
    const t = arrowTypeOf(dtype);
    const meta = new Map([[DTYPE_KEY, dtype]]);
    const list = (x: DataType) => new List(new Field('item', x, false));
    const type: DataType = two ? list(list(t)) : isJagged(c as Column) ? list(t) : t;
    return new Field(name, type, false, meta);
  });
  return new Schema(fields);
}

/** One record batch over the columns, sharing their memory. */
export function recordBatchOf(schema: Schema, columns: Record<string, AnyColumn>, file: string): RecordBatch {
  const names = schema.fields.map((f) => f.name);
  const length = names.length ? lengthOf(columns[names[0]]) : 0;
  const children: Data[] = schema.fields.map((f) => {
    const c = columns[f.name];
    if (!c)
      throw new ArrowWriteError(
        `chunk lacks column ${f.name} of the schema`,
        { file, column: f.name },
        'write the same columns in every chunk',
      );
    if (lengthOf(c) !== length) {
      throw new ArrowWriteError(
        `column ${f.name} has ${lengthOf(c)} entries, ${names[0]} has ${length}`,
        { file, column: f.name },
        'all columns of a chunk must cover the same entries',
      );
    }
    if (f.type.typeId === Type.Utf8) {
      if (!isJagged(c as Column))
        throw new ArrowWriteError(`string column ${f.name} is not bytes with offsets`, { file, column: f.name });
      const s = c as Extract<Column, { offsets: Int32Array }>;
      return makeData({
        type: f.type,
        length,
        nullCount: 0,
        valueOffsets: s.offsets,
        data: s.content as Uint8Array,
      } as never);
    }
    if (isDoublyJagged(c)) {
      const listType = (f.type as List).valueType as List;
      const leaf = makeData({
        type: listType.valueType,
        length: c.content.content.length,
        nullCount: 0,
        data: storedValues(listType.valueType, c.content.content, file, f.name),
      } as never);
      const mid = makeData({
        type: listType,
        length: c.content.offsets.length - 1,
        nullCount: 0,
        valueOffsets: c.content.offsets,
        child: leaf,
      } as never);
      return makeData({ type: f.type, length, nullCount: 0, valueOffsets: c.offsets, child: mid } as never);
    }
    if (!isJagged(c as Column))
      return makeData({
        type: f.type,
        length,
        nullCount: 0,
        data: storedValues(f.type, c as NumericArray, file, f.name),
      } as never);
    const j = c as Extract<Column, { offsets: Int32Array }>;
    const itemType = (f.type as List).valueType;
    // A column whose offsets do not start at 0 is a window into a larger content array; Arrow offsets
    // index the child directly, so pass them unchanged with the full content as child.
    const child = makeData({
      type: itemType,
      length: j.content.length,
      nullCount: 0,
      data: storedValues(itemType, j.content, file, f.name),
    } as never);
    return makeData({ type: f.type, length, nullCount: 0, valueOffsets: j.offsets, child } as never);
  });
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** The values buffer Arrow stores for `type`: the array itself, bit-packed booleans, or 64-bit integers. */
function storedValues(type: DataType, values: NumericArray, file: string, column: string): ArrayBufferView {
  if (type.typeId === Type.Bool) {
    const bits = new Uint8Array((values.length + 7) >> 3);
    for (let i = 0; i < values.length; i++) if (values[i]) bits[i >> 3] |= 1 << (i & 7);
    return bits;
  }
  if (type.typeId === Type.Int && (type as Int).bitWidth === 64) {
    const signed = (type as Int).isSigned;
    const out = signed ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || (!signed && v < 0)) {
        throw new ArrowWriteError(
          `column ${column} is declared ${signed ? 'int64' : 'uint64'} but entry ${i} holds ${v}`,
          { file, column, entry: i },
          'declare the column float64 (dtypes option), or fix the values',
        );
      }
      out[i] = BigInt(v);
    }
    return out;
  }
  return values;
}

/** Streams record batches into an Arrow IPC file (random-access "file" format). */
export class ArrowFileWriter {
  private writer: RecordBatchFileWriter | undefined;
  private done: Promise<void> | undefined;
  private schema: Schema | undefined;

  constructor(
    readonly path: string,
    private readonly dtypes: Readonly<Record<string, DType>> = {},
    private readonly kinds: ColumnKinds = {},
  ) {}

  /** Append one chunk (all columns the same length); the first chunk fixes the schema. */
  write(columns: Record<string, AnyColumn>): void {
    this.append(columns);
  }

  /** `write`, returning the file writer (made with the schema of the first chunk). */
  private append(columns: Record<string, AnyColumn>): RecordBatchFileWriter {
    let writer = this.writer;
    let schema = this.schema;
    if (!writer || !schema) {
      schema = this.schema = arrowSchemaOf(columns, this.dtypes, this.kinds);
      writer = this.writer = new RecordBatchFileWriter();
      const out = createWriteStream(this.path);
      const stream = writer.toNodeStream();
      this.done = new Promise<void>((ok, fail) => {
        out.on('finish', ok).on('error', fail);
        stream.on('error', fail);
      }).catch((e: unknown) => {
        throw new ArrowWriteError(
          `cannot write ${this.path}: ${(e as Error).message}`,
          { file: this.path },
          'check the directory exists and is writable',
          { cause: e },
        );
      });
      stream.pipe(out);
    }
    writer.write(recordBatchOf(schema, columns, this.path));
    return writer;
  }

  /** Finish the file (footer) and wait until it is on disk. */
  async close(): Promise<void> {
    const writer = this.writer ?? this.append({});
    writer.finish();
    writer.close();
    await this.done;
  }
}

/**
 * Write columns to an Arrow IPC file as one record batch, without copying them.
 * Jagged columns become List<T>; counts columns are ordinary columns. `dtypes` records the Ristretto
 * dtype (e.g. `bool`, `int64`) where the typed array alone is ambiguous.
 */
export async function writeArrowIPC(
  columns: Record<string, Column>,
  path: string,
  opts: { dtypes?: Readonly<Record<string, DType>> } = {},
): Promise<void> {
  const w = new ArrowFileWriter(path, opts.dtypes);
  w.write(columns);
  await w.close();
}
