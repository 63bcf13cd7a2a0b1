/**
 * A growable big-endian byte buffer with ROOT's TBufferFile conventions for writing: version headers
 * with byte counts, TStrings, and `writeObjectAny` with class tags and object references (so a second
 * mention of a class or object costs 4 bytes, and a leaf's fLeafCount points at the counter leaf written
 * earlier in the same buffer). Tags are positions in the key's buffer: the object's offset here plus
 * `tagOffset` (the key length) plus 2, as ROOT's reader expects.
 */

const kByteCountMask = 0x40000000;
const kNewClassTag = 0xffffffff;
const kClassMask = 0x80000000;
const kMapOffset = 2;

export class WBuffer {
  private buf: Uint8Array;
  private dv: DataView;
  /** Bytes written so far. */
  pos = 0;
  private readonly classTags = new Map<string, number>();
  private readonly objectTags = new Map<object, number>();

  /** @param tagOffset the length of the key this buffer is the object of (ROOT's fKeylen). */
  constructor(
    readonly tagOffset = 0,
    capacity = 1024,
  ) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  /** The bytes written (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  i8(v: number): this {
    return this.u8(v);
  }
  bool(v: unknown): this {
    return this.u8(v ? 1 : 0);
  }
  i16(v: number): this {
    this.room(2);
    this.dv.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.dv.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.dv.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.dv.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }
  /** A 64-bit integer from a JS number (exact up to 2^53). */
  i64(v: number): this {
    this.room(8);
    this.dv.setBigInt64(this.pos, BigInt(Math.trunc(v)));
    this.pos += 8;
    return this;
  }
  f32(v: number): this {
    this.room(4);
    this.dv.setFloat32(this.pos, v);
    this.pos += 4;
    return this;
  }
  f64(v: number): this {
    this.room(8);
    this.dv.setFloat64(this.pos, v);
    this.pos += 8;
    return this;
  }
  raw(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** ROOT's TString: a length byte (255 + int32 for long strings), then the bytes (Latin-1/UTF-8 as given). */
  tstring(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 255) this.u8(b.length);
    else this.u8(255).i32(b.length);
    return this.raw(b);
  }
  /** A NUL-terminated string (class names after a new-class tag). */
  cstring(s: string): this {
    return this.raw(Buffer.from(s, 'latin1')).u8(0);
  }
  /** Overwrite 4 bytes at `at`. */
  patchU32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0);
  }

  /** Start a version header with a byte count; finish it with `endVersion(mark)`. */
  startVersion(version: number): number {
    const at = this.pos;
    this.u32(0).i16(version);
    return at;
  }
  /** Fill in the byte count of the header started at `mark` (bytes after the count word). */
  endVersion(mark: number): void {
    this.patchU32(mark, (this.pos - mark - 4) | kByteCountMask);
  }

  /**
   * ROOT's WriteObjectAny: null → 4 zero bytes; an object already written → its tag; otherwise a byte
   * count, the class (new-class tag + name, or a reference to the class written before) and the object
   * as `body` streams it.
   */
  objectAny(obj: object | null | undefined, className: string, body: (b: WBuffer) => void): void {
    if (obj === null || obj === undefined) {
      this.u32(0);
      return;
    }
    const seen = this.objectTags.get(obj);
    if (seen !== undefined) {
      this.u32(seen);
      return;
    }
    const start = this.pos;
    this.u32(0); // byte count, patched below
    this.objectTags.set(obj, start + this.tagOffset + kMapOffset);
    const classTag = this.classTags.get(className);
    if (classTag !== undefined) this.u32(classTag | kClassMask);
    else {
      this.classTags.set(className, this.pos + this.tagOffset + kMapOffset);
      this.u32(kNewClassTag).cstring(className);
    }
    body(this);
    this.patchU32(start, (this.pos - start - 4) | kByteCountMask);
  }
}
