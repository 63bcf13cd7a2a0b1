/**
 * A flat TTree in NanoAOD style, written chunk by chunk: one TBranch with one leaf per column
 * (`MET_pt/F`), jagged columns as `Muon_pt[nMuon]/F` with a counter branch `nMuon/i` shared by the
 * columns of one collection, strings as `name/C` (TLeafC, one length-prefixed string per entry), and baskets written as soon as a chunk arrives (so memory is bounded by a
 * chunk, not the file). Jagged baskets carry ROOT's entry-offset table. Each chunk is one cluster: all
 * branches start a basket at the chunk's first entry. The TTree metadata and the streamer information
 * are written at `close()`.
 */
import type { Jagged, NumericArray } from '../../columnar/types.ts';
import { brokenInvariant } from '../../errors/index.ts';
import { allocate } from '../root/convert.ts';
import type { Column, DType } from '../reader.ts';
import { WBuffer } from './buffer.ts';
import { compressSetting, type Compression } from './compress.ts';
import { RootFileWriter, RootWriteError } from './file.ts';
import { streamObject } from './streamers.ts';

/** One column to write. */
export interface TreeColumn {
  readonly name: string;
  readonly dtype: DType;
  /** `string`: a Jagged column of the string's bytes (as the readers return strings), written as a C string. */
  readonly kind: 'flat' | 'jagged' | 'string';
  /** For jagged columns, the counter branch name (default `n` + the part before the first `_`). */
  readonly countBranch?: string;
}

export interface TreeWriterOptions {
  /** Tree name (default `Events`). */
  treeName?: string;
  /** Tree title (default empty). */
  title?: string;
  /** Basket compression (default zlib level 1). For zstd, `await prepareCompression(c)` first. */
  compression?: Compression;
  /** Target uncompressed bytes of one basket (default 512 KiB); a chunk's column is cut into baskets of about this size. */
  basketBytes?: number;
}

const LEAF: Record<DType, { cls: string; code: string; size: number; unsigned: boolean }> = {
  bool: { cls: 'TLeafO', code: 'O', size: 1, unsigned: false },
  int8: { cls: 'TLeafB', code: 'B', size: 1, unsigned: false },
  uint8: { cls: 'TLeafB', code: 'b', size: 1, unsigned: true },
  int16: { cls: 'TLeafS', code: 'S', size: 2, unsigned: false },
  uint16: { cls: 'TLeafS', code: 's', size: 2, unsigned: true },
  int32: { cls: 'TLeafI', code: 'I', size: 4, unsigned: false },
  uint32: { cls: 'TLeafI', code: 'i', size: 4, unsigned: true },
  int64: { cls: 'TLeafL', code: 'L', size: 8, unsigned: false },
  uint64: { cls: 'TLeafL', code: 'l', size: 8, unsigned: true },
  float32: { cls: 'TLeafF', code: 'F', size: 4, unsigned: false },
  float64: { cls: 'TLeafD', code: 'D', size: 8, unsigned: false },
};

const STRING_LEAF = { cls: 'TLeafC', code: 'C', size: 1, unsigned: false };

const ENTRY_OFFSET_LEN = 1000; // ROOT's default fEntryOffsetLen for variable-size branches
const BASKET_VERSION = 3;
/** TBasket's own header after the key strings: version, fBufferSize, fNevBufSize, fNevBuf, fLast, flag. */
const BASKET_HEADER = 2 + 4 + 4 + 4 + 4 + 1;

interface BranchState {
  readonly name: string;
  readonly dtype: DType;
  readonly kind: 'flat' | 'jagged' | 'counter' | 'string';
  /** The counter of a jagged branch. */
  readonly counter?: BranchState;
  readonly leaf: Record<string, unknown>;
  readonly basketBytes: number[];
  readonly basketEntry: number[];
  readonly basketSeek: number[];
  totBytes: number;
  zipBytes: number;
  entries: number;
  maxCount: number;
  /** Counter only: the counts of the chunk being written (from the first jagged column of it). */
  counts?: Int32Array | undefined;
  countsFrom?: string | undefined;
}

/**
 * `n` + the collection name (`Muon_pt` → `nMuon`), NanoAOD's counter naming; characters other than
 * letters, digits and `_` become `_`, since ROOT parses the counter name out of leaf titles (`x[nX]`).
 */
