/**
 * The Parquet footer (Thrift `FileMetaData`), decoded lazily. Opening a file decodes only the schema
 * and each row group's row count; a column chunk's metadata (codec, offsets, sizes) is decoded the first
 * time a read asks for it. 64-bit fields come out as plain numbers, statistics are never built.
 *
 * Why: a 20 M-event file of 200 row groups × 17 columns has a 300 KB footer, and decoding all of it
 * (a BigInt per 64-bit field, an object per statistic) cost 0.15–0.4 CPU-s per open — paid by the
 * main thread and again by every pool worker, although a worker reads a few columns of half the row
 * groups. Skipping over the row groups' bytes to find their row counts costs a few milliseconds.
 *
 * @example
 * ```ts
 * const footer = await readFooter(source);           // ByteSource from openSource(path)
 * const rows = footer.rowGroupRows;                   // rows per row group
 * const meta = footer.column(0, 3);                    // column chunk 3 of row group 0, decoded now
 * ```
 */
import type { CompressionCodec, Encoding, LogicalType, ParquetType, SchemaElement } from 'hyparquet';
import {
  CompressionCodecs,
  ConvertedTypes,
  Encodings,
  FieldRepetitionTypes,
  ParquetTypes,
} from 'hyparquet/src/constants.js';
import { internalError } from '../../errors/index.ts';
import { isUrl, type ByteSource } from '../source.ts';
import { loadCompressors } from './chunk.ts';
import { ParquetFormatError } from './errors.ts';
import { layout, T, ThriftCursor, ThriftError } from './thrift.ts';

// Field types of the footer's structs by field id (parquet.thrift): checked for every field met, read or skipped.
const FILE_META = layout({
  1: T.I32,
  2: T.LIST,
  3: T.I64,
  4: T.LIST,
  5: T.LIST,
  6: T.BINARY,
  7: T.LIST,
  8: T.STRUCT,
  9: T.BINARY,
});
const ROW_GROUP = layout({ 1: T.LIST, 2: T.I64, 3: T.I64, 4: T.LIST, 5: T.I64, 6: T.I64, 7: T.I16 });
const COLUMN_CHUNK = layout({
  1: T.BINARY,
  2: T.I64,
  3: T.STRUCT,
  4: T.I64,
  5: T.I32,
  6: T.I64,
  7: T.I32,
  8: T.STRUCT,
  9: T.BINARY,
});
const COLUMN_META = layout({
  1: T.I32,
  2: T.LIST,
  3: T.LIST,
  4: T.I32,
  5: T.I64,
  6: T.I64,
  7: T.I64,
  8: T.LIST,
  9: T.I64,
  10: T.I64,
  11: T.I64,
  12: T.STRUCT,
  13: T.LIST,
  14: T.I64,
  15: T.I32,
  16: T.STRUCT,
  17: T.STRUCT,
});
const SCHEMA_ELEMENT = layout({
  1: T.I32,
  2: T.I32,
  3: T.I32,
  4: T.BINARY,
  5: T.I32,
  6: T.I32,
  7: T.I32,
  8: T.I32,
  9: T.I32,
  10: T.STRUCT,
});

/** The metadata of one column chunk that reading it needs (Parquet's `ColumnMetaData`, 64-bit fields as numbers). */
export interface ColumnChunkMeta {
  readonly type: ParquetType;
  readonly encodings: readonly Encoding[];
  readonly path_in_schema: readonly string[];
  readonly codec: CompressionCodec;
  readonly num_values: number;
  readonly total_uncompressed_size: number;
  readonly total_compressed_size: number;
  readonly data_page_offset: number;
  readonly index_page_offset?: number;
  readonly dictionary_page_offset?: number;
  /** Set when the chunk lives in another file (`ColumnChunk.file_path`), which Ristretto does not read. */
  readonly file_path?: string;
}

/** First bytes fetched from the end of the file: most footers fit, so opening takes one read. */
const INITIAL_FETCH = 64 * 1024;
const MAGIC = 0x31524150; // "PAR1", little-endian

/**
 * Read and decode the footer of the Parquet file behind `source` (schema and row-group row counts now,
 * column chunks on demand). Decompressors are not loaded here: see `loadFooterCodecs`.
 * @throws ParquetFormatError naming the file when the footer is missing, truncated or damaged.
 */
