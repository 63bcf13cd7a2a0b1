/**
 * Arrow IPC file reader: the whole file is fetched once, then columns are views into that buffer
 * (no copy) — List<T> offsets and child values come out as Ristretto offsets + content.
 * Record batches play the role of row groups for `boundaries()`.
 */
import type { Data, DataType, Field, RecordBatch } from 'apache-arrow';
import type { NumericArray } from '../../columnar/types.ts';
import {
  ArrowColumnNotFoundError,
  ArrowError,
  ArrowFormatError,
  ArrowRangeError,
  ArrowUnsupportedError,
} from './errors.ts';
import type { BranchInfo, Column, DType, EventReader, OpenOptions } from '../reader.ts';
import { isEntryRange } from '../../errors/index.ts';
import { closestNames } from '../../errors/suggest.ts';
import { arrayTypeOf, isDType } from '../parquet/dtype.ts';
import { openSource } from '../source.ts';
import { DTYPE_KEY, dtypeOfArrow, TYPE_BOOL, TYPE_LIST } from './dtype.ts';

/**
 * apache-arrow (with flatbuffers), imported with the first Arrow file: at ~0.3–0.7 s it would otherwise
 * be paid by every process and sync-read helper thread that only reads ROOT or Parquet.
 *
 * apache-arrow loops over flatbuffer vectors up to their stored length: one damaged length in a schema
 * (found by the damage fuzz test: a custom-metadata vector of ~2^31 entries) kept tableFromIPC busy for
 * hours. A vector cannot hold more elements than bytes remain in its buffer, so such a length is refused
 * (apache-arrow and Ristretto share Node's single instance of the flatbuffers package).
 */
let arrow: Promise<typeof import('apache-arrow')> | undefined;
function loadArrow(): Promise<typeof import('apache-arrow')> {
  arrow ??= Promise.all([import('apache-arrow'), import('flatbuffers')]).then(([mod, { ByteBuffer }]) => {
    const vectorLen = ByteBuffer.prototype.__vector_len;
    ByteBuffer.prototype.__vector_len = function (this: InstanceType<typeof ByteBuffer>, offset: number): number {
      const n = vectorLen.call(this, offset);
      if (n < 0 || offset + this.readInt32(offset) + 4 + n > this.capacity())
        throw new RangeError(`flatbuffer vector of ${n} elements runs past its ${this.capacity()}-byte buffer`);
      return n;
    };
    return mod;
  });
  return arrow;
}

export { ArrowColumnNotFoundError, ArrowError, ArrowFormatError, ArrowRangeError, ArrowUnsupportedError };

interface ArrowBranch {
  info: BranchInfo;
  index: number;
}

/** Name of the tree reported by Arrow readers. */
export const ARROW_TREE_NAME = 'Events';

/**
 * Open an Arrow IPC file (file or stream format; local path or http(s) URL). The file is read whole;
 * `read` returns views into it where the stored type is Ristretto's in-memory type.
 */
export async function openArrow(pathOrUrl: string, opts: OpenOptions = {}): Promise<EventReader> {
  const source = await openSource(pathOrUrl);
  let bytes: Uint8Array;
  try {
    bytes = await source.read(0, source.size);
  } finally {
    await source.close();
  }
  const { tableFromIPC } = await loadArrow();
  let batches: RecordBatch[];
  let fields: Field[];
  try {
    const table = tableFromIPC(bytes);
    batches = table.batches;
    fields = table.schema.fields;
  } catch (e) {
    throw new ArrowFormatError(
      `${pathOrUrl} is not a readable Arrow IPC file: ${(e as Error).message}`,
      { file: pathOrUrl },
      'check that the file is complete; copy it again',
      { cause: e },
    );
  }
  return new ArrowReader(pathOrUrl, opts.treeName ?? ARROW_TREE_NAME, batches, fields, source.bytesRead);
}

function elementDtype(f: Field, t: DataType): DType | undefined {
  const declared = f.metadata.get(DTYPE_KEY);
  return declared !== undefined && isDType(declared) ? declared : dtypeOfArrow(t);
}

