/**
 * A cursor over Thrift compact-protocol bytes (the encoding of a Parquet footer): fields, varints,
 * 64-bit integers as plain numbers (no BigInt), binaries as views, and skipping whole values without
 * building them. Every read is bounds-checked: damaged bytes end in a `ThriftError` with the byte
 * position, never in a read past the end, an endless loop or a list of absurd size.
 */

/** Compact-protocol type codes (the low nibble of a field header or a list header). */
export const T = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

/**
 * The kind of each type code, as `struct` layouts name them: i16, i32 and i64 are interchangeable (all
 * zigzag varints), so are the two boolean codes; every other code is its own kind.
 */
const KIND: readonly number[] = [
  T.STOP,
  T.TRUE,
  T.TRUE,
  T.BYTE,
  T.I32,
  T.I32,
  T.I32,
  T.DOUBLE,
  T.BINARY,
  T.LIST,
  T.SET,
  T.MAP,
  T.STRUCT,
];

/** Field kinds of a struct by id (index), for `ThriftCursor.struct`: I32 stands for any integer, TRUE for a boolean. */
export function layout(fields: Record<number, number>): number[] {
  const out: number[] = [];
  for (const [id, t] of Object.entries(fields)) out[Number(id)] = KIND[t];
  return out;
}

/** Nesting deeper than this is damage (Parquet's footer nests 5 levels). */
const MAX_DEPTH = 64;

/**
 * Bytes that do not decode as Thrift compact protocol; `position` is the offset in the cursor's bytes.
 * Internal: the footer reader turns it into a ParquetFormatError naming the file (footer.ts).
 */
