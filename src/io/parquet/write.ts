/**
 * Parquet writer for Ristretto columns: each chunk of columns becomes one row group. Jagged columns are
 * written as list<T> (3-level LIST, required elements), flat and counts columns as required leaves,
 * SNAPPY-compressed. Repetition/definition levels are built straight from the offsets (hyparquet-writer's
 * public API wants one JS array per event); pages, statistics and the footer are hyparquet-writer's.
 */
import type { ColumnChunk, SchemaElement } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { writeColumn } from 'hyparquet-writer/src/column.js';
import type { NumericArray } from '../../columnar/types.ts';
import type { Column, DType } from '../reader.ts';
import { dtypeOfArray } from './dtype.ts';
import { ParquetError } from './errors.ts';

export class ParquetWriteError extends ParquetError {}

type ColumnEncoder = Parameters<typeof writeColumn>[0]['column'];
type PageData = Parameters<typeof writeColumn>[0]['pageData'];

function isJagged(c: Column): c is Extract<Column, { offsets: Int32Array }> {
  return !ArrayBuffer.isView(c);
}

function leafElement(name: string, dtype: DType): SchemaElement {
  const int = (bitWidth: 8 | 16 | 32 | 64, isSigned: boolean): Partial<SchemaElement> => ({
    // Converted type only: hyparquet-writer encodes the INTEGER logical type's bitWidth with the wrong
    // thrift type, which DuckDB rejects ("TProtocolException: Invalid data"); readers accept UINT_64 etc.
    converted_type: `${isSigned ? 'INT' : 'UINT'}_${bitWidth}` as SchemaElement['converted_type'],
  });
  const base = { name, repetition_type: 'REQUIRED' as const };
  switch (dtype) {
    case 'bool':
      return { ...base, type: 'BOOLEAN' };
    case 'float32':
      return { ...base, type: 'FLOAT' };
    case 'float64':
      return { ...base, type: 'DOUBLE' };
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'int64':
      return { ...base, type: 'INT64' };
    case 'uint64':
      return { ...base, type: 'INT64', ...int(64, false) };
    case 'uint32':
      return { ...base, type: 'INT32', ...int(32, false) };
    case 'int8':
      return { ...base, type: 'INT32', ...int(8, true) };
    case 'uint8':
      return { ...base, type: 'INT32', ...int(8, false) };
    case 'int16':
      return { ...base, type: 'INT32', ...int(16, true) };
    case 'uint16':
      return { ...base, type: 'INT32', ...int(16, false) };
  }
}

/** Values in the representation hyparquet-writer's PLAIN encoder accepts for `dtype` (booleans, bigints, signed uint32). */
function physicalValues(v: NumericArray, dtype: DType): ArrayLike<unknown> & Iterable<unknown> {
  switch (dtype) {
    case 'bool':
      return Array.from(v, (x) => x !== 0);
    case 'int64':
      return BigInt64Array.from(v, (x) => BigInt(x));
    case 'uint64':
      return BigUint64Array.from(v, (x) => BigInt(x));
    case 'uint32':
      return Array.from(v); // hyparquet-writer maps plain numbers > 2^31 to the signed range
    default:
      return v;
  }
}

interface ColumnPlan {
  name: string;
  dtype: DType;
  jagged: boolean;
  /** Schema elements of this column (one leaf, or the LIST group, its repeated node and the leaf). */
  elements: SchemaElement[];
}

/** Streams chunks of columns into a Parquet file, one row group per chunk. */
export class ParquetFileWriter {
  private pq: ParquetWriter | undefined;
  private plans: ColumnPlan[] = [];

  constructor(
    readonly path: string,
    private readonly dtypes: Readonly<Record<string, DType>> = {},
  ) {}

