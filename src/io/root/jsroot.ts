/**
 * The narrow slice of jsroot the reader uses: open a file through our own ByteSource (so metadata bytes
 * are counted and remote reads share the source's retry policy) and read a TTree's metadata objects.
 * jsroot's own typings declare everything `any`; the interfaces below name only the fields we read.
 */
/// <reference path="../../types/jsroot-vendor.d.ts" />
import { nameOnce } from '../../errors/index.ts';
import { openSource, type ByteSource, type HttpOptions } from '../source.ts';
import { rootDecompress } from './compression.ts';
import { RootFileError } from './errors.ts';

/** The two exports of `jsroot/io` used here (its own typings only declare the module). */
interface JsrootIo {
  FileProxy: new () => object;
  openFile(arg: object): Promise<unknown>;
}
// Loaded on first use, not at the top level: a top-level await cannot go into the CommonJS bundle of
// the single-executable endpoint (scripts/build-endpoint.mjs), and modules that only name the types
// need not load jsroot at all. After the first file the promise is settled: no cost per open.
let io: Promise<{ openFile: JsrootIo['openFile']; SourceProxy: new (src: ByteSource) => object }> | undefined;
function jsroot() {
  io ??= (import('#jsroot/io') as Promise<JsrootIo>).then((m) => ({
    openFile: m.openFile,
    SourceProxy: sourceProxyClass(m.FileProxy),
  }));
  return io;
}

export interface JsObjArray<T> {
  readonly arr: readonly (T | null | undefined)[];
}

export interface JsLeaf {
  readonly _typename: string;
  readonly fName: string;
  readonly fTitle: string;
  /** Number of fixed elements per entry (product of the fixed dimensions). */
  readonly fLen: number;
  readonly fLenType: number;
  readonly fIsUnsigned: boolean;
  readonly fLeafCount: JsLeaf | null;
}

/** A basket jsroot found inside the TBranch object (written with the branch, not as its own key). */
export interface JsEmbeddedBasket {
  readonly fKeylen: number;
  readonly fNevBuf: number;
  readonly fLast: number;
  readonly fEntryOffset?: ArrayLike<number>;
  readonly fBufferRef?: { readonly arr?: DataView } | null;
}

export interface JsBranch {
  readonly _typename: string;
  readonly fName: string;
  readonly fTitle: string;
  readonly fEntries: number;
  readonly fEntryOffsetLen: number;
  readonly fWriteBasket: number;
  readonly fLeaves: JsObjArray<JsLeaf>;
  readonly fBranches: JsObjArray<JsBranch>;
  readonly fBaskets?: JsObjArray<JsEmbeddedBasket>;
  readonly fBasketBytes: ArrayLike<number>;
  readonly fBasketEntry: ArrayLike<number>;
  readonly fBasketSeek: ArrayLike<number>;
  /** TBranchElement only: class of the object (or of the object this member belongs to). */
  readonly fClassName?: string;
  readonly fClonesName?: string;
  readonly fClassVersion?: number;
  readonly fCheckSum?: number;
  /** TBranchElement only: -1 whole object, -2 split object node, >= 0 index of the member's streamer element. */
  readonly fID?: number;
  /** TBranchElement only: 0 member/object, 2 sub-object, 3/31 TClonesArray, 4/41 STL collection of objects. */
  readonly fType?: number;
  /** TBranchElement only: TStreamerInfo type code of the member (1..19 basic, +20 fixed array, +40 pointer array, 300 STL). */
  readonly fStreamerType?: number;
}

/** One member description of a TStreamerInfo. */
export interface JsStreamerElement {
  readonly fName: string;
  readonly fTitle: string;
  readonly fType: number;
  readonly fTypeName: string;
  readonly fArrayLength: number;
  readonly fArrayDim?: number;
  /** Double32_t / Float16_t ranges as jsroot decodes them from the element title ([min, max, nbits]). */
  readonly fXmin?: number;
  readonly fXmax?: number;
  readonly fFactor?: number;
}

export interface JsStreamerInfo {
  readonly fName: string;
  readonly fClassVersion: number;
  readonly fCheckSum: number;
  readonly fElements?: JsObjArray<JsStreamerElement> | null;
}

export interface JsTree {
  readonly _typename: string;
  readonly fName: string;
  readonly fEntries: number;
  readonly fBranches: JsObjArray<JsBranch>;
}

export interface JsKey {
  readonly fName: string;
  readonly fCycle: number;
  readonly fClassName: string;
  readonly fSeekKey?: number;
  readonly fNbytes?: number;
  readonly fKeylen?: number;
  readonly fObjlen?: number;
}

