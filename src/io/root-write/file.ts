/**
 * A ROOT file written front to back: the file header, the top directory (the TFile key with its
 * TNamed and TDirectory record), subdirectories, object keys (zlib/LZ4/ZSTD-compressed), baskets, and at
 * `close()` the StreamerInfo record, one keys list per directory, the free-segments record and the
 * final header. Always the "large file" flavour (64-bit seeks in header, keys and directories), which
 * every ROOT since 4 reads, so files past 2 GB need no second code path. Bytes go straight to the file
 * descriptor, so memory stays bounded by the largest single object or basket.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { RistrettoError } from '../../errors/index.ts';
import { WBuffer } from './buffer.ts';
import { type Compression, compressSetting, rootCompress } from './compress.ts';
import { writeStreamerInfoList } from './streamers.ts';
import { zstdReady } from './zstd.ts';

/** A problem while writing a ROOT file (names the file and the object). */
export class RootWriteError extends RistrettoError {}

const BEGIN = 100;
/** ROOT 6.30/00, the version written into the header (large-file flavour adds 1,000,000). */
const ROOT_VERSION = 63000;
const KEY_VERSION = 1004; // TKey v4, 64-bit seeks
const DIR_VERSION = 1005; // TDirectory v5, 64-bit seeks
const START_BIG_FILE = 2000000000;

/** ROOT's TDatime packing. */
function datime(d = new Date()): number {
  return (
    (((d.getFullYear() - 1995) << 26) |
      ((d.getMonth() + 1) << 22) |
      (d.getDate() << 17) |
      (d.getHours() << 12) |
      (d.getMinutes() << 6) |
      d.getSeconds()) >>>
    0
  );
}

/** Bytes of a TString. */
function tstringLength(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  return n + (n < 255 ? 1 : 5);
}

/** What a key says about itself (all that the keys list repeats). */
interface KeyHeader {
  nbytes: number;
  objlen: number;
  datime: number;
  keylen: number;
  cycle: number;
  seekKey: number;
  seekPdir: number;
  className: string;
  name: string;
  title: string;
}

function keyLength(className: string, name: string, title: string): number {
  return 4 + 2 + 4 + 4 + 2 + 2 + 8 + 8 + tstringLength(className) + tstringLength(name) + tstringLength(title);
}

function writeKeyHeader(b: WBuffer, k: KeyHeader): void {
  b.i32(k.nbytes)
    .i16(KEY_VERSION)
    .i32(k.objlen)
    .u32(k.datime)
    .i16(k.keylen)
    .i16(k.cycle)
    .i64(k.seekKey)
    .i64(k.seekPdir);
  b.tstring(k.className).tstring(k.name).tstring(k.title);
}

/** A directory of the file: its keys, and where its record sits so close() can fill it in. */
export class RootDirectory {
  /** @internal */ readonly keys: KeyHeader[] = [];
  /** @internal */ readonly children = new Map<string, RootDirectory>();
  /** @internal */ seekKeys = 0;
  /** @internal */ nbytesKeys = 0;

  /** @internal */
  constructor(
    readonly name: string,
    readonly title: string,
    /** Position of the directory's key (the file's: BEGIN). */
    readonly seekDir: number,
    /** Position of the TDirectory record (patched at close). */
    readonly recordAt: number,
    readonly nbytesName: number,
    readonly parent: RootDirectory | null,
  ) {}
}

export interface RootFileOptions {
  /** Compression of objects and baskets (default zlib level 1, as ROOT's default 101... level 1). */
  compression?: Compression;
  /** The file's title. */
  title?: string;
}

/**
 * Writes one ROOT file. Objects are streamed into a WBuffer by the caller (`writeObject` hands it one
 * whose tag offset is the key length), baskets are given as key-less payloads (`writeBasket`).
 *
 * @example
 * const f = new RootFileWriter('out.root');
 * f.writeObject(f.root, 'h', 'a histogram', 'TH1D', (b) => streamObject(b, 'TH1D', th1));
 * f.close(['TH1D']);
 */
export class RootFileWriter {
  readonly root: RootDirectory;
  readonly compression: Compression;
  private readonly fd: number;
  private end = 0;
  private readonly stamp = datime();
  private closed = false;