class ArrowReader implements EventReader {
  readonly numEntries: number;
  private readonly starts: number[];
  private readonly table = new Map<string, ArrowBranch>();
  private readonly skipped = new Map<string, string>();
  private readonly infos: BranchInfo[] = [];
  /** Column pieces whose buffers and offsets were checked (once each, on first read). */
  private readonly checked = new WeakSet<Data>();

  constructor(
    readonly path: string,
    readonly treeName: string,
    private readonly batches: RecordBatch[],
    fields: Field[],
    readonly bytesRead: number,
  ) {
    this.starts = [0];
    for (const b of batches) if (b.numRows) this.starts.push(this.starts[this.starts.length - 1] + b.numRows);
    this.batches = batches.filter((b) => b.numRows > 0);
    this.numEntries = this.starts[this.starts.length - 1];
    const names = new Set(fields.map((f) => f.name));
    fields.forEach((f, index) => {
      const list = f.type.typeId === TYPE_LIST;
      const t = list ? (f.type.children[0].type as DataType) : f.type;
      const dtype = elementDtype(f, t);
      if (!dtype || (list && t.typeId === TYPE_LIST)) {
        this.skipped.set(f.name, `type ${String(f.type)} is not a numeric column or list of numbers`);
        return;
      }
      const prefix = f.name.split('_')[0];
      const countBranch = list && names.has(`n${prefix}`) ? `n${prefix}` : undefined;
      const info: BranchInfo = {
        name: f.name,
        kind: list ? 'jagged' : 'flat',
        dtype,
        ...(countBranch ? { countBranch } : {}),
      };
      this.table.set(f.name, { info, index });
      this.infos.push(info);
    });
  }

  branches(): readonly BranchInfo[] {
    return this.infos;
  }

  unreadableNames(): readonly string[] {
    return [...this.skipped.keys()];
  }

  boundaries(): readonly number[] {
    return this.starts;
  }

  async read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>> {
    if (!isEntryRange(entryStart, entryStop, this.numEntries)) {
      throw new ArrowRangeError(
        `entry range [${entryStart}, ${entryStop}) is outside [0, ${this.numEntries}] of ${this.path}`,
        { file: this.path, entryStart, entryStop },
        `ask for integers with 0 <= start <= stop <= ${this.numEntries}`,
      );
    }
    const out: Record<string, Column> = {};
    for (const name of names) {
      const b = this.table.get(name);
      if (!b) throw this.notFound(name);
      const pieces: Column[] = [];
      for (let g = 0; g < this.batches.length; g++) {
        const s = this.starts[g];
        const e = this.starts[g + 1];
        if (e <= entryStart || s >= entryStop) continue;
        const data = this.batches[g].data.children[b.index];
        if (!this.checked.has(data)) {
          checkData(data, b.info, this.path, g);
          this.checked.add(data);
        }
        pieces.push(slice(data, b.info, Math.max(entryStart, s) - s, Math.min(entryStop, e) - s));
      }
      out[name] = pieces.length === 1 ? pieces[0] : concat(pieces, b.info);
    }
    return out;
  }

  async close(): Promise<void> {}

  private notFound(name: string): ArrowError {
    const why = this.skipped.get(name);
    if (why)
      return new ArrowUnsupportedError(
        `branch ${name} of ${this.path} cannot be read: ${why}`,
        { file: this.path, branch: name },
        'drop it from the branch list',
      );
    const close = closestNames(name, this.table.keys());
    return new ArrowColumnNotFoundError(
      `no branch ${name} in ${this.path}; closest: ${close.join(', ') || '(none)'}`,
      { file: this.path, branch: name, closest: close },
      'check the spelling; `ristretto ls FILE` lists every branch',
    );
  }
}

/** Values of a primitive Data as a Ristretto typed array: a view when the stored type is the in-memory one. */
function valuesOf(d: Data, dtype: DType, from: number, to: number): NumericArray {
  const Out = arrayTypeOf(dtype);
  const v = d.values as ArrayBufferView & ArrayLike<number | bigint>;
  const a = d.offset + from;
  const b = d.offset + to;
  if (d.typeId === TYPE_BOOL) {
    const out = new Uint8Array(to - from);
    const bits = v as Uint8Array;
    for (let i = a; i < b; i++) out[i - a] = (bits[i >> 3] >> (i & 7)) & 1;
    return out;
  }
  if (v.constructor === Out) return (v as NumericArray).subarray(a, b);
  // Stored in another representation (e.g. BigInt64 from a foreign writer): one converting copy.
  const out = new Out(to - from);
  for (let i = a; i < b; i++) out[i - a] = Number(v[i]);
  return out;
}