export async function readFooter(source: ByteSource): Promise<ParquetFooter> {
  const file = source.name;
  const size = source.size;
  if (size < 12)
    throw footerError(
      file,
      `the file has ${size} bytes, fewer than a Parquet file's 12 bytes of magic and footer length`,
    );
  const tailStart = Math.max(0, size - INITIAL_FETCH);
  // A local file reads synchronously (no thread-pool hop); a root:// URL asynchronously, on the session
  // it is open on: its readSync would log in a second session (a relay thread) just for the footer.
  const readSync = isUrl(file) ? undefined : source.readSync?.bind(source);
  const tail = readSync ? readSync(tailStart, size) : await source.read(tailStart, size);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tail.length - 4, true) !== MAGIC)
    throw footerError(file, 'it does not end with the Parquet magic "PAR1"');
  const length = view.getUint32(tail.length - 8, true);
  if (length > size - 12)
    throw footerError(file, `its footer claims ${length} bytes, more than the ${size}-byte file holds`);
  let bytes: Uint8Array;
  if (length + 8 <= tail.length) bytes = tail.subarray(tail.length - 8 - length, tail.length - 8);
  else {
    const start = size - 8 - length;
    const head = readSync ? readSync(start, tailStart) : await source.read(start, tailStart);
    bytes = new Uint8Array(length);
    bytes.set(head, 0);
    bytes.set(tail.subarray(0, tail.length - 8), head.length);
  }
  return parseFooter(bytes, file);
}

/**
 * Load the decompressors the first row group's column chunks need. They are imported on demand
 * (chunk.ts): loaded here, while a read is still asynchronous, since decoding is not. The reader calls
 * this at its first `read`, not at open, so that a thread that opens a file only for its entry counts
 * (the main thread of a threads run) never loads libzstd (12–25 ms of CPU) or hyparquet-compressors.
 */
export async function loadFooterCodecs(footer: ParquetFooter): Promise<void> {
  if (footer.numRowGroups > 0) {
    const codecs: CompressionCodec[] = [];
    for (let c = 0; c < footer.columnCount(0); c++) {
      const codec = footer.column(0, c)?.codec;
      if (codec) codecs.push(codec);
    }
    await loadCompressors(codecs);
  }
}

/**
 * Decode footer bytes (the Thrift `FileMetaData`, without the trailing length and magic).
 * @throws ParquetFormatError naming `file` when they do not decode.
 */
export function parseFooter(bytes: Uint8Array, file: string): ParquetFooter {
  const c = new ThriftCursor(bytes);
  let version = 0;
  let numRows = -1;
  let schema: SchemaElement[] | undefined;
  let createdBy: string | undefined;
  const rowGroupRows: number[] = [];
  const columnsAt: number[] = [];
  try {
    c.struct(
      (id, type) => {
        if (id === 1) version = c.int(type, 'FileMetaData.version');
        else if (id === 2) schema = readSchema(c, type);
        else if (id === 3) numRows = c.int(type, 'FileMetaData.num_rows');
        else if (id === 4) scanRowGroups(c, type, rowGroupRows, columnsAt);
        else if (id === 6 && type === T.BINARY) createdBy = c.string();
        else c.skip(type); // key-value metadata, column orders, encryption
      },
      FILE_META,
      'FileMetaData',
    );
  } catch (e) {
    if (e instanceof ThriftError) throw footerError(file, `its footer does not decode: ${e.message}`, e);
    throw e;
  }
  if (!schema?.length) throw footerError(file, 'its footer has no schema');
  return new ParquetFooter(file, bytes, version, schema, numRows, rowGroupRows, columnsAt, createdBy);
}

/** `ParquetFooter.shipped()`: what decoding the footer found, as plain data. */
export interface ShippedFooter {
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly schema: readonly SchemaElement[];
  readonly numRows: number;
  readonly rowGroupRows: readonly number[];
  readonly columnsAt: readonly number[];
  readonly createdBy: string | undefined;
}

/** A decoded footer: schema and row counts at hand, column chunks decoded (once) when asked for. */
export class ParquetFooter {
  /** Per row group: the decoded column chunks so far, and where each column chunk's bytes start. */
  private readonly groups: ({ starts: Int32Array; metas: (ColumnChunkMeta | null | undefined)[] } | undefined)[];

