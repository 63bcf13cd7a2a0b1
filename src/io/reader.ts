/**
 * The contract between file formats and everything above them: a reader exposes a tree's branches
 * (NanoAOD-flat names, e.g. `nJet`, `Jet_pt`, `MET_pt`) and returns columns for an entry range.
 * ROOT and Parquet (flat or nested layout) both implement it, so events and processors never know
 * which format they read.
 */
import type { Jagged, NumericArray } from '../columnar/types.ts';
import type { OpenedState } from './opened.ts';

/** Element type of a branch after decoding. 64-bit integers decode to float64 (exact up to 2^53). */
export type DType =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

export interface BranchInfo {
  /** NanoAOD-flat name: `Jet_pt`, `nJet`, `MET_pt`, `run`. */
  readonly name: string;
  /**
   * `flat`: one value per entry; `jagged`: a list per entry; `jagged2`: a list of lists per entry
   * (ROOT `std::vector<std::vector<T>>`), read as a DoublyJagged column; `string`: one string per entry
   * (ROOT `char*`, TString, std::string), read as a Jagged column of its bytes (dtype `uint8`; decode
   * with `stringsOf`).
   */
  readonly kind: 'flat' | 'jagged' | 'jagged2' | 'string';
  readonly dtype: DType;
  /** For jagged branches, the name of the counts branch (`nJet`) when the file has one. */
  readonly countBranch?: string;
  /**
   * Another branch of the file has the same name (ROOT allows it). The reader returns the first one in
   * tree order, like ROOT's TTree::GetBranch; the others cannot be read by name.
   */
  readonly duplicate?: boolean;
}

/** One branch (ROOT) or field (RNTuple) as a reader's `describe()` lists it, readable or not (`ristretto ls`). */
export interface BranchDescription {
  readonly name: string;
  /** The file's type: a leaf type, a C++ class, an RNTuple field type. */
  readonly type: string;
  /** How it reads, when it can be read. */
  readonly info?: BranchInfo;
  /** Why it cannot be read. */
  readonly unsupported?: string;
  /**
   * 'streamer' when the file lacks the streamer information the branch needs; 'members' for an object
   * split into sub-branches, whose members are columns of their own.
   */
  readonly unsupportedKind?: 'type' | 'streamer' | 'members';
  /** Another branch has the same name. */
  readonly duplicate?: boolean;
  /** A duplicate that the first one of its name hides. */
  readonly shadowed?: boolean;
  /** An RNTuple field that is read only through its projections. */
  readonly hidden?: boolean;
}

/**
 * A list of lists per entry: entry i owns the inner lists `offsets[i] .. offsets[i+1]` of `content`,
 * itself a jagged column over the values. Only ROOT `std::vector<std::vector<T>>` branches give these.
 */
export interface DoublyJagged<T extends NumericArray = NumericArray> {
  readonly offsets: Int32Array;
  readonly content: Jagged<T>;
}

/** A decoded column: a typed array (flat) or offsets + content (jagged). */
export type Column = NumericArray | Jagged;

/** What `read` may return: a Column, or a DoublyJagged column for branches of kind `jagged2`. */
export type AnyColumn = Column | DoublyJagged;

/** The strings of a `string` column (bytes decoded as UTF-8). */
export function stringsOf(c: Jagged): string[] {
  const dec = new TextDecoder('utf-8');
  const out: string[] = [];
  const bytes = c.content as Uint8Array;
  for (let i = 0; i + 1 < c.offsets.length; i++) out.push(dec.decode(bytes.subarray(c.offsets[i], c.offsets[i + 1])));
  return out;
}

/** True for the columns of `jagged2` branches. */
export function isDoublyJagged(c: AnyColumn): c is DoublyJagged {
  return 'offsets' in c && 'offsets' in (c.content as object);
}

export interface EventReader {
  /** Path or URL the reader was opened on (used in error messages). */
  readonly path: string;
  /** Tree name (ROOT) or a fixed name for Parquet/Arrow. */
  readonly treeName: string;
  readonly numEntries: number;
  /** Branch metadata, without reading any basket or page. */
  branches(): readonly BranchInfo[];
  /** Entry numbers where baskets/clusters (ROOT) or row groups (Parquet) start, plus numEntries at the end. */
  boundaries(): readonly number[];
  /**
   * What opening the file parsed (a Parquet footer), structured-clone safe, for another thread to pass
   * as `OpenOptions.opened` when it opens the same file version: it then skips reading and parsing it.
   * Absent for readers that have nothing worth shipping.
   */
  openedState?(): OpenedState | undefined;
  /** Read the named branches for [entryStart, entryStop). Unknown names throw a typed error with suggestions. */
  read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>>;
  /**
   * Optional: the same read without awaiting. Used when a processor touches a column that was not
   * prefetched, so that `process` runs once per chunk. Local Parquet and ROOT readers have it; for other
   * readers opened by `openReader` misses go through a helper thread (see sync-read.ts); a custom reader
   * for something `openReader` cannot reopen (in memory, a custom format) implements it, or every column
   * it serves must be prefetched.
   */
  readSync?(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column>;
  /**
   * Optional: for a branch the file has but cannot be read (an unsupported type, a missing streamer), the
   * typed error a read of it throws; `undefined` for readable or unknown names. Lets the events layer say
   * "cannot be read: …" instead of "no branch" for names `branches()` leaves out.
   */
  unreadable?(name: string): Error | undefined;
  /**
   * Optional: names of the columns the file has that cannot be read (`branches()` leaves them out), in
   * the file's order, so that a conversion can say what it left out. Parquet and Arrow readers have it;
   * ROOT readers describe their branches instead.
   */
  unreadableNames?(): readonly string[];
  /**
   * Optional (readers that read ahead, over root://): after reading [entryStart, entryStop) the caller
   * reads `next` of this file with the same columns, or nothing of it (`null`). Said before the read, it
   * replaces the reader's guess (the next range of the same length, once reads follow each other), which
   * read a chunk for nothing where another worker takes the next one or chunks differ in length.
   */
  expectNext?(entryStart: number, entryStop: number, next: EntryRange | null): void;
  /** Bytes fetched from the underlying source so far (compressed, as stored). */
  readonly bytesRead: number;
  close(): Promise<void>;
}

/** Entries [entryStart, entryStop) of a file. */
export interface EntryRange {
  readonly entryStart: number;
  readonly entryStop: number;
}

/** Options common to every format's `open`. */
export interface OpenOptions {
  /** Tree name inside a ROOT file (default `Events`); ignored by Parquet/Arrow. */
  treeName?: string;
  /**
   * What a reader of the same file version parsed when it opened it (`EventReader.openedState`). The
   * reader that made it uses it instead of reading the file's metadata again; others ignore it, and so
   * does a reader that finds the file's size changed.
   */
  opened?: OpenedState;
}