/**
 * Structure checks of one column piece (a record batch's column): buffers long enough for its rows, list
 * offsets monotone and inside the child's values. One O(n) pass over the offsets; values are not read.
 */
function checkData(d: Data, info: BranchInfo, path: string, batch: number): void {
  const fail = (what: string) =>
    new ArrowFormatError(
      `column ${info.name} in record batch ${batch} of ${path} is damaged: ${what}`,
      { file: path, column: info.name, batch },
      'the file looks corrupt or truncated; copy it again',
    );
  if (d.nullCount > 0)
    throw new ArrowUnsupportedError(
      `column ${info.name} of ${path} has ${d.nullCount} nulls`,
      { file: path, column: info.name },
      'write it without nulls (Ristretto columns have none)',
    );
  const enough = (v: Data, n: number): boolean => {
    const values = v.values as ArrayLike<unknown> | undefined;
    if (!values) return n === 0;
    return v.typeId === TYPE_BOOL ? values.length * 8 >= v.offset + n : values.length >= v.offset + n;
  };
  if (info.kind === 'flat') {
    if (!enough(d, d.length)) throw fail(`its values buffer is shorter than its ${d.length} rows`);
    return;
  }
  const vo = d.valueOffsets as Int32Array | undefined;
  const child = d.children[0];
  if (!vo || !child || vo.length < d.offset + d.length + 1)
    throw fail(`its offsets buffer is shorter than its ${d.length} rows`);
  if (child.nullCount > 0)
    throw new ArrowUnsupportedError(
      `column ${info.name} of ${path} has null list elements`,
      { file: path, column: info.name },
      'write it without nulls (Ristretto columns have none)',
    );
  let prev = vo[d.offset];
  if (prev < 0) throw fail(`offset ${prev} is negative`);
  let bad = false;
  for (let i = d.offset + 1; i <= d.offset + d.length; i++) {
    const o = vo[i];
    bad ||= o < prev;
    prev = o;
  }
  if (bad) throw fail('its list offsets decrease');
  if (prev > child.length || !enough(child, prev))
    throw fail(
      `its list offsets end at ${prev}, beyond the ${Math.min(child.length, (child.values as ArrayLike<unknown> | undefined)?.length ?? 0)} values stored`,
    );
}

function slice(d: Data, info: BranchInfo, a: number, b: number): Column {
  if (info.kind === 'flat') return valuesOf(d, info.dtype, a, b);
  const vo = d.valueOffsets as Int32Array;
  const child = d.children[0];
  const o0 = vo[d.offset + a];
  const o1 = vo[d.offset + b];
  const content = valuesOf(child, info.dtype, o0, o1);
  let offsets = vo.subarray(d.offset + a, d.offset + b + 1);
  if (o0 !== 0) offsets = offsets.map((x) => x - o0);
  return { offsets, content };
}

function concat(pieces: Column[], info: BranchInfo): Column {
  const Out = arrayTypeOf(info.dtype);
  if (info.kind === 'flat') {
    const arrays = pieces as NumericArray[];
    const out = new Out(arrays.reduce((s, x) => s + x.length, 0));
    let p = 0;
    for (const x of arrays) {
      out.set(x, p);
      p += x.length;
    }
    return out;
  }
  const js = pieces as { offsets: Int32Array; content: NumericArray }[];
  const nRows = js.reduce((s, x) => s + x.offsets.length - 1, 0);
  const content = new Out(js.reduce((s, x) => s + x.content.length, 0));
  const offsets = new Int32Array(nRows + 1);
  let r = 0;
  let base = 0;
  for (const x of js) {
    content.set(x.content, base);
    for (let i = 0; i < x.offsets.length - 1; i++) offsets[r++] = x.offsets[i] + base;
    base += x.content.length;
  }
  offsets[nRows] = base;
  return { offsets, content };
}
