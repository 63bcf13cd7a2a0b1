/**
 * Binary transport of accumulators between threads, processes and hosts.
 *
 * Layout (all integers little-endian):
 * ```
 *  0  magic "RSAC"          4 bytes
 *  4  format version        u16 (1)
 *  6  byte order of arrays  u8 (1 = little-endian)
 *  7  reserved              u8 (0)
 *  8  structure length L    u32 (bytes of UTF-8 JSON)
 * 12  reserved              u32 (0)
 * 16  total length          f64 (bytes, for truncation checks)
 * 24  structure             L bytes of JSON: { v: node, b: [[offset, byteLength], ...] }
 *  .. zero padding to a multiple of 8
 *  D  data section          every array's raw bytes, each starting at an 8-byte-aligned offset from D
 * ```
 * Typed arrays never pass through JSON; decode returns views into the input bytes (no copy) because
 * every array starts 8-byte aligned.
 */
import { ColumnAccumulator } from './column.ts';
import { CodecError } from './errors.ts';
import { setOwn, describeType } from './merge.ts';
import { binaryDecoder, isBinarySerializable } from './protocol.ts';
import { type AnyTypedArray, isTypedArray, typedArrayConstructor, typedArrayName } from './typed.ts';

const MAGIC = [0x52, 0x53, 0x41, 0x43]; // "RSAC"
const VERSION = 1;
const HEADER_BYTES = 24;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

type Node = number | string | boolean | null | Node[] | { t: string; [k: string]: unknown };
type Path = (string | number)[];

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Serialize an accumulator to one self-contained buffer. The result owns its ArrayBuffer (exactly its
 * size, not a pooled slice), so it can be put in a `postMessage` transfer list.
 *
 * Supports numbers (NaN, ±Infinity, -0 included), bigints, strings, booleans, null, undefined, plain
 * objects, arrays, Maps (any encodable keys), Sets, every typed array kind, `ColumnAccumulator`, and
 * `BinarySerializable` values whose tag is registered with `registerBinaryType` on the decoding side.
 *
 * @throws CodecError naming the key path of a value that cannot be encoded.
 * @example
 * ```ts
 * const bytes = encode({ nevents: 1000, mass: hist });
 * port.postMessage(bytes, [bytes.buffer]);
 * ```
 */
export function encode(acc: unknown): Uint8Array<ArrayBuffer> {
  if (!LITTLE_ENDIAN) {
    throw new CodecError(
      'big-endian hosts are not supported by the accumulator codec',
      {},
      'run workers on little-endian machines',
    );
  }
  const views: ArrayBufferView[] = [];
  const root = describe(acc, views, []);
  const table: [number, number][] = [];
  let dataLength = 0;
  for (const v of views) {
    table.push([dataLength, v.byteLength]);
    dataLength = align8(dataLength + v.byteLength);
  }
  const json = new TextEncoder().encode(JSON.stringify({ v: root, b: table }));
  const dataStart = align8(HEADER_BYTES + json.length);
  const total = dataStart + dataLength;
  // An unpooled, unzeroed allocation: its own ArrayBuffer of exactly `total` bytes (transferable), and
  // 3× cheaper than a zeroed one for megabyte outputs. Every byte is written below, padding included,
  // so the output is deterministic and never exposes stale memory.
  const backing = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(backing.buffer as ArrayBuffer, backing.byteOffset, total);
  out.fill(0, 0, HEADER_BYTES);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer, out.byteOffset, total);
  dv.setUint16(4, VERSION, true);
  dv.setUint8(6, 1);
  dv.setUint32(8, json.length, true);
  dv.setFloat64(16, total, true);
  out.set(json, HEADER_BYTES);
  out.fill(0, HEADER_BYTES + json.length, dataStart);
  for (let i = 0; i < views.length; i++) {
    const v = views[i];
    const at = dataStart + table[i][0];
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    out.fill(0, at + v.byteLength, i + 1 < views.length ? dataStart + table[i + 1][0] : total);
  }
  return out;
}

/** Options for {@link decode}. */
export interface DecodeOptions {
  /**
   * Copy the bytes once before building views, so the result does not alias `bytes`. Needed when the
   * same bytes are decoded more than once and the results are merged in place (a Hist's `iadd` writes
   * into its storage, which would otherwise be the shared input buffer). Default false.
   */
  copy?: boolean;
}