export interface JsFile {
  readonly fKeys: readonly JsKey[];
  readObject(name: string, cycle?: number): Promise<unknown>;
  /** The class's streamer info (by checksum when given, else by version), or null when the file lacks it. */
  findStreamerInfo(className: string, classVersion?: number, checksum?: number): JsStreamerInfo | null;
  delete?(): void;
}

/** Serves jsroot's reads from a ByteSource (a subclass of jsroot's FileProxy, made once it is loaded). */
const sourceProxyClass = (FileProxy: JsrootIo['FileProxy']) =>
  class SourceProxy extends FileProxy {
    constructor(private readonly src: ByteSource) {
      super();
    }
    async openFile(): Promise<boolean> {
      return true;
    }
    getFileName(): string {
      return this.src.name;
    }
    getFileSize(): number {
      return this.src.size;
    }
    async readBuffer(pos: number, size: number): Promise<DataView> {
      // jsroot asks for fixed-size chunks (e.g. the first 400 bytes) that may run past the end of a
      // small file; like a plain file read, the missing tail reads as zeros.
      if (pos >= this.src.size)
        throw new RootFileError(
          this.src.size === 0
            ? `${this.src.name}: the file is empty (0 bytes)`
            : `${this.src.name}: the file ends after ${this.src.size} bytes but points to byte ${pos}; it is truncated or damaged`,
          { file: this.src.name, position: pos, size: this.src.size },
        );
      const got = await this.src.read(pos, Math.min(pos + size, this.src.size));
      let bytes = got;
      if (got.length < size) {
        bytes = new Uint8Array(size);
        bytes.set(got);
      }
      return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    closeFile(): void {}
  };

/**
 * The byte source of a ROOT file (local path, http(s) or root:// URL) that `openRoot` and `openRNTuple`
 * read through, or a RootFileError naming the file (and the tree asked for).
 */
export async function openRootSource(pathOrUrl: string, http?: HttpOptions, treeName?: string): Promise<ByteSource> {
  try {
    return await openSource(pathOrUrl, http);
  } catch (e) {
    throw new RootFileError(
      `cannot open ROOT file ${pathOrUrl}: ${nameOnce(pathOrUrl, (e as Error).message)}`,
      { file: pathOrUrl, tree: treeName },
      undefined,
      { cause: e },
    );
  }
}

/** Open the ROOT file structure (header, keys, streamer infos) through `src`. */
export async function openJsrootFile(src: ByteSource): Promise<JsFile> {
  const { openFile, SourceProxy } = await jsroot();
  const file = (await openFile(new SourceProxy(src))) as (JsFile & { fSeekInfo?: number; fNbytesInfo?: number }) | null;
  if (!file)
    throw new RootFileError(`${src.name}: jsroot could not parse the file header or key list`, { file: src.name });
  // jsroot inflates metadata objects without checking the codecs' checksums (zlib's adler-32, ROOT's
  // LZ4 xxhash64), so a damaged TTree could parse into nonsense (or into gigabytes of arrays). Check the
  // streamer infos and every top-level TTree with Ristretto's own checked decompressor first.
  if (file.fSeekInfo && file.fNbytesInfo) await verifyRecord(src, file.fSeekInfo, file.fNbytesInfo, 'streamer infos');
  for (const k of file.fKeys) {
    if (k.fClassName === 'TTree' && k.fSeekKey !== undefined && k.fNbytes !== undefined)
      await verifyRecord(src, k.fSeekKey, k.fNbytes, `metadata of tree '${k.fName}'`);
  }
  return file;
}

/**
 * Decompress the record (key + object) at `seek` and throw if its codec's checks or sizes fail: a
 * RootFileError naming the file and the record (the callers add what to do).
 */
async function verifyRecord(src: ByteSource, seek: number, nbytes: number, what: string): Promise<void> {
  const damaged = (message: string, cause?: unknown) =>
    new RootFileError(
      `${src.name}: ${message}`,
      { file: src.name, record: what, seek, nbytes },
      undefined,
      cause === undefined ? undefined : { cause },
    );
  if (!(seek > 0) || !(nbytes > 0) || seek + nbytes > src.size)
    throw damaged(`${what} claim bytes [${seek}, ${seek + nbytes}) of a ${src.size}-byte file`);
  const b = await src.read(seek, seek + nbytes);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (nbytes < 18 || dv.getInt32(0) !== nbytes)
    throw damaged(`the key of ${what} is damaged (its size disagrees with the directory)`);
  const objlen = dv.getInt32(6);
  const keylen = dv.getInt16(14);
  if (keylen <= 0 || keylen > nbytes || objlen < 0) throw damaged(`the key of ${what} is damaged`);
  if (objlen <= nbytes - keylen) return; // stored uncompressed: nothing to check
  try {
    await rootDecompress(b.subarray(keylen), objlen);
  } catch (e) {
    throw damaged(`damaged record (${what}): ${(e as Error).message}`, e);
  }
}
