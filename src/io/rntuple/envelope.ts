/**
 * The container layer of RNTuple (binary format 1.x): the anchor (the `ROOT::RNTuple` key object that
 * points to header and footer), envelopes (type, length, payload, XXH3 checksum), compression blocks,
 * and a little-endian cursor over envelope payloads that understands record and list frames and
 * locators. No schema or page knowledge lives here.
 */
import { DecompressionError, rootDecompress } from '../root/compression.ts';
import type { ByteSource } from '../source.ts';
import { RNTupleChecksumError, RNTupleFormatError, RNTupleUnsupportedError } from './errors.ts';
import { xxh3 } from './xxh3.ts';

/** Where a block lies in the file: compressed size and offset (standard or large locator). */
export interface Locator {
  readonly offset: number;
  readonly nbytes: number;
}

/** An envelope link: uncompressed length plus the locator of the (possibly compressed) bytes. */
export interface EnvelopeLink {
  readonly length: number;
  readonly locator: Locator;
}

/** Context put into every error: the file and what was being parsed. */
export interface Where {
  readonly file: string;
  readonly what: string;
}

function fail(where: Where, msg: string, extra: Record<string, unknown> = {}, cause?: unknown): never {
  throw new RNTupleFormatError(
    `${where.file}: ${where.what}: ${msg}`,
    { file: where.file, part: where.what, ...extra },
    'the file may be truncated or damaged',
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Little-endian reader over an envelope payload. Every read checks bounds (a frame must not run past
 * its parent), so a damaged envelope gives RNTupleFormatError instead of garbage.
 */
export class Cursor {
  private readonly dv: DataView;
  pos: number;
  /** Reads must stay below this offset (the end of the enclosing frame). */
  private limit: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly where: Where,
    start = 0,
    end = bytes.length,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.limit = end;
  }

  private need(n: number): number {
    if (this.pos + n > this.limit)
      fail(this.where, `needs ${n} bytes at offset ${this.pos}, but the enclosing frame ends at ${this.limit}`);
    const p = this.pos;
    this.pos += n;
    return p;
  }

  get remaining(): number {
    return this.limit - this.pos;
  }

  u8(): number {
    return this.dv.getUint8(this.need(1));
  }
  u16(): number {
    return this.dv.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.dv.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.dv.getInt32(this.need(4), true);
  }
  /** Unsigned 64-bit value as a number; values beyond 2^53 are a format error (offsets and counts never are). */
  u64(): number {
    const v = this.dv.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      fail(this.where, `64-bit value ${v} at offset ${this.pos - 8} is beyond 2^53`);
    return Number(v);
  }
  /** Signed 64-bit as a number; callers that only test the sign may get -2^63 rounded. */
  i64(): number {
    return Number(this.dv.getBigInt64(this.need(8), true));
  }
  /** Raw 64-bit value (checksums). */
  u64big(): bigint {
    return this.dv.getBigUint64(this.need(8), true);
  }
  f64(): number {
    return this.dv.getFloat64(this.need(8), true);
  }
  string(): string {
    const n = this.u32();
    const p = this.need(n);
    return new TextDecoder('utf-8').decode(this.bytes.subarray(p, p + n));
  }

  /**
   * Feature flags: 64-bit words, continued while the signed value is negative. Returns the set bits
   * (bit numbers counted over all words, the continuation bits excluded).
   */
  featureFlags(): number[] {
    const bits: number[] = [];
    for (let word = 0; ; word++) {
      const v = this.dv.getBigInt64(this.need(8), true);
      const u = BigInt.asUintN(63, v);
      for (let b = 0; b < 63; b++) if ((u >> BigInt(b)) & 1n) bits.push(word * 63 + b);
      if (v >= 0n) return bits;
    }
  }

  /**
   * A record frame: runs `body` with the cursor limited to the frame, then moves to the frame's end
   * (later format versions may append members that this reader skips).
   */
  record<T>(body: (c: Cursor) => T): T {
    const start = this.pos;
    const size = this.dv.getBigInt64(this.need(8), true);
    if (size < 0n) fail(this.where, `expected a record frame at offset ${start}, found a list frame`);
    return this.framed(start, Number(size), body);
  }

  /** A list frame: `item` is called once per item (each item is usually itself a record frame). */
  list<T>(item: (c: Cursor, index: number) => T): T[] {
    return this.listWithTail(item, () => undefined).items;
  }

  /** A list frame whose items are followed, inside the frame, by more members read by `tail`. */
  listWithTail<T, U>(item: (c: Cursor, index: number) => T, tail: (c: Cursor) => U): { items: T[]; tail: U } {
    const start = this.pos;
    const size = this.dv.getBigInt64(this.need(8), true);
    if (size >= 0n) fail(this.where, `expected a list frame at offset ${start}, found a record frame`);
    return this.framed(start, Number(-size), (c) => {
      const n = c.u32();
      if (n > c.remaining)
        fail(this.where, `list frame at offset ${start} declares ${n} items in ${c.remaining} bytes`);
      const items: T[] = [];
      for (let i = 0; i < n; i++) items.push(item(c, i));
      return { items, tail: tail(c) };
    });
  }

  private framed<T>(start: number, size: number, body: (c: Cursor) => T): T {
    const end = start + size;
    if (size < 8 || end > this.limit)
      fail(this.where, `frame at offset ${start} of ${size} bytes runs past its parent (ends at ${this.limit})`);
    const outer = this.limit;
    this.limit = end;
    try {
      const v = body(this);
      if (this.pos > end) fail(this.where, `frame at offset ${start} was overrun`);
      return v;
    } finally {
      this.limit = outer;
      this.pos = end;
    }
  }

  /** A locator: standard (32-bit size + 64-bit offset) or the large type (64-bit size and offset). */
  locator(): Locator {
    const head = this.i32();
    if (head >= 0) return { nbytes: head, offset: this.u64() };
    const size = head & 0xffff;
    const type = (head >>> 24) & 0x7f;
    const start = this.pos - 4;
    if (type === 0x01) {
      const nbytes = this.u64();
      const offset = this.u64();
      this.pos = start + size;
      return { nbytes, offset };
    }
    throw new RNTupleUnsupportedError(
      `${this.where.file}: ${this.where.what}: locator of type ${type} (not in a file) cannot be read`,
      { file: this.where.file, locatorType: type },
      'only RNTuples stored in ROOT files are supported',
    );
  }

  envelopeLink(): EnvelopeLink {
    const length = this.u64();
    return { length, locator: this.locator() };
  }
}

/** The RNTuple anchor (ROOT::RNTuple class version 2; all integers big-endian). */
export interface Anchor {
  readonly version: readonly [number, number, number, number];
  readonly header: EnvelopeLink;
  readonly footer: EnvelopeLink;
  readonly maxKeySize: number;
}

/** The TKey fields of the anchor's key (as jsroot lists them). */
export interface AnchorKey {
  readonly fName: string;
  readonly fClassName: string;
  readonly fSeekKey: number;
  readonly fKeylen: number;
  readonly fNbytes: number;
  readonly fObjlen: number;
}

/** Read and check the anchor object stored in `key`. */
export async function readAnchor(src: ByteSource, key: AnchorKey): Promise<Anchor> {
  const where = { file: src.name, what: `anchor of RNTuple '${key.fName}'` };
  if (key.fSeekKey + key.fNbytes > src.size)
    fail(
      where,
      `key bytes [${key.fSeekKey}, ${key.fSeekKey + key.fNbytes}) lie beyond the end of the file (${src.size} bytes)`,
    );
  const raw = await src.read(key.fSeekKey + key.fKeylen, key.fSeekKey + key.fNbytes);
  let obj = raw;
  if (raw.length !== key.fObjlen) obj = await decompress(raw, key.fObjlen, where);
  return parseAnchor(obj, where);
}

/** Parse the streamed anchor: byte count + class version, 4 x u16 version, 7 x u64, then XXH3 of the fields. */
export function parseAnchor(obj: Uint8Array, where: Where): Anchor {
  const dv = new DataView(obj.buffer, obj.byteOffset, obj.byteLength);
  if (obj.length < 6) fail(where, `object is ${obj.length} bytes`);
  const bytecount = dv.getUint32(0) & ~0x40000000;
  const classVersion = dv.getUint16(4);
  const FIELDS = 8 + 7 * 8;
  if (classVersion < 2) {
    throw new RNTupleUnsupportedError(
      `${where.file}: ${where.what}: anchor class version ${classVersion} is the pre-release format (epoch 0)`,
      { file: where.file, classVersion },
      'rewrite the file with ROOT 6.34 or later (RNTuple format 1.x)',
    );
  }
  if (bytecount < 2 + FIELDS || 4 + bytecount + 8 > obj.length)
    fail(where, `object of ${obj.length} bytes with byte count ${bytecount} is too short for an RNTuple anchor`);
  const fields = obj.subarray(6, 6 + FIELDS);
  const stored = dv.getBigUint64(4 + bytecount);
  const computed = xxh3(fields);
  if (stored !== computed) {
    throw new RNTupleChecksumError(
      `${where.file}: ${where.what}: checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
      { file: where.file, part: where.what, stored: hex(stored), computed: hex(computed) },
      'the file is damaged',
    );
  }
  const version = [dv.getUint16(6), dv.getUint16(8), dv.getUint16(10), dv.getUint16(12)] as const;
  const u64 = (i: number): number => {
    const v = dv.getBigUint64(14 + 8 * i);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(where, `field ${i} is beyond 2^53`);
    return Number(v);
  };
  if (version[0] !== 1) {
    throw new RNTupleUnsupportedError(
      `${where.file}: ${where.what}: RNTuple format epoch ${version[0]} (version ${version.join('.')}) is not supported; this reader reads epoch 1`,
      { file: where.file, version: version.join('.') },
      version[0] === 0 ? 'rewrite the file with ROOT 6.34 or later' : undefined,
    );
  }
  return {
    version,
    header: { locator: { offset: u64(0), nbytes: u64(1) }, length: u64(2) },
    footer: { locator: { offset: u64(3), nbytes: u64(4) }, length: u64(5) },
    maxKeySize: u64(6),
  };
}

export function hex(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/** Decompress a block: stored as-is when the sizes agree, else ROOT compression blocks. */
export async function decompress(raw: Uint8Array, length: number, where: Where): Promise<Uint8Array> {
  if (raw.length === length) return raw;
  try {
    return await rootDecompress(raw, length);
  } catch (e) {
    // The codec's error stays the cause: `instanceof CodecError` holds below the format error.
    if (e instanceof DecompressionError) fail(where, `decompression failed: ${e.message}`, {}, e);
    throw e;
  }
}

/** Envelope type IDs. */
export const ENVELOPE = { header: 1, footer: 2, pageList: 3 } as const;

export interface Envelope {
  /** The payload (after the 8-byte type/length word, before the checksum). */
  readonly payload: Cursor;
  /** XXH3 of the envelope (stored at its end, verified). */
  readonly checksum: bigint;
}

/** Read, decompress and verify an envelope of type `type` from `link`. */
export async function readEnvelope(
  src: ByteSource,
  link: EnvelopeLink,
  type: number,
  what: string,
  maxKeySize: number,
): Promise<Envelope> {
  const where = { file: src.name, what };
  const { offset, nbytes } = link.locator;
  if (nbytes > maxKeySize && maxKeySize > 0) {
    throw new RNTupleUnsupportedError(
      `${src.name}: ${what} of ${nbytes} bytes is split over several keys (max key size ${maxKeySize})`,
      { file: src.name, part: what },
      'envelopes above the maximum key size are not supported yet',
    );
  }
  if (offset + nbytes > src.size)
    fail(
      where,
      `bytes [${offset}, ${offset + nbytes}) lie beyond the end of the file (${src.size} bytes); the file is truncated`,
    );
  const raw = await src.read(offset, offset + nbytes);
  const bytes = await decompress(raw, link.length, where);
  return parseEnvelope(bytes, type, where);
}

/** Check an uncompressed envelope's type, length and checksum. */
export function parseEnvelope(bytes: Uint8Array, type: number, where: Where): Envelope {
  if (bytes.length < 16) fail(where, `envelope of ${bytes.length} bytes is too short`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = dv.getBigUint64(bytes.length - 8, true);
  const computed = xxh3(bytes.subarray(0, bytes.length - 8));
  if (stored !== computed) {
    throw new RNTupleChecksumError(
      `${where.file}: ${where.what}: checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
      { file: where.file, part: where.what, stored: hex(stored), computed: hex(computed) },
      'the file is damaged',
    );
  }
  const word = dv.getBigUint64(0, true);
  const gotType = Number(word & 0xffffn);
  const length = Number(word >> 16n);
  if (gotType !== type) fail(where, `envelope type ${gotType}, expected ${type}`);
  if (length !== bytes.length) fail(where, `envelope declares ${length} bytes, has ${bytes.length}`);
  return { payload: new Cursor(bytes, where, 8, bytes.length - 8), checksum: stored };
}