/**
 * Rebuild an accumulator from {@link encode}'s bytes. Typed arrays (and the buffers handed to registered
 * decoders) are zero-copy views into `bytes` unless `options.copy` is set; bytes that are not 8-byte
 * aligned in their buffer are copied once.
 *
 * @throws CodecError for bytes that are not an encoded accumulator, truncated, or of a newer version;
 *   UnknownBinaryTypeError when a registered type's module was not imported on this side.
 * @example
 * ```ts
 * worker.on('message', (bytes: Uint8Array) => { total = accumulate(total, decode(bytes)); });
 * ```
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new CodecError(
      `decode expects a Uint8Array, got ${describeType(bytes)}`,
      {},
      'pass the bytes returned by encode()',
    );
  }
  if (bytes.length < HEADER_BYTES || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new CodecError(
      'not an encoded Ristretto accumulator (bad magic)',
      { byteLength: bytes.length, offset: 0 },
      'pass the exact bytes produced by encode(); check that the transport did not alter them',
    );
  }
  if (options.copy || bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true);
  if (version !== VERSION) {
    throw new CodecError(
      `accumulator format version ${version} is not supported (this side reads version ${VERSION})`,
      { version, offset: 4 },
      'run the same Ristretto version on both sides',
    );
  }
  if (dv.getUint8(6) !== 1 || !LITTLE_ENDIAN) {
    throw new CodecError(
      'accumulator bytes have a byte order this host cannot view',
      { offset: 6 },
      'use little-endian hosts',
    );
  }
  const jsonLength = dv.getUint32(8, true);
  const total = dv.getFloat64(16, true);
  if (total !== bytes.length || HEADER_BYTES + jsonLength > bytes.length) {
    throw new CodecError(
      `accumulator bytes are truncated or padded: header says ${total} bytes, got ${bytes.length}`,
      { expected: total, got: bytes.length, offset: 16 },
      'the message was cut or concatenated in transit; send each encoded buffer as one message',
    );
  }
  let parsed: { v: Node; b: [number, number][] };
  try {
    parsed = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + jsonLength)),
    );
  } catch (e) {
    throw new CodecError(
      'accumulator structure is not valid JSON',
      { offset: HEADER_BYTES, length: jsonLength },
      'the bytes were corrupted in transit',
      {
        cause: e,
      },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.b) || !('v' in parsed)) {
    throw malformed('the structure must be an object with "v" and "b"', []);
  }
  const dataStart = bytes.byteOffset + align8(HEADER_BYTES + jsonLength);
  const table = parsed.b;
  for (let i = 0; i < table.length; i++) {
    const [off, len] = Array.isArray(table[i]) ? table[i] : [NaN, NaN];
    if (!(off >= 0 && len >= 0 && dataStart + off + len <= bytes.byteOffset + bytes.length)) {
      throw new CodecError(
        `array ${i} lies outside the buffer`,
        { index: i, offset: dataStart - bytes.byteOffset + off, length: len },
        'the bytes were corrupted in transit',
      );
    }
  }
  return build(parsed.v, { buffer: bytes.buffer, dataStart, table }, []);
}

interface Source {
  buffer: ArrayBufferLike;
  dataStart: number;
  table: [number, number][];
}

function describe(v: unknown, views: ArrayBufferView[], path: Path): Node {
  switch (typeof v) {
    case 'number':
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { t: 'n', v: Object.is(v, -0) ? '-0' : String(v) };
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      return { t: 'i', v: v.toString() };
    case 'undefined':
      return { t: 'u' };
    case 'object':
      break;
    default:
      throw unsupported(v, path);
  }
  if (v === null) return null;
  if (isTypedArray(v)) {
    views.push(v);
    return { t: 'a', k: typedArrayName(v), b: views.length - 1 };
  }
  if (v instanceof ColumnAccumulator) {
    views.push(v.values);
    return { t: 'c', k: v.kind, b: views.length - 1 };
  }
  if (Array.isArray(v)) {
    const out = new Array<Node>(v.length);
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      out[i] = describe(v[i], views, path);
      path.pop();
    }
    return out;
  }
  if (v instanceof Map) {
    const kv: Node[] = [];
    for (const [k, x] of v) {
      path.push(String(k));
      kv.push(describe(k, views, path), describe(x, views, path));
      path.pop();
    }
    return { t: 'm', v: kv };
  }
  if (v instanceof Set) {
    const items: Node[] = [];
    for (const x of v) items.push(describe(x, views, path));
    return { t: 's', v: items };
  }
  if (isBinarySerializable(v)) {
    const { header, buffers } = v.toBinaryParts();
    const idx: number[] = [];
    const kinds: string[] = [];
    for (const b of buffers) {
      idx.push(views.push(b) - 1);
      kinds.push(b instanceof DataView ? 'DataView' : typedArrayName(b));
    }
    path.push('(header)');
    const h = describe(header, views, path);
    path.pop();
    return { t: 'r', tag: v.binaryTag, h, b: idx, k: kinds };
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    const vals = new Array<Node>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      path.push(keys[i]);
      vals[i] = describe(o[keys[i]], views, path);
      path.pop();
    }
    return proto === null ? { t: 'o', k: keys, v: vals, np: 1 } : { t: 'o', k: keys, v: vals };
  }
  throw unsupported(v, path);
}

function unsupported(v: unknown, path: Path): CodecError {
  const where = path.length ? JSON.stringify(path.join('/')) : 'top level';
  return new CodecError(
    `at ${where}: cannot encode ${describeType(v)}`,
    { path: path.join('/'), type: describeType(v) },
    'make the class BinarySerializable (binaryTag + toBinaryParts) and registerBinaryType its decoder, or store plain data',
  );
}

function view(kind: string, index: unknown, src: Source, path: Path): ArrayBufferView {
  const entry = typeof index === 'number' ? src.table[index] : undefined;
  if (!entry) throw malformed(`array index ${String(index)} is not in the table`, path);
  const [off, len] = entry;
  if (kind === 'DataView') return new DataView(src.buffer, src.dataStart + off, len);
  const ctor = typedArrayConstructor(kind);
  if (!ctor) throw malformed(`unknown typed array kind "${kind}"`, path);
  if (len % ctor.BYTES_PER_ELEMENT !== 0)
    throw malformed(`${len} bytes is not a whole number of ${kind} elements`, path);
  return new ctor(src.buffer, src.dataStart + off, len / ctor.BYTES_PER_ELEMENT);
}

function malformed(what: string, path: Path): CodecError {
  const where = path.length ? JSON.stringify(path.join('/')) : 'top level';
  return new CodecError(
    `malformed accumulator structure at ${where}: ${what}`,
    { path: path.join('/') },
    'the bytes were corrupted or written by an incompatible version',
  );
}

const SPECIAL_NUMBERS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

function build(n: Node, src: Source, path: Path): unknown {
  if (n === null || typeof n !== 'object') return n;
  if (Array.isArray(n)) {
    const out = new Array<unknown>(n.length);
    for (let i = 0; i < n.length; i++) {
      path.push(i);
      out[i] = build(n[i], src, path);
      path.pop();
    }
    return out;
  }
  switch (n.t) {
    case 'n': {
      const x = SPECIAL_NUMBERS[n.v as string];
      if (x === undefined) throw malformed(`bad number ${String(n.v)}`, path);
      return x;
    }
    case 'i':
      return BigInt(n.v as string);
    case 'u':
      return undefined;
    case 'a':
      return view(n.k as string, n.b, src, path);
    case 'c':
      return ColumnAccumulator.wrap(view(n.k as string, n.b, src, path) as AnyTypedArray);
    case 'm': {
      const kv = n.v as Node[];
      const out = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < kv.length; i += 2) {
        const k = build(kv[i], src, path);
        path.push(String(k));
        out.set(k, build(kv[i + 1], src, path));
        path.pop();
      }
      return out;
    }
    case 's':
      return new Set((n.v as Node[]).map((x) => build(x, src, path)));
    case 'o': {
      const keys = n.k as string[];
      const vals = n.v as Node[];
      const out: Record<string, unknown> = n.np ? Object.create(null) : {};
      for (let i = 0; i < keys.length; i++) {
        path.push(keys[i]);
        setOwn(out, keys[i], build(vals[i], src, path));
        path.pop();
      }
      return out;
    }
    case 'r': {
      const tag = n.tag as string;
      const decoder = binaryDecoder(tag);
      const idx = n.b as number[];
      const kinds = n.k as string[];
      const buffers = idx.map((b, i) => view(kinds[i], b, src, path));
      path.push('(header)');
      const header = build(n.h as Node, src, path);
      path.pop();
      return decoder(header, buffers);
    }
    default:
      throw malformed(`unknown node type ${JSON.stringify(n.t)}`, path);
  }
}