  constructor(
    /** The file, for messages. */
    readonly file: string,
    private readonly bytes: Uint8Array,
    readonly version: number,
    /** Schema elements in file order (depth first), as hyparquet presents them. */
    readonly schema: readonly SchemaElement[],
    /** `FileMetaData.num_rows` as written (−1 when absent); readers add up `rowGroupRows` instead. */
    readonly numRows: number,
    /** Rows of each row group. */
    readonly rowGroupRows: readonly number[],
    /** Offset of each row group's `columns` list in `bytes`. */
    private readonly columnsAt: readonly number[],
    readonly createdBy: string | undefined,
  ) {
    this.groups = new Array(rowGroupRows.length);
  }

  /** The footer in structured-clone form (plain fields, the footer bytes shared, not copied). */
  shipped(): ShippedFooter {
    return {
      bytes: this.bytes,
      version: this.version,
      schema: this.schema,
      numRows: this.numRows,
      rowGroupRows: this.rowGroupRows,
      columnsAt: this.columnsAt,
      createdBy: this.createdBy,
    };
  }

  /** The footer `shipped()` made (in this thread or another), without decoding anything again. */
  static fromShipped(file: string, s: ShippedFooter): ParquetFooter {
    return new ParquetFooter(file, s.bytes, s.version, s.schema, s.numRows, s.rowGroupRows, s.columnsAt, s.createdBy);
  }

  get numRowGroups(): number {
    return this.rowGroupRows.length;
  }

  /** Column chunks in row group `g`. */
  columnCount(g: number): number {
    return this.group(g).starts.length;
  }

  /**
   * The metadata of column chunk `c` of row group `g`, decoded on first use; undefined when the file
   * stores none for it (encrypted columns) or `c` is past the row group's columns.
   * @throws ParquetFormatError naming the file, row group and column when its bytes do not decode.
   */
  column(g: number, c: number): ColumnChunkMeta | undefined {
    const group = this.group(g);
    if (c < 0 || c >= group.starts.length) return undefined;
    let meta = group.metas[c];
    if (meta === undefined) {
      try {
        meta = readColumnChunk(new ThriftCursor(this.bytes, group.starts[c]));
      } catch (e) {
        if (!(e instanceof ThriftError)) throw e;
        throw new ParquetFormatError(
          `the footer of ${this.file} is damaged at column chunk ${c} of row group ${g}: ${e.message}`,
          { file: this.file, rowGroup: g, column: c },
          'the file looks corrupt or truncated; copy it again',
          { cause: e },
        );
      }
      group.metas[c] = meta;
    }
    return meta ?? undefined;
  }

  private group(g: number): { starts: Int32Array; metas: (ColumnChunkMeta | null | undefined)[] } {
    let group = this.groups[g];
    if (group) return group;
    if (!(g >= 0 && g < this.groups.length))
      throw internalError(`row group ${g} asked of ${this.file}, which has ${this.groups.length}`, { file: this.file });
    // Validated by the scan at open: these bytes skip without error.
    const cur = new ThriftCursor(this.bytes, this.columnsAt[g]);
    const { size } = cur.list();
    const starts = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      starts[i] = cur.pos;
      cur.skip(T.STRUCT);
    }
    group = { starts, metas: new Array(size) };
    this.groups[g] = group;
    return group;
  }
}

function footerError(file: string, what: string, cause?: unknown): ParquetFormatError {
  return new ParquetFormatError(
    `${file} is not a readable Parquet file: ${what}`,
    { file },
    'check that the file is complete and really Parquet (a truncated copy loses its footer); copy it again',
    cause === undefined ? undefined : { cause },
  );
}

/** `row_groups`: each row group's row count, and where its `columns` list starts; everything else skipped. */
function scanRowGroups(c: ThriftCursor, type: number, rows: number[], columnsAt: number[]): void {
  c.expect(type, T.LIST, 'FileMetaData.row_groups');
  const { type: et, size } = c.list();
  if (size > 0 && et !== T.STRUCT) throw new ThriftError(`row_groups holds type ${et}, not structs`, c.pos);
  for (let i = 0; i < size; i++) {
    let n = -1;
    let at = -1;
    c.struct(
      (id, ft) => {
        if (id === 1 && ft === T.LIST) {
          at = c.pos;
          c.skip(ft);
        } else if (id === 3) n = c.int(ft, 'RowGroup.num_rows');
        else c.skip(ft);
      },
      ROW_GROUP,
      'RowGroup',
    );
    if (at < 0) throw new ThriftError(`row group ${i} has no column list`, c.pos);
    if (!Number.isSafeInteger(n) || n < 0) throw new ThriftError(`row group ${i} declares ${n} rows`, c.pos);
    rows.push(n);
    columnsAt.push(at);
  }
}