  /** Append one chunk (all columns covering the same entries); the first chunk fixes the schema. */
  write(columns: Record<string, Column>): void {
    if (!this.pq) this.start(columns);
    const names = this.plans.map((p) => p.name);
    const numRows = names.length ? rowsOf(columns[names[0]!]!) : 0;
    if (numRows === 0) return;
    const pq = this.pq!;
    const chunks: ColumnChunk[] = [];
    const groupStart = pq.writer.offset;
    for (const plan of this.plans) {
      const c = columns[plan.name];
      if (!c || isJagged(c) !== plan.jagged) {
        throw new ParquetWriteError(`chunk lacks ${plan.jagged ? 'jagged' : 'flat'} column ${plan.name}`, { file: this.path, column: plan.name }, 'write the same columns in every chunk');
      }
      if (rowsOf(c) !== numRows) {
        throw new ParquetWriteError(`column ${plan.name} has ${rowsOf(c)} entries, ${names[0]} has ${numRows}`, { file: this.path, column: plan.name }, 'all columns of a chunk must cover the same entries');
      }
      const schemaPath = [pq.schema[0]!, ...plan.elements];
      const element = plan.elements[plan.elements.length - 1]!;
      const column: ColumnEncoder = {
        columnName: plan.elements.map((e) => e.name).join('.'),
        element,
        schemaPath,
        codec: pq.codec,
        compressors: pq.compressors,
        stats: true,
        pageSize: 1 << 20,
        columnIndex: false,
        offsetIndex: true,
      };
      const pageData = isJagged(c) ? listPageData(c.offsets, c.content, plan.dtype) : { values: physicalValues(c, plan.dtype), definitionLevels: [], repetitionLevels: [], maxDefinitionLevel: 0 };
      const result = writeColumn({ writer: pq.writer, column, pageData: pageData as PageData });
      chunks.push(result.chunk);
      pq.pendingIndexes.push(result);
    }
    let total = 0n;
    for (const ch of chunks) total += ch.meta_data?.total_uncompressed_size ?? 0n;
    pq.num_rows += BigInt(numRows);
    pq.row_groups.push({ columns: chunks, total_byte_size: total, num_rows: BigInt(numRows), total_compressed_size: BigInt(pq.writer.offset - groupStart) });
    pq.writer.flush?.();
  }

  /** Write the footer and close the file. */
  async close(): Promise<void> {
    if (!this.pq) this.start({});
    await this.pq!.finish();
  }

  private start(columns: Record<string, Column>): void {
    this.plans = Object.entries(columns).map(([name, c]) => {
      const jagged = isJagged(c);
      const dtype = this.dtypes[name] ?? dtypeOfArray(jagged ? c.content : c);
      const elements: SchemaElement[] = jagged
        ? [
            { name, repetition_type: 'REQUIRED', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
            { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
            leafElement('element', dtype),
          ]
        : [leafElement(name, dtype)];
      return { name, dtype, jagged, elements };
    });
    const schema: SchemaElement[] = [{ name: 'schema', num_children: this.plans.length }, ...this.plans.flatMap((p) => p.elements)];
    try {
      this.pq = new ParquetWriter({ writer: fileWriter(this.path), schema, codec: 'SNAPPY', createdBy: 'ristretto' });
    } catch (e) {
      throw new ParquetWriteError(`cannot create ${this.path}: ${(e as Error).message}`, { file: this.path }, 'check that the directory exists and is writable', { cause: e });
    }
  }
}

function rowsOf(c: Column): number {
  return isJagged(c) ? c.offsets.length - 1 : c.length;
}

/**
 * Levels of a list<T> with required elements: one slot per element plus one per empty list;
 * definition 1 = element, 0 = empty list; repetition 0 starts a row. Values are aligned with the slots
 * (undefined for empty lists), as hyparquet-writer expects.
 */
function listPageData(offsets: Int32Array, content: NumericArray, dtype: DType): PageData {
  const n = offsets.length - 1;
  let slots = 0;
  for (let i = 0; i < n; i++) slots += Math.max(1, offsets[i + 1]! - offsets[i]!);
  const def = new Array<number>(slots);
  const rep = new Array<number>(slots);
  const physical = physicalValues(content.subarray(offsets[0]!, offsets[n]!), dtype);
  const values = new Array<unknown>(slots);
  let s = 0;
  const base = offsets[0]!;
  for (let i = 0; i < n; i++) {
    const a = offsets[i]!;
    const b = offsets[i + 1]!;
    if (a === b) {
      def[s] = 0;
      rep[s] = 0;
      values[s++] = undefined;
      continue;
    }
    for (let k = a; k < b; k++) {
      def[s] = 1;
      rep[s] = k === a ? 0 : 1;
      values[s++] = physical[k - base];
    }
  }
  return { values, definitionLevels: def, repetitionLevels: rep, maxDefinitionLevel: 1 } as PageData;
}

/** Write columns to a Parquet file as one row group (list<T> for jagged columns, counts kept as columns). */
export async function writeParquet(columns: Record<string, Column>, path: string, opts: { dtypes?: Readonly<Record<string, DType>> } = {}): Promise<void> {
  const w = new ParquetFileWriter(path, opts.dtypes);
  w.write(columns);
  await w.close();
}

