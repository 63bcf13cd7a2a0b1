/**
 * Parquet writer for Ristretto columns: each chunk of columns becomes one row group. Jagged columns are
 * written as list<T> (3-level LIST, required elements), lists of lists (`jagged2`) as list<list<T>>,
 * strings as UTF8 byte arrays, flat and counts columns as required leaves,
 * SNAPPY-compressed. Repetition/definition levels are built straight from the offsets (hyparquet-writer's
 * public API wants one JS array per event); pages, statistics and the footer are hyparquet-writer's.
 */
import type { ColumnChunk, SchemaElement } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { writeColumn } from 'hyparquet-writer/src/column.js';
import type { NumericArray } from '../../columnar/types.ts';
import { isDoublyJagged, type AnyColumn, type Column, type DType, type DoublyJagged } from '../reader.ts';
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

/** Columns whose shape the arrays alone do not tell: strings (bytes + offsets) and lists of lists. */
export type ColumnKinds = Readonly<Record<string, 'string' | 'jagged2'>>;

interface ColumnPlan {
  name: string;
  dtype: DType;
  jagged: boolean;
  kind: 'flat' | 'jagged' | 'string' | 'jagged2';
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
    private readonly kinds: ColumnKinds = {},
  ) {}

  /** Append one chunk (all columns covering the same entries); the first chunk fixes the schema. */
  write(columns: Record<string, AnyColumn>): void {
    const pq = this.pq ?? this.start(columns);
    const names = this.plans.map((p) => p.name);
    const numRows = names.length ? rowsOf(columns[names[0]]) : 0;
    if (numRows === 0) return;
    const chunks: ColumnChunk[] = [];
    const groupStart = pq.writer.offset;
    for (const plan of this.plans) {
      const c = columns[plan.name];
      if (!c || isJagged(c as Column) !== plan.jagged || (plan.kind === 'jagged2') !== isDoublyJagged(c)) {
        throw new ParquetWriteError(
          `chunk lacks ${plan.jagged ? 'jagged' : 'flat'} column ${plan.name}`,
          { file: this.path, column: plan.name },
          'write the same columns in every chunk',
        );
      }
      if (rowsOf(c) !== numRows) {
        throw new ParquetWriteError(
          `column ${plan.name} has ${rowsOf(c)} entries, ${names[0]} has ${numRows}`,
          { file: this.path, column: plan.name },
          'all columns of a chunk must cover the same entries',
        );
      }
      const schemaPath = [pq.schema[0], ...plan.elements];
      const element = plan.elements[plan.elements.length - 1];
      const column: ColumnEncoder = {
        columnName: plan.elements.map((e) => e.name).join('.'),
        element,
        schemaPath,
        codec: pq.codec,
        compressors: pq.compressors,
        stats: plan.kind !== 'string',
        pageSize: 1 << 20,
        columnIndex: false,
        offsetIndex: true,
      };
      const pageData =
        plan.kind === 'string'
          ? stringPageData(c as Extract<Column, { offsets: Int32Array }>)
          : plan.kind === 'jagged2'
            ? list2PageData(c as DoublyJagged, plan.dtype)
            : isJagged(c as Column)
              ? listPageData(
                  (c as Extract<Column, { offsets: Int32Array }>).offsets,
                  (c as Extract<Column, { offsets: Int32Array }>).content,
                  plan.dtype,
                )
              : {
                  values: physicalValues(c as NumericArray, plan.dtype),
                  definitionLevels: [],
                  repetitionLevels: [],
                  maxDefinitionLevel: 0,
                };
      const result = writeColumn({ writer: pq.writer, column, pageData: pageData as PageData });
      chunks.push(result.chunk);
      pq.pendingIndexes.push(result);
    }
    let total = 0n;
    for (const ch of chunks) total += ch.meta_data?.total_uncompressed_size ?? 0n;
    pq.num_rows += BigInt(numRows);
    pq.row_groups.push({
      columns: chunks,
      total_byte_size: total,
      num_rows: BigInt(numRows),
      total_compressed_size: BigInt(pq.writer.offset - groupStart),
    });
    pq.writer.flush?.();
  }

  /** Write the footer and close the file. */
  async close(): Promise<void> {
    await (this.pq ?? this.start({})).finish();
  }

  private start(columns: Record<string, AnyColumn>): ParquetWriter {
    this.plans = Object.entries(columns).map(([name, c]) => {
      const jagged = isJagged(c as Column);
      const kind = this.kinds[name] ?? (isDoublyJagged(c) ? 'jagged2' : jagged ? 'jagged' : 'flat');
      const innermost = isDoublyJagged(c)
        ? c.content.content
        : jagged
          ? (c as Extract<Column, { offsets: Int32Array }>).content
          : (c as NumericArray);
      const dtype = this.dtypes[name] ?? dtypeOfArray(innermost);
      const list = (n: string, child: SchemaElement[]): SchemaElement[] => [
        {
          name: n,
          repetition_type: 'REQUIRED',
          converted_type: 'LIST',
          logical_type: { type: 'LIST' },
          num_children: 1,
        },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...child,
      ];
      const elements: SchemaElement[] =
        kind === 'string'
          ? [
              {
                name,
                repetition_type: 'REQUIRED',
                type: 'BYTE_ARRAY',
                converted_type: 'UTF8',
                logical_type: { type: 'STRING' },
              },
            ]
          : kind === 'jagged2'
            ? list(name, list('element', [leafElement('element', dtype)]))
            : jagged
              ? list(name, [leafElement('element', dtype)])
              : [leafElement(name, dtype)];
      return { name, dtype, jagged, kind, elements };
    });
    const schema: SchemaElement[] = [
      { name: 'schema', num_children: this.plans.length },
      ...this.plans.flatMap((p) => p.elements),
    ];
    try {
      this.pq = new ParquetWriter({ writer: fileWriter(this.path), schema, codec: 'SNAPPY', createdBy: 'ristretto' });
      return this.pq;
    } catch (e) {
      throw new ParquetWriteError(
        `cannot create ${this.path}: ${(e as Error).message}`,
        { file: this.path },
        'check that the directory exists and is writable',
        { cause: e },
      );
    }
  }
}