export class ThriftError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at byte ${position}`);
    this.name = 'ThriftError';
  }
}

/** A read position in `bytes` up to `end`. */
export class ThriftCursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
    readonly end = bytes.length,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new ThriftError('thrift data ends early', this.pos);
    return this.bytes[this.pos++];
  }

  /** An unsigned varint up to 2^53 (exact), as a number. */
  varint(): number {
    const b = this.bytes;
    let p = this.pos;
    // Fast path: up to 4 bytes fit 28 bits and combine with bit operations.
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= this.end) throw new ThriftError('thrift varint ends early', p);
      const x = b[p++];
      result |= (x & 0x7f) << shift;
      if (x < 0x80) {
        this.pos = p;
        return result;
      }
    }
    // Longer (64-bit fields): continue in floating point, exact up to 2^53.
    let scale = 2 ** 28;
    for (let k = 4; k < 10; k++) {
      if (p >= this.end) throw new ThriftError('thrift varint ends early', p);
      const x = b[p++];
      result += (x & 0x7f) * scale;
      scale *= 128;
      if (x < 0x80) {
        this.pos = p;
        return result;
      }
    }
    throw new ThriftError('thrift varint longer than 10 bytes', this.pos);
  }

  /** A zigzag-encoded i16/i32. */
  i32(): number {
    const z = this.varint();
    if (z > 0xffffffff) throw new ThriftError(`thrift i32 out of range (${z})`, this.pos);
    return (z >>> 1) ^ -(z & 1);
  }

  /**
   * A zigzag-encoded i64 as a number: exact for |v| < 2^52, which holds every offset, size and count
   * of a real file (a larger value is beyond any file and fails the reader's own range checks).
   */
  i64(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ThriftError('thrift double ends early', this.pos);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A binary/string value: a view into the bytes (not a copy). */
  binary(): Uint8Array {
    const n = this.varint();
    if (n > this.end - this.pos)
      throw new ThriftError(`thrift binary of ${n} bytes exceeds the ${this.end - this.pos} left`, this.pos);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(): string {
    return decoder.decode(this.binary());
  }

  /**
   * A list header: element type and size. The size is checked against the bytes left (every element
   * takes at least one byte), so a damaged size cannot start a loop of billions of iterations.
   */
  list(): { type: number; size: number } {
    const h = this.byte();
    let size = h >> 4;
    if (size === 15) size = this.varint();
    const type = h & 0x0f;
    if (size > this.end - this.pos)
      throw new ThriftError(`thrift list of ${size} elements in ${this.end - this.pos} bytes`, this.pos);
    return { type, size };
  }

  /**
   * Iterate the fields of a struct: `onField(id, type)` must consume the value (read or `skip` it).
   * A boolean field's value is its type (TRUE/FALSE); `bool(type)` turns it into true/false.
   * With `layout` (the struct's field types by id, from the Thrift IDL), a known field of another type
   * is damage and throws, also for fields `onField` only skips: a flipped type nibble is caught even
   * where the value is not used. Unknown ids are passed on (newer writers add fields).
   */
  struct(onField: (id: number, type: number) => void, layout?: readonly number[], name = 'struct'): void {
    let id = 0;
    for (;;) {
      const h = this.byte();
      const type = h & 0x0f;
      if (type === T.STOP) return;
      const delta = h >> 4;
      id = delta ? id + delta : this.i32();
      if (layout !== undefined && id > 0 && id < layout.length) {
        const want = layout[id];
        if (want !== undefined && want !== KIND[type])
          throw new ThriftError(`thrift field ${id} of ${name} has type ${type}, expected ${want}`, this.pos);
      }
      onField(id, type);
    }
  }

  /**
   * Skip a value of `type` without building it. One loop with an explicit stack rather than recursion:
   * opening a file skips over every row group's column chunks (most of a footer's bytes) once, in a
   * fresh process or worker where nothing is compiled yet, and a single hot loop is optimized on the
   * spot (on-stack replacement) where a recursive walk runs interpreted for most of the footer.
   */
  skip(type: number): void {
    const b = this.bytes;
    const end = this.end;
    let p = this.pos;
    let depth = 0;
    let t = type;
    for (;;) {
      // Skip one value of type t (a list or struct opens a frame instead).
      switch (t) {
        case T.TRUE:
        case T.FALSE:
          break;
        case T.BYTE:
          p++;
          break;
        case T.DOUBLE:
          p += 8;
          break;
        case T.I16:
        case T.I32:
        case T.I64: {
          let k = 0;
          while (p < end && b[p++] >= 0x80) if (++k > 9) throw new ThriftError('thrift varint longer than 10 bytes', p);
          break;
        }
        case T.BINARY:
        case T.LIST:
        case T.SET: {
          if (t !== T.BINARY && depth >= MAX_DEPTH) throw new ThriftError('thrift values nested too deep', p);
          let n = 0;
          let h = 0;
          if (t !== T.BINARY) {
            if (p >= end) throw new ThriftError('thrift data ends early', p);
            h = b[p++];
            n = h >> 4;
          }
          if (t === T.BINARY || n === 15) {
            this.pos = p;
            n = this.varint();
            p = this.pos;
          }
          if (n > end - p)
            throw new ThriftError(
              `thrift ${t === T.BINARY ? 'binary' : 'list'} of ${n} exceeds the ${end - p} bytes left`,
              p,
            );
          if (t === T.BINARY) p += n;
          else {
            const et = h & 0x0f;
            // Booleans inside a list take one byte each.
            frameType[depth] = et === T.TRUE || et === T.FALSE ? T.BYTE : et;
            frameLeft[depth++] = n;
          }
          break;
        }
        case T.STRUCT:
          if (depth >= MAX_DEPTH) throw new ThriftError('thrift values nested too deep', p);
          frameType[depth] = -1;
          frameLeft[depth++] = 0;
          break;
        default:
          // MAP and UUID do not occur in Parquet metadata; anything else is not a type code.
          throw new ThriftError(`thrift type ${t} is not expected in Parquet metadata`, p);
      }
      if (p > end) throw new ThriftError('thrift data ends early', end);
      // The next value to skip: a list's next element, a struct's next field, or done.
      for (;;) {
        if (depth === 0) {
          this.pos = p;
          return;
        }
        const top = depth - 1;
        if (frameType[top] === -1) {
          if (p >= end) throw new ThriftError('thrift data ends early', p);
          const h = b[p++];
          t = h & 0x0f;
          if (t === T.STOP) {
            depth--;
            continue;
          }
          if (!(h >> 4)) {
            // A long-form field id.
            this.pos = p;
            this.i32();
            p = this.pos;
          }
          break;
        }
        if (frameLeft[top] === 0) {
          depth--;
          continue;
        }
        frameLeft[top]--;
        t = frameType[top];
        break;
      }
    }
  }

  /** The value of a boolean struct field (its type code carries it). */
  bool(type: number): boolean {
    if (type === T.TRUE) return true;
    if (type === T.FALSE) return false;
    throw new ThriftError(`thrift type ${type} where a boolean was expected`, this.pos);
  }

  /**
   * An integer field of any integer type (the IDL fixes one, but all are zigzag varints and a reader
   * loses nothing by accepting each), as a number; see `i64` for the range.
   */
  int(type: number, what: string): number {
    if (type === T.I32 || type === T.I64 || type === T.I16) return this.i64();
    if (type === T.BYTE) return (this.byte() << 24) >> 24;
    throw new ThriftError(`thrift field ${what} has type ${type}, not an integer`, this.pos);
  }

  /** Check that a field of `type` is what the schema says (`want`), else the bytes are damaged. */
  expect(type: number, want: number, what: string): void {
    if (type !== want) throw new ThriftError(`thrift field ${what} has type ${type}, expected ${want}`, this.pos);
  }
}

const decoder = new TextDecoder();
// The open lists and structs of `skip` (element type, or -1 for a struct; elements left). `skip` runs no
// callback, so one set serves every cursor.
const frameType = new Int32Array(MAX_DEPTH);
const frameLeft = new Float64Array(MAX_DEPTH);