  constructor(
    readonly path: string,
    opts: RootFileOptions = {},
    /** Name recorded in the file (default: the base name of `path`). */
    readonly fileName = basename(path),
  ) {
    this.compression = opts.compression ?? { codec: 'zlib', level: 1 };
    if (this.compression.codec === 'zstd' && !zstdReady()) {
      // refused before the file exists: the first basket would fail half-way through the file
      throw new RootWriteError(
        `cannot write ${path} with zstd: the zstd wasm is not loaded`,
        { file: path, compression: 'zstd' },
        'await prepareCompression(compression) before opening the writer',
      );
    }
    this.fd = openSync(path, 'w');
    try {
      // header placeholder; the top directory: TFile key, TNamed (name, title), TDirectory record
      this.put(new Uint8Array(BEGIN), 0);
      const title = opts.title ?? '';
      const keylen = keyLength('TFile', this.fileName, title);
      const nbytesName = keylen + tstringLength(this.fileName) + tstringLength(title);
      const nbytes = nbytesName + DIR_RECORD;
      const b = new WBuffer();
      writeKeyHeader(b, {
        nbytes,
        objlen: nbytes - keylen,
        datime: this.stamp,
        keylen,
        cycle: 1,
        seekKey: BEGIN,
        seekPdir: 0,
        className: 'TFile',
        name: this.fileName,
        title,
      });
      b.tstring(this.fileName).tstring(title);
      this.root = new RootDirectory(this.fileName, title, BEGIN, BEGIN + nbytesName, nbytesName, null);
      b.raw(this.directoryRecord(this.root));
      this.put(b.bytes(), BEGIN);
      this.end = BEGIN + nbytes;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  private put(bytes: Uint8Array, at: number): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
  }

  private append(bytes: Uint8Array): number {
    const at = this.end;
    this.put(bytes, at);
    this.end += bytes.length;
    return at;
  }

  private directoryRecord(d: RootDirectory): Uint8Array {
    const b = new WBuffer();
    b.u16(DIR_VERSION).u32(this.stamp).u32(this.stamp).i32(d.nbytesKeys).i32(d.nbytesName);
    b.i64(d.seekDir)
      .i64(d.parent?.seekDir ?? 0)
      .i64(d.seekKeys);
    b.u16(1).raw(new Uint8Array(16)); // TUUID version 1, all zero
    return b.bytes().slice();
  }

  /** The subdirectory `name` of `parent`, created on first use. */
  mkdir(parent: RootDirectory, name: string, title = ''): RootDirectory {
    this.checkOpen();
    const existing = parent.children.get(name);
    if (existing) return existing;
    if (parent.keys.some((k) => k.name === name))
      throw new RootWriteError(
        `${this.path}: '${name}' is already an object in directory '${parent.name}'`,
        { file: this.path, name },
        'give the directory another name',
      );
    const keylen = keyLength('TDirectory', name, title);
    const nbytes = keylen + DIR_RECORD;
    const seekKey = this.end;
    const dir = new RootDirectory(name, title, seekKey, seekKey + keylen, keylen, parent);
    const header: KeyHeader = {
      nbytes,
      objlen: DIR_RECORD,
      datime: this.stamp,
      keylen,
      cycle: 1,
      seekKey,
      seekPdir: parent.seekDir,
      className: 'TDirectory',
      name,
      title,
    };
    const b = new WBuffer();
    writeKeyHeader(b, header);
    b.raw(this.directoryRecord(dir));
    this.append(b.bytes());
    parent.keys.push(header);
    parent.children.set(name, dir);
    return dir;
  }

  /** Write one object under `name` in `dir`; `stream` writes the object into the buffer it is given. */
  writeObject(
    dir: RootDirectory,
    name: string,
    title: string,
    className: string,
    stream: (b: WBuffer) => void,
  ): KeyHeader {
    this.checkOpen();
    if (dir.children.has(name) || dir.keys.some((k) => k.name === name))
      throw new RootWriteError(
        `${this.path}: two objects named '${name}' in directory '${dir.name}'`,
        { file: this.path, name },
        'give every histogram a distinct key',
      );
    const keylen = keyLength(className, name, title);
    const b = new WBuffer(keylen);
    stream(b);
    const header = this.writeKey(dir, className, name, title, b.bytes());
    dir.keys.push(header);
    return header;
  }

  /**
   * Write a key whose object is `payload` (uncompressed, without key header); returns the key header
   * (its `seekKey` and `nbytes` are what a TBranch records for a basket). `extraHeader` bytes follow
   * the key's strings inside the key (a TBasket's own header), counted in the key length.
   */
  writeKey(
    dir: RootDirectory,
    className: string,
    name: string,
    title: string,
    payload: Uint8Array,
    extraHeader?: (keylen: number, nbytes: number) => Uint8Array,
    extraLength = 0,
  ): KeyHeader {
    this.checkOpen();
    return this.writeKeyUnchecked(className, name, title, payload, dir, extraHeader, extraLength);
  }

  private checkOpen(): void {
    if (this.closed)
      throw new RootWriteError(
        `${this.path} is already closed`,
        { file: this.path },
        'write every object before close()',
      );
  }

  /**
   * Finish the file: the StreamerInfo record for `classes` (and what they use), the keys list of every
   * directory, the free segments and the header. Closes the descriptor, also on failure.
   */
  close(classes: readonly string[]): void {
    this.checkOpen();
    this.closed = true;
    try {
      // StreamerInfo: a TList of TStreamerInfo, compressed like any object
      const siKeylen = keyLength('TList', 'StreamerInfo', 'Doubly linked list');
      const si = new WBuffer(siKeylen);
      writeStreamerInfoList(si, classes);
      const info = this.writeKeyUnchecked('TList', 'StreamerInfo', 'Doubly linked list', si.bytes(), this.root);
      // keys lists, deepest directories first so every record is final when written
      const dirs: RootDirectory[] = [];
      const walk = (d: RootDirectory) => {
        for (const c of d.children.values()) walk(c);
        dirs.push(d);
      };
      walk(this.root);
      for (const d of dirs) {
        const cls = d.parent ? 'TDirectory' : 'TFile';
        const keylen = keyLength(cls, d.name, d.title);
        const body = new WBuffer();
        body.i32(d.keys.length);
        for (const k of d.keys) writeKeyHeader(body, k);
        const nbytes = keylen + body.pos;
        const b = new WBuffer();
        writeKeyHeader(b, {
          nbytes,
          objlen: body.pos,
          datime: this.stamp,
          keylen,
          cycle: 1,
          seekKey: this.end,
          seekPdir: d.seekDir,
          className: cls,
          name: d.name,
          title: d.title,
        });
        b.raw(body.bytes());
        d.seekKeys = this.end;
        d.nbytesKeys = nbytes;
        this.append(b.bytes());
        this.put(this.directoryRecord(d), d.recordAt);
      }
      // free segments: one TFree (64-bit) from the end of the file on
      const freeKeylen = keyLength('TFile', this.fileName, this.root.title);
      const freeLen = 2 + 8 + 8;
      const seekFree = this.end;
      const nbytesFree = freeKeylen + freeLen;
      const endOfFile = seekFree + nbytesFree;
      const fb = new WBuffer();
      writeKeyHeader(fb, {
        nbytes: nbytesFree,
        objlen: freeLen,
        datime: this.stamp,
        keylen: freeKeylen,
        cycle: 1,
        seekKey: seekFree,
        seekPdir: BEGIN,
        className: 'TFile',
        name: this.fileName,
        title: this.root.title,
      });
      fb.u16(1001)
        .i64(endOfFile)
        .i64(Math.max(START_BIG_FILE, endOfFile * 2));
      this.append(fb.bytes());
      // header
      const h = new WBuffer();
      h.raw(new TextEncoder().encode('root'));
      h.i32(ROOT_VERSION + 1000000)
        .i32(BEGIN)
        .i64(this.end)
        .i64(seekFree)
        .i32(nbytesFree)
        .i32(1);
      h.i32(this.root.nbytesName).u8(8).i32(compressSetting(this.compression)).i64(info.seekKey).i32(info.nbytes);
      h.u16(1).raw(new Uint8Array(16));
      this.put(h.bytes(), 0);
    } finally {
      closeSync(this.fd);
    }
  }

  /** Abandon the file (closes the descriptor; the caller removes it). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** {@link writeKey} without the open check: close() writes its records after marking the file closed. */
  private writeKeyUnchecked(
    className: string,
    name: string,
    title: string,
    payload: Uint8Array,
    dir: RootDirectory,
    extraHeader?: (keylen: number, nbytes: number) => Uint8Array,
    extraLength = 0,
  ): KeyHeader {
    const keylen = keyLength(className, name, title) + extraLength;
    const stored = rootCompress(payload, this.compression);
    const nbytes = keylen + stored.length;
    const header: KeyHeader = {
      nbytes,
      objlen: payload.length,
      datime: this.stamp,
      keylen,
      cycle: 1,
      seekKey: this.end,
      seekPdir: dir.seekDir,
      className,
      name,
      title,
    };
    const b = new WBuffer(0, keylen + 16);
    writeKeyHeader(b, header);
    if (extraHeader) b.raw(extraHeader(keylen, nbytes));
    if (b.pos !== keylen)
      throw new RootWriteError(`${this.path}: key header of '${name}' is ${b.pos} bytes, expected ${keylen}`, {
        file: this.path,
        name,
      });
    this.append(b.bytes());
    this.append(stored);
    return header;
  }
}

/** Bytes of a TDirectory record (large flavour): version, 2 dates, 2 sizes, 3 seeks, UUID. */
const DIR_RECORD = 2 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 18;