function rowsOf(c: AnyColumn): number {
  return ArrayBuffer.isView(c) ? c.length : c.offsets.length - 1;
}

/**
 * Levels of a list<T> with required elements: one slot per element plus one per empty list;
 * definition 1 = element, 0 = empty list; repetition 0 starts a row. Values are aligned with the slots
 * (undefined for empty lists), as hyparquet-writer expects.
 */
function listPageData(offsets: Int32Array, content: NumericArray, dtype: DType): PageData {
  const n = offsets.length - 1;
  let slots = 0;
  for (let i = 0; i < n; i++) slots += Math.max(1, offsets[i + 1] - offsets[i]);
  const def = new Array<number>(slots);
  const rep = new Array<number>(slots);
  const physical = physicalValues(content.subarray(offsets[0], offsets[n]), dtype);
  const values = new Array<unknown>(slots);
  let s = 0;
  const base = offsets[0];
  for (let i = 0; i < n; i++) {
    const a = offsets[i];
    const b = offsets[i + 1];
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

/** A string column (UTF-8 bytes + offsets) as one byte array per row. */
function stringPageData(c: Extract<Column, { offsets: Int32Array }>): PageData {
  const bytes = c.content as Uint8Array;
  const n = c.offsets.length - 1;
  const values = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) values[i] = bytes.subarray(c.offsets[i], c.offsets[i + 1]);
  return { values, definitionLevels: [], repetitionLevels: [], maxDefinitionLevel: 0 } as unknown as PageData;
}

/**
 * Levels of list<list<T>> with required lists and elements: definition 0 = empty outer list, 1 = empty
 * inner list, 2 = a value; repetition 0 starts a row, 1 a new inner list, 2 the next value of one.
 */
function list2PageData(c: DoublyJagged, dtype: DType): PageData {
  const outer = c.offsets;
  const inner = c.content.offsets;
  const physical = physicalValues(c.content.content, dtype);
  const def: number[] = [];
  const rep: number[] = [];
  const values: unknown[] = [];
  for (let i = 0; i + 1 < outer.length; i++) {
    if (outer[i] === outer[i + 1]) {
      def.push(0);
      rep.push(0);
      values.push(undefined);
      continue;
    }
    for (let j = outer[i]; j < outer[i + 1]; j++) {
      const r = j === outer[i] ? 0 : 1;
      if (inner[j] === inner[j + 1]) {
        def.push(1);
        rep.push(r);
        values.push(undefined);
        continue;
      }
      for (let k = inner[j]; k < inner[j + 1]; k++) {
        def.push(2);
        rep.push(k === inner[j] ? r : 2);
        values.push(physical[k]);
      }
    }
  }
  return { values, definitionLevels: def, repetitionLevels: rep, maxDefinitionLevel: 2 } as PageData;
}

/** Write columns to a Parquet file as one row group (list<T> for jagged columns, counts kept as columns). */
export async function writeParquet(
  columns: Record<string, Column>,
  path: string,
  opts: { dtypes?: Readonly<Record<string, DType>> } = {},
): Promise<void> {
  const w = new ParquetFileWriter(path, opts.dtypes);
  w.write(columns);
  await w.close();
}