export function defaultCounterName(column: string): string {
  const i = column.indexOf('_');
  return `n${i > 0 ? column.slice(0, i) : column}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * Writes one TTree into a new ROOT file.
 *
 * @example
 * const w = new RootTreeWriter('out.root', [
 *   { name: 'MET_pt', dtype: 'float32', kind: 'flat' },
 *   { name: 'Muon_pt', dtype: 'float32', kind: 'jagged', countBranch: 'nMuon' },
 * ]);
 * w.write({ MET_pt: Float32Array.of(10, 20), Muon_pt: { offsets: Int32Array.of(0, 2, 3), content: Float32Array.of(1, 2, 3) } });
 * await w.close();
 */
export class RootTreeWriter {
  private readonly file: RootFileWriter;
  private readonly branches: BranchState[] = [];
  private readonly byName = new Map<string, BranchState>();
  private readonly treeName: string;
  private readonly title: string;
  private readonly basketTarget: number;
  private entries = 0;
  private firstChunk = 0;
  private closed = false;

  constructor(
    readonly path: string,
    columns: readonly TreeColumn[],
    opts: TreeWriterOptions = {},
    /** Name recorded in the file (default: the base name of `path`). */
    fileName?: string,
  ) {
    this.treeName = opts.treeName ?? 'Events';
    this.title = opts.title ?? '';
    this.basketTarget = opts.basketBytes ?? 512 * 1024;
    if (!(this.basketTarget >= 64))
      throw new RootWriteError(
        `basketBytes must be at least 64, got ${this.basketTarget}`,
        { basketBytes: this.basketTarget },
        'pass e.g. 524288',
      );
    const counterNames = new Set(
      columns.filter((c) => c.kind === 'jagged').map((c) => c.countBranch ?? defaultCounterName(c.name)),
    );
    for (const c of columns) {
      if (c.kind === 'jagged' && counterNames.has(c.name))
        throw new RootWriteError(
          `${path}: '${c.name}' is both a jagged column and the counter of others`,
          { file: path, branch: c.name },
          'rename the column or give the jagged columns another countBranch',
        );
    }
    const counter = (name: string): BranchState => {
      const have = this.byName.get(name);
      if (have) return have;
      return this.add(name, 'uint32', 'counter');
    };
    for (const c of columns) {
      if (this.byName.has(c.name) && !(counterNames.has(c.name) && c.kind === 'flat'))
        throw new RootWriteError(
          `${path}: two columns named '${c.name}'`,
          { file: path, branch: c.name },
          'write each column once',
        );
      if (c.kind === 'flat' && counterNames.has(c.name)) counter(c.name);
      else if (c.kind === 'flat') this.add(c.name, c.dtype, 'flat');
      else if (c.kind === 'string') this.add(c.name, 'uint8', 'string');
      else this.add(c.name, c.dtype, 'jagged', counter(c.countBranch ?? defaultCounterName(c.name)));
    }
    this.file = new RootFileWriter(path, opts.compression ? { compression: opts.compression } : {}, fileName);
  }

  private add(name: string, dtype: DType, kind: BranchState['kind'], counter?: BranchState): BranchState {
    const t = kind === 'string' ? STRING_LEAF : LEAF[dtype];
    const leaf: Record<string, unknown> = {
      _typename: t.cls,
      fName: name,
      // ROOT and uproot read array dimensions out of leaf titles: brackets of the name itself (a fixed
      // array `a[10]` read as a list) must not look like one there
      fTitle: counter ? `${titleName(name)}[${counter.name}]` : titleName(name),
      fLen: 1,
      fLenType: t.size,
      fOffset: 0,
      fIsRange: kind === 'counter',
      fIsUnsigned: t.unsigned,
      fLeafCount: counter ? counter.leaf : null,
      fMinimum: 0,
      fMaximum: 0,
    };
    const b: BranchState = {
      name,
      dtype,
      kind,
      ...(counter ? { counter } : {}),
      leaf,
      basketBytes: [],
      basketEntry: [],
      basketSeek: [],
      totBytes: 0,
      zipBytes: 0,
      entries: 0,
      maxCount: 0,
    };
    this.branches.push(b);
    this.byName.set(name, b);
    return b;
  }

  /** Append one chunk: every column of the constructor, the same number of entries each. */
  write(cols: Record<string, Column>): void {
    if (this.closed)
      throw new RootWriteError(
        `${this.path}: the tree writer is closed`,
        { file: this.path },
        'write every chunk before close()',
      );
    let n = -1;
    const size = (name: string, c: Column) => {
      const m = isJagged(c) ? c.offsets.length - 1 : c.length;
      if (n < 0) n = m;
      else if (m !== n)
        throw new RootWriteError(
          `${this.path}: column '${name}' has ${m} entries in this chunk, others ${n}`,
          { file: this.path, branch: name },
          'pass columns of one entry range',
        );
    };
    try {
      // counters first: from the jagged columns, checked against each other and a given counts column
      for (const b of this.branches) {
        if (b.kind === 'counter') {
          b.counts = undefined;
          b.countsFrom = undefined;
        }
      }
      for (const b of this.branches) {
        if (b.kind !== 'jagged') continue;
        const c = cols[b.name];
        if (!c || !isJagged(c))
          throw new RootWriteError(
            `${this.path}: jagged column '${b.name}' is missing from the chunk or not jagged`,
            { file: this.path, branch: b.name },
            'pass every column the writer was opened with',
          );
        size(b.name, c);
        const counts = countsOf(c.offsets);
        const k = b.counter ?? brokenInvariant(`jagged branch ${b.name} without its counter`);
        if (!k.counts) {
          k.counts = counts;
          k.countsFrom = b.name;
        } else {
          const at = firstDifference(k.counts, counts);
          if (at >= 0)
            throw new RootWriteError(
              `${this.path}: '${b.name}' has ${counts[at]} values in entry ${this.entries + at}, '${k.countsFrom}' ${k.counts[at]}, but both are counted by '${k.name}'`,
              { file: this.path, branch: b.name, counter: k.name, entry: this.entries + at },
              'jagged columns of one collection must have equal lengths; give the others their own countBranch',
            );
        }
      }
      for (const b of this.branches) {
        if (b.kind !== 'counter') continue;
        const given = cols[b.name];
        if (given) {
          if (isJagged(given))
            throw new RootWriteError(`${this.path}: counter '${b.name}' is jagged`, {
              file: this.path,
              branch: b.name,
            });
          size(b.name, given);
          if (b.counts) {
            for (let i = 0; i < given.length; i++)
              if (given[i] !== b.counts[i])
                throw new RootWriteError(
                  `${this.path}: counts column '${b.name}' says ${given[i]} in entry ${this.entries + i}, '${b.countsFrom}' has ${b.counts[i]} values`,
                  { file: this.path, branch: b.name, entry: this.entries + i },
                  'the counts column must match the lists it counts',
                );
          } else b.counts = Int32Array.from(given as ArrayLike<number>);
        }
        if (!b.counts)
          throw new RootWriteError(`${this.path}: no column gives the counts of '${b.name}'`, {
            file: this.path,
            branch: b.name,
          });
      }
      for (const b of this.branches) {
        if (b.kind !== 'flat' && b.kind !== 'string') continue;
        const c = cols[b.name];
        if (!c || isJagged(c) !== (b.kind === 'string'))
          throw new RootWriteError(
            `${this.path}: ${b.kind} column '${b.name}' is missing from the chunk or of another shape`,
            { file: this.path, branch: b.name },
            'pass every column the writer was opened with',
          );
        size(b.name, c);
      }
      if (n < 0) n = 0;
      if (n === 0) return;
      if (this.firstChunk === 0) this.firstChunk = n;
      for (const b of this.branches) {
        if (b.kind === 'counter')
          this.writeFlat(b, b.counts ?? brokenInvariant(`counter ${b.name} has no counts for this chunk`), n);
        else if (b.kind === 'flat') this.writeFlat(b, cols[b.name] as NumericArray, n);
        else if (b.kind === 'string') this.writeStrings(b, cols[b.name] as Jagged, n);
        else this.writeJagged(b, cols[b.name] as Jagged, n);
      }
      this.entries += n;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  private writeFlat(b: BranchState, values: NumericArray, n: number): void {
    const t = LEAF[b.dtype];
    if (b.kind === 'counter') for (let i = 0; i < n; i++) if (values[i] > b.maxCount) b.maxCount = values[i];
    const per = Math.max(1, Math.floor(this.basketTarget / t.size));
    for (let s = 0; s < n; s += per) {
      const e = Math.min(n, s + per);
      this.writeBasket(b, bigEndian(values, b.dtype, s, e), e - s, null);
    }
  }

  private writeJagged(b: BranchState, c: Jagged, n: number): void {
    const t = LEAF[b.dtype];
    const off = c.offsets;
    let s = 0;
    while (s < n) {
      // entries until the basket holds about basketTarget bytes (at least one entry)
      let e = s + 1;
      while (e < n && (off[e + 1] - off[s]) * t.size + 4 * (e + 1 - s) <= this.basketTarget) e++;
      const data = bigEndian(c.content, b.dtype, off[s], off[e]);
      this.writeBasket(b, data, e - s, { offsets: off, start: s, stop: e, size: t.size });
      s = e;
    }
  }

  /** Strings as ROOT's TLeafC stores them: a length byte (255 + int32 from 255 bytes on), then the bytes. */
  private writeStrings(b: BranchState, c: Jagged, n: number): void {
    const off = c.offsets;
    const bytes = c.content as Uint8Array;
    const stored = (i: number) => {
      const len = off[i + 1] - off[i];
      return len + (len < 255 ? 1 : 5);
    };
    let s = 0;
    while (s < n) {
      let size = stored(s);
      let e = s + 1;
      while (e < n && size + stored(e) + 4 * (e + 1 - s) <= this.basketTarget) size += stored(e++);
      const data = new Uint8Array(size);
      const starts = new Int32Array(e - s + 1);
      let p = 0;
      for (let i = s; i < e; i++) {
        starts[i - s] = p;
        const len = off[i + 1] - off[i];
        if (len > b.maxCount) b.maxCount = len;
        if (len < 255) data[p++] = len;
        else {
          data[p++] = 255;
          new DataView(data.buffer).setInt32(p, len);
          p += 4;
        }
        data.set(bytes.subarray(off[i], off[i + 1]), p);
        p += len;
      }
      starts[e - s] = p;
      this.writeBasket(b, data, e - s, { offsets: starts, start: 0, stop: e - s, size: 1 });
      s = e;
    }
  }

  private writeBasket(
    b: BranchState,
    data: Uint8Array,
    nev: number,
    jag: { offsets: Int32Array; start: number; stop: number; size: number } | null,
  ): void {
    const keyStrings = keyLengthOf(b.name, this.treeName);
    const keylen = keyStrings + BASKET_HEADER;
    let payload = data;
    if (jag) {
      // entry-offset table: fNevBuf + 1 slots (ROOT's layout; the last one is 0), positions counted from the key start
      payload = new Uint8Array(data.length + 4 * (nev + 2));
      payload.set(data);
      const dv = new DataView(payload.buffer, data.length);
      dv.setInt32(0, nev + 1);
      const base = jag.offsets[jag.start];
      for (let i = 0; i < nev; i++) dv.setInt32(4 + 4 * i, keylen + (jag.offsets[jag.start + i] - base) * jag.size);
      dv.setInt32(4 + 4 * nev, 0);
    }
    const last = keylen + data.length;
    const nevBufSize = jag ? Math.max(ENTRY_OFFSET_LEN, nev + 1) : LEAF[b.dtype].size;
    const key = this.file.writeKey(
      this.file.root,
      'TBasket',
      b.name,
      this.treeName,
      payload,
      () =>
        new WBuffer(0, BASKET_HEADER)
          .u16(BASKET_VERSION)
          .i32(keylen + payload.length)
          .i32(nevBufSize)
          .i32(nev)
          .i32(last)
          .u8(0)
          .bytes(),
      BASKET_HEADER,
    );
    b.basketBytes.push(key.nbytes);
    b.basketEntry.push(b.entries);
    b.basketSeek.push(key.seekKey);
    b.entries += nev;
    b.totBytes += keylen + payload.length;
    b.zipBytes += key.nbytes;
  }

  /** Write the TTree and the file's closing records; renaming is the caller's (see `convert`). */
  async close(): Promise<void> {
    if (this.closed) throw new RootWriteError(`${this.path}: the tree writer is already closed`, { file: this.path });
    this.closed = true;
    try {
      const compress = compressSetting(this.file.compression);
      const branchObjs = this.branches.map((b) => {
        if (b.kind === 'counter' || b.kind === 'string') b.leaf['fMaximum'] = b.maxCount;
        const nb = b.basketBytes.length;
        return {
          _typename: 'TBranch',
          fName: b.name,
          fTitle: `${b.leaf['fTitle'] as string}/${b.kind === 'string' ? 'C' : LEAF[b.dtype].code}`,
          fFillColor: 0,
          fFillStyle: 1001,
          fCompress: compress,
          fBasketSize: Math.max(32000, this.basketTarget),
          fEntryOffsetLen: b.kind === 'jagged' || b.kind === 'string' ? ENTRY_OFFSET_LEN : 0,
          fWriteBasket: nb,
          fEntryNumber: b.entries,
          fIOFeatures: {},
          fOffset: 0,
          fMaxBaskets: nb + 1,
          fSplitLevel: 0,
          fEntries: b.entries,
          fFirstEntry: 0,
          fTotBytes: b.totBytes,
          fZipBytes: b.zipBytes,
          fBranches: { _typename: 'TObjArray', arr: [] },
          fLeaves: { _typename: 'TObjArray', arr: [b.leaf] },
          fBaskets: { _typename: 'TObjArray', arr: [] },
          fBasketBytes: [...b.basketBytes, 0],
          fBasketEntry: [...b.basketEntry, b.entries],
          fBasketSeek: [...b.basketSeek, 0],
          fFileName: '',
        };
      });
      const tot = this.branches.reduce((s, b) => s + b.totBytes, 0);
      const zip = this.branches.reduce((s, b) => s + b.zipBytes, 0);
      const tree = {
        fName: this.treeName,
        fTitle: this.title,
        fLineColor: 602,
        fLineStyle: 1,
        fLineWidth: 1,
        fFillColor: 0,
        fFillStyle: 1001,
        fMarkerColor: 1,
        fMarkerStyle: 1,
        fMarkerSize: 1,
        fEntries: this.entries,
        fTotBytes: tot,
        fZipBytes: zip,
        fSavedBytes: zip,
        fFlushedBytes: zip,
        fWeight: 1,
        fScanField: 25,
        fDefaultEntryOffsetLen: ENTRY_OFFSET_LEN,
        fNClusterRange: 0,
        fMaxEntries: 1e12,
        fMaxEntryLoop: 1e12,
        fAutoSave: -300000000,
        fAutoFlush: this.firstChunk || -30000000,
        fEstimate: 1000000,
        fIOFeatures: {},
        fBranches: { _typename: 'TObjArray', arr: branchObjs },
        fLeaves: { _typename: 'TObjArray', arr: this.branches.map((b) => b.leaf) },
        fAliases: null,
        fIndexValues: [],
        fIndex: [],
        fTreeIndex: null,
        fFriends: null,
        fUserInfo: null,
        fBranchRef: null,
      };
      this.file.writeObject(this.file.root, this.treeName, this.title, 'TTree', (b) => streamObject(b, 'TTree', tree));
      this.file.close([
        'TTree',
        'TBranch',
        ...new Set(this.branches.map((b) => (b.kind === 'string' ? 'TLeafC' : LEAF[b.dtype].cls))),
      ]);
    } catch (e) {
      this.file.abort();
      throw e;
    }
  }

  /** Abandon the file (closes it; the caller removes it). */
  abort(): void {
    this.closed = true;
    this.file.abort();
  }
}

/** A name as it may appear in a leaf title: brackets become `_`. */
function titleName(name: string): string {
  return name.replace(/[[\]]/g, '_');
}

function isJagged(c: Column): c is Jagged {
  return !ArrayBuffer.isView(c);
}

function countsOf(offsets: Int32Array): Int32Array {
  const n = offsets.length - 1;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = offsets[i + 1] - offsets[i];
  return out;
}

function firstDifference(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function keyLengthOf(name: string, title: string): number {
  const ts = (s: string) => {
    const n = Buffer.byteLength(s, 'utf8');
    return n + (n < 255 ? 1 : 5);
  };
  return 4 + 2 + 4 + 4 + 2 + 2 + 8 + 8 + ts('TBasket') + ts(name) + ts(title);
}

/** Elements [s, e) of `values` as ROOT stores `dtype`: big-endian, 64-bit integers from doubles, bools as 0/1. */
export function bigEndian(values: NumericArray, dtype: DType, s: number, e: number): Uint8Array {
  const n = e - s;
  const size = LEAF[dtype].size;
  if (dtype === 'int64' || dtype === 'uint64') {
    const out = new Uint8Array(8 * n);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      const v = values[s + i];
      const hi = Math.floor(v / 4294967296);
      dv.setInt32(8 * i, hi);
      dv.setUint32(8 * i + 4, v - hi * 4294967296);
    }
    return out;
  }
  if (dtype === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = values[s + i] ? 1 : 0;
    return out;
  }
  // the column's array may be another type than the leaf's (a counts column of int32 for a uint32 leaf)
  let typed = values.subarray(s, e) as NumericArray;
  if (typed.BYTES_PER_ELEMENT !== size || !sameKind(typed, dtype)) {
    const conv = allocate(dtype, n);
    conv.set(typed as ArrayLike<number>);
    typed = conv;
  }
  const out = Buffer.from(new Uint8Array(typed.buffer, typed.byteOffset, n * size));
  if (size === 2) out.swap16();
  else if (size === 4) out.swap32();
  else if (size === 8) out.swap64();
  return out;
}

function sameKind(a: NumericArray, dtype: DType): boolean {
  const want = allocate(dtype, 0).constructor;
  return a.constructor === want;
}