function readSchema(c: ThriftCursor, type: number): SchemaElement[] {
  c.expect(type, T.LIST, 'FileMetaData.schema');
  const { type: et, size } = c.list();
  if (size > 0 && et !== T.STRUCT) throw new ThriftError(`schema holds type ${et}, not structs`, c.pos);
  const out: SchemaElement[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const el: { -readonly [K in keyof SchemaElement]: SchemaElement[K] } = { name: '' };
    c.struct(
      (id, ft) => {
        switch (id) {
          case 1:
            el.type = ParquetTypes[c.int(ft, 'SchemaElement.type')];
            break;
          case 2:
            el.type_length = c.int(ft, 'SchemaElement.type_length');
            break;
          case 3:
            el.repetition_type = FieldRepetitionTypes[c.int(ft, 'SchemaElement.repetition_type')];
            break;
          case 4:
            c.expect(ft, T.BINARY, 'SchemaElement.name');
            el.name = c.string();
            break;
          case 5:
            el.num_children = c.int(ft, 'SchemaElement.num_children');
            break;
          case 6:
            el.converted_type = ConvertedTypes[c.int(ft, 'SchemaElement.converted_type')];
            break;
          case 7:
            el.scale = c.int(ft, 'SchemaElement.scale');
            break;
          case 8:
            el.precision = c.int(ft, 'SchemaElement.precision');
            break;
          case 9:
            el.field_id = c.int(ft, 'SchemaElement.field_id');
            break;
          case 10:
            c.expect(ft, T.STRUCT, 'SchemaElement.logicalType');
            el.logical_type = readLogicalType(c);
            break;
          default:
            c.skip(ft);
        }
      },
      SCHEMA_ELEMENT,
      'SchemaElement',
    );
    out[i] = el;
  }
  return out;
}

const SIMPLE_LOGICAL: Record<number, LogicalType['type']> = {
  1: 'STRING',
  2: 'MAP',
  3: 'LIST',
  4: 'ENUM',
  6: 'DATE',
  11: 'NULL',
  12: 'JSON',
  13: 'BSON',
  14: 'UUID',
  15: 'FLOAT16',
};
const TIME_UNITS = ['MILLIS', 'MICROS', 'NANOS'] as const;
const EDGE_ALGORITHMS = ['SPHERICAL', 'VINCENTY', 'THOMAS', 'ANDOYER', 'KARNEY'] as const;

/** The `LogicalType` union: one field set, named as hyparquet names it. */
function readLogicalType(c: ThriftCursor): LogicalType | undefined {
  let out: LogicalType | undefined;
  c.struct((id, ft) => {
    if (ft !== T.STRUCT) {
      c.skip(ft);
      return;
    }
    const simple = SIMPLE_LOGICAL[id];
    if (simple) {
      c.skip(ft);
      out = { type: simple } as LogicalType;
      return;
    }
    const f: Record<number, number | boolean | string> = {};
    c.struct((sid, st) => {
      if (st === T.TRUE || st === T.FALSE) f[sid] = c.bool(st);
      else if (st === T.BINARY) f[sid] = c.string();
      else if (id === 7 || id === 8) {
        // TIME / TIMESTAMP: field 2 is the TimeUnit union, whose set field names the unit.
        if (sid === 2 && st === T.STRUCT) {
          let unit = -1;
          c.struct((uid, ut) => {
            if (unit < 0) unit = uid - 1;
            c.skip(ut);
          });
          f[2] = TIME_UNITS[unit] ?? 'MILLIS';
        } else c.skip(st);
      } else if (st === T.I32 || st === T.I16 || st === T.I64 || st === T.BYTE) f[sid] = c.int(st, 'LogicalType');
      else c.skip(st);
    });
    if (id === 5) out = { type: 'DECIMAL', scale: f[1] as number, precision: f[2] as number };
    else if (id === 7 || id === 8)
      out = { type: id === 7 ? 'TIME' : 'TIMESTAMP', isAdjustedToUTC: f[1] as boolean, unit: f[2] as 'MILLIS' };
    else if (id === 10) out = { type: 'INTEGER', bitWidth: f[1] as number, isSigned: f[2] as boolean };
    else if (id === 16) out = { type: 'VARIANT', specification_version: f[1] as number | undefined };
    else if (id === 17) out = { type: 'GEOMETRY', crs: f[1] as string | undefined };
    else if (id === 18)
      out = {
        type: 'GEOGRAPHY',
        crs: f[1] as string | undefined,
        algorithm: EDGE_ALGORITHMS[f[2] as number],
      };
  });
  return out;
}

/** A `ColumnChunk` struct: its `meta_data` (null when absent) and `file_path`. */
function readColumnChunk(c: ThriftCursor): ColumnChunkMeta | null {
  let filePath: string | undefined;
  let meta: Mutable<ColumnChunkMeta> | null = null;
  c.struct(
    (id, ft) => {
      if (id === 1 && ft === T.BINARY) filePath = c.string();
      else if (id === 3) {
        c.expect(ft, T.STRUCT, 'ColumnChunk.meta_data');
        meta = readColumnMeta(c);
      } else c.skip(ft);
    },
    COLUMN_CHUNK,
    'ColumnChunk',
  );
  if (meta && filePath !== undefined) (meta as Mutable<ColumnChunkMeta>).file_path = filePath;
  return meta;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readColumnMeta(c: ThriftCursor): Mutable<ColumnChunkMeta> {
  const m: Partial<Mutable<ColumnChunkMeta>> = {};
  c.struct(
    (id, ft) => {
      switch (id) {
        case 1: {
          const t = c.int(ft, 'ColumnMetaData.type');
          m.type = ParquetTypes[t];
          if (!m.type) throw new ThriftError(`unknown physical type ${t}`, c.pos);
          break;
        }
        case 2: {
          c.expect(ft, T.LIST, 'ColumnMetaData.encodings');
          const { type: et, size } = c.list();
          const enc: Encoding[] = new Array(size);
          for (let i = 0; i < size; i++) enc[i] = Encodings[c.int(et, 'ColumnMetaData.encodings')];
          m.encodings = enc;
          break;
        }
        case 3: {
          c.expect(ft, T.LIST, 'ColumnMetaData.path_in_schema');
          const { type: et, size } = c.list();
          if (size > 0 && et !== T.BINARY) throw new ThriftError(`path_in_schema holds type ${et}, not strings`, c.pos);
          const path: string[] = new Array(size);
          for (let i = 0; i < size; i++) path[i] = c.string();
          m.path_in_schema = path;
          break;
        }
        case 4: {
          const k = c.int(ft, 'ColumnMetaData.codec');
          m.codec = CompressionCodecs[k];
          if (!m.codec) throw new ThriftError(`unknown compression codec ${k}`, c.pos);
          break;
        }
        case 5:
          m.num_values = c.int(ft, 'ColumnMetaData.num_values');
          break;
        case 6:
          m.total_uncompressed_size = c.int(ft, 'ColumnMetaData.total_uncompressed_size');
          break;
        case 7:
          m.total_compressed_size = c.int(ft, 'ColumnMetaData.total_compressed_size');
          break;
        case 9:
          m.data_page_offset = c.int(ft, 'ColumnMetaData.data_page_offset');
          break;
        case 10:
          m.index_page_offset = c.int(ft, 'ColumnMetaData.index_page_offset');
          break;
        case 11:
          m.dictionary_page_offset = c.int(ft, 'ColumnMetaData.dictionary_page_offset');
          break;
        default:
          c.skip(ft); // key-value metadata, statistics, encoding stats, bloom filter, size statistics
      }
    },
    COLUMN_META,
    'ColumnMetaData',
  );
  for (const k of [
    'type',
    'path_in_schema',
    'codec',
    'num_values',
    'total_compressed_size',
    'data_page_offset',
  ] as const)
    if (m[k] === undefined) throw new ThriftError(`ColumnMetaData lacks its required field ${k}`, c.pos);
  m.encodings ??= [];
  m.total_uncompressed_size ??= 0;
  return m as Mutable<ColumnChunkMeta>;
}
