/**
 * Value and frame encoding shared by the FaaS client, service and endpoint.
 *
 * A *frame* is a JSON text plus raw byte blobs (layout in `encodeFrameRaw`), so binary data never passes through JSON numbers or base64 on the WebSocket
 * paths. A *packed value* is a frame whose header is the value's JSON tree with typed arrays replaced by
 * `{"$type":"Float32Array","buf":i}` markers and whose blobs are the arrays' bytes.
 *
 * The same markers with `"b64"` instead of `"buf"` give *tagged JSON*, used where only JSON travels
 * (HTTP bodies). The service converts between the two structurally and never evaluates user values.
 *
 * Markers (all objects with an own `$type` key):
 * - typed arrays / Buffer: `{$type: "Uint8Array"|"Float64Array"|..., buf|b64}`
 * - `Map`: `{$type:"Map", entries:[[k,v],...]}`; `Set`: `{$type:"Set", values:[...]}`
 * - non-finite numbers: `{$type:"Number", value:"NaN"|"Infinity"|"-Infinity"}`; `BigInt`: `{$type:"BigInt", value}`
 * - `BinarySerializable` (see src/accumulate/protocol.ts): `{$type:"$serializable", tag, header, buffers:[markers]}`
 * A user object's own keys `$type`, `$$type`, ... are escaped by one extra `$` and unescaped on decode.
 * Byte order is the host's (little-endian on every platform Node supports in practice).
 */
import { CodecError } from '../accumulate/errors.ts';
import { binaryDecoder } from '../accumulate/protocol.ts';
import { typedArrayConstructor } from '../accumulate/typed.ts';
import { MAX_JSON_DEPTH, scanJson } from './schema.ts';

/** Thrown when bytes are not a valid frame or a value cannot be encoded: the one codec error of Ristretto. */
export { CodecError };

// ---------------------------------------------------------------- frames

/** Encode a JSON text plus raw blobs: `[u32 json length][json][u32 n][u32 length]*n[blobs]` (little-endian). */
export function encodeFrameRaw(json: string, blobs: readonly Uint8Array[] = []): Buffer {
  const jsonLen = Buffer.byteLength(json, 'utf8');
  let total = 0;
  for (const b of blobs) total += b.byteLength;
  const out = Buffer.allocUnsafe(4 + jsonLen + 4 + 4 * blobs.length + total);
  out.writeUInt32LE(jsonLen, 0);
  out.write(json, 4, 'utf8');
  let off = 4 + jsonLen;
  out.writeUInt32LE(blobs.length, off);
  off += 4;
  for (const b of blobs) {
    out.writeUInt32LE(b.byteLength, off);
    off += 4;
  }
  for (const b of blobs) {
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
}

/** Encode a JSON-able header plus raw blobs into one buffer. */
export function encodeFrame(header: unknown, blobs: readonly Uint8Array[] = []): Buffer {
  return encodeFrameRaw(JSON.stringify(header), blobs);
}

/** Split a frame into its JSON text and blobs. Blobs are views into `bytes` (no copy). */
export function decodeFrameRaw(bytes: Uint8Array): { json: string; blobs: Uint8Array[] } {
  const n = bytes.byteLength;
  if (n < 8) throw new CodecError(`frame too short: ${n} bytes`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, n);
  const jsonLen = view.readUInt32LE(0);
  if (8 + jsonLen > n) throw new CodecError(`frame header length ${jsonLen} exceeds frame size ${n}`);
  const json = view.toString('utf8', 4, 4 + jsonLen);
  let off = 4 + jsonLen;
  const count = view.readUInt32LE(off);
  off += 4;
  if (off + 4 * count > n) throw new CodecError(`frame blob table (${count} entries) exceeds frame size ${n}`);
  let data = off + 4 * count;
  const blobs: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const len = view.readUInt32LE(off + 4 * i);
    if (data + len > n) throw new CodecError(`frame blob ${i} (${len} bytes) runs past the end of the frame`);
    blobs[i] = bytes.subarray(data, data + len);
    data += len;
  }
  return { json, blobs };
}

/** Split a frame into its parsed header and blobs (views into `bytes`). */
export function decodeFrame<H = any>(bytes: Uint8Array): { header: H; blobs: Uint8Array[] } {
  const { json, blobs } = decodeFrameRaw(bytes);
  try {
    return { header: JSON.parse(json) as H, blobs };
  } catch (e) {
    throw new CodecError(`frame header is not valid JSON: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- encoding values

type BinaryOut = (view: ArrayBufferView) => Record<string, unknown>;

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function escapeKeys(o: Record<string, unknown>): Record<string, unknown> {
  let needs = false;
  for (const k in o) if (k.charCodeAt(0) === 36 && /^\$+type$/.test(k)) needs = true;
  if (!needs) return o;
  const out: Record<string, unknown> = {};
  for (const k in o) out[/^\$+type$/.test(k) ? '$' + k : k] = o[k];
  return out;
}

function makeReplacer(binary: BinaryOut) {
  return function replacer(this: any, key: string, value: unknown): unknown {
    // `this[key]` is the value before toJSON ran, which matters for Buffer (its toJSON loses the type).
    const orig = this[key];
    if (typeof orig === 'object' && orig !== null) {
      if (ArrayBuffer.isView(orig)) {
        if (orig instanceof DataView)
          throw new CodecError('DataView values are not supported; send a Uint8Array instead');
        return binary(orig);
      }
      if (orig instanceof Map) return { $type: 'Map', entries: [...orig.entries()] };
      if (orig instanceof Set) return { $type: 'Set', values: [...orig.values()] };
      const ser = orig as { binaryTag?: unknown; toBinaryParts?: unknown };
      if (typeof ser.binaryTag === 'string' && typeof ser.toBinaryParts === 'function') {
        const parts = (ser.toBinaryParts as () => { header: unknown; buffers: ArrayBufferView[] })();
        return { $type: '$serializable', tag: ser.binaryTag, header: parts.header, buffers: parts.buffers };
      }
      if (value === orig && isPlainObject(orig)) return escapeKeys(orig as Record<string, unknown>);
      return value;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { $type: 'Number', value: String(value) };
    if (typeof value === 'bigint') return { $type: 'BigInt', value: value.toString() };
    return value;
  };
}

function typedName(v: ArrayBufferView): string {
  const name = v.constructor.name;
  // Node's Buffer is a Uint8Array subclass; everything else must be one of the standard typed arrays.
  if (typedArrayConstructor(name)) return name;
  if (v instanceof Uint8Array) return 'Uint8Array';
  throw new CodecError(`cannot encode ${name}: only standard typed arrays and Buffer are supported`);
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Encode a value as a packed frame (binary blobs kept raw). */
export function packValue(value: unknown): Buffer {
  const blobs: Uint8Array[] = [];
  const replacer = makeReplacer((v) => {
    blobs.push(bytesOf(v));
    return { $type: typedName(v), buf: blobs.length - 1 };
  });
  // An empty JSON text stands for `undefined` (a function that returns nothing).
  const json = value === undefined ? '' : JSON.stringify(value, replacer);
  return encodeFrameRaw(json, blobs);
}

/**
 * Stringify a JSON document whose values may contain binary data, Maps, Sets... as tagged JSON
 * (base64 markers). Used by the SDK to build HTTP request bodies.
 */
export function stringifyTagged(value: unknown): string {
  const replacer = makeReplacer((v) => ({ $type: typedName(v), b64: Buffer.from(bytesOf(v)).toString('base64') }));
  return JSON.stringify(value, replacer);
}

// ---------------------------------------------------------------- decoding values

/** How `$serializable` markers are decoded; the default uses the accumulate registry. */
export type SerializableDecoder = (tag: string, header: unknown, buffers: ArrayBufferView[]) => unknown;

const defaultSerializable: SerializableDecoder = (tag, header, buffers) => binaryDecoder(tag)(header, buffers);

function makeTyped(name: string, bytes: Uint8Array): ArrayBufferView {
  const Ctor = typedArrayConstructor(name);
  if (!Ctor) throw new CodecError(`unknown typed array type "${name}" in value`);
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0)
    throw new CodecError(`${name} payload of ${bytes.byteLength} bytes is not a multiple of ${size}`);
  // Copy: the result must not pin the (possibly large, possibly pooled) frame it arrived in.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, bytes.byteLength / size);
}

function makeReviver(blobs: Uint8Array[] | null, serializable: SerializableDecoder) {
  return function reviver(key: string, value: any): unknown {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const t = value.$type;
    if (t === undefined) {
      for (const k in value) {
        if (k.charCodeAt(0) === 36 && /^\$\$+type$/.test(k)) return unescapeKeys(value);
      }
      return value;
    }
    switch (t) {
      case 'Map':
        return new Map(value.entries);
      case 'Set':
        return new Set(value.values);
      case 'Number':
        return Number(value.value);
      case 'BigInt':
        return BigInt(value.value);
      case '$serializable':
        return serializable(value.tag, value.header, value.buffers);
      default: {
        if (typeof value.b64 === 'string') return makeTyped(t, Buffer.from(value.b64, 'base64'));
        if (typeof value.buf === 'number' && blobs) {
          const blob = blobs[value.buf];
          if (!blob) throw new CodecError(`value refers to missing blob ${value.buf}`);
          return makeTyped(t, blob);
        }
        throw new CodecError(`unknown value marker $type=${JSON.stringify(t)} at key "${key}"`);
      }
    }
  };
}

function unescapeKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) out[/^\$\$+type$/.test(k) ? k.slice(1) : k] = o[k];
  return out;
}

/** Decode a packed value. */
export function unpackValue(bytes: Uint8Array, opts: { serializable?: SerializableDecoder } = {}): unknown {
  const { json, blobs } = decodeFrameRaw(bytes);
  if (json === '') return undefined;
  return JSON.parse(json, makeReviver(blobs, opts.serializable ?? defaultSerializable));
}

/** Decode an already-parsed tagged-JSON tree (e.g. a `result` field of an HTTP response). */
export function fromTagged(tree: unknown, opts: { serializable?: SerializableDecoder } = {}): unknown {
  if (tree === undefined) return undefined;
  // Re-running the reviver bottom-up is simplest through a stringify/parse round trip; this path is
  // the HTTP fallback, the streaming path uses packed frames.
  return JSON.parse(JSON.stringify(tree), makeReviver(null, opts.serializable ?? defaultSerializable));
}

// ---------------------------------------------------------------- structural conversion (service side)

/**
 * Convert a tagged-JSON tree (already parsed, keys still escaped) into a packed value without
 * interpreting it: base64 markers become blobs. Used by the service on submissions.
 */
export function packTagged(tree: unknown): Buffer {
  if (tree === undefined) return encodeFrameRaw('', []);
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(tree, function (_k, v) {
    if (typeof v === 'object' && v !== null && typeof v.$type === 'string' && typeof v.b64 === 'string') {
      blobs.push(Buffer.from(v.b64, 'base64'));
      const { b64: _drop, ...rest } = v;
      return { ...rest, buf: blobs.length - 1 };
    }
    return v;
  });
  return encodeFrameRaw(json, blobs);
}

/**
 * Check, without decoding any value, that bytes are a packed value: a frame whose JSON text is empty
 * (`undefined`) or one JSON value nested at most `maxDepth` levels, whose blob markers name blobs the
 * frame has. A value that passes converts with packedToTaggedJson and splices into a JSON answer as one
 * value. Throws CodecError saying what is wrong. The service checks every result an agent sends.
 */
export function checkPacked(bytes: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): void {
  const { json, blobs } = decodeFrameRaw(bytes);
  if (json === '') return;
  try {
    scanJson(json, maxDepth);
  } catch (e) {
    throw new CodecError(`value is ${(e as Error).message}`);
  }
  parseFrameJson(json, blobs, false);
}

/**
 * Parse the JSON text of a packed value; with blobs, each `buf` marker must name one of them and, when
 * `toBase64`, becomes a `b64` marker of its bytes. Any failure is a CodecError.
 */
function parseFrameJson(json: string, blobs: Uint8Array[], toBase64: boolean): unknown {
  const reviver =
    blobs.length === 0
      ? undefined
      : (_k: string, v: any) => {
          if (typeof v === 'object' && v !== null && typeof v.$type === 'string' && typeof v.buf === 'number') {
            const blob = blobs[v.buf];
            if (!blob) throw new CodecError(`value refers to missing blob ${v.buf}`);
            if (!toBase64) return v;
            const { buf: _drop, ...rest } = v;
            return { ...rest, b64: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64') };
          }
          return v;
        };
  try {
    return JSON.parse(json, reviver);
  } catch (e) {
    if (e instanceof CodecError) throw e;
    // SyntaxError, or RangeError from a reviver on a value nested too deep for the stack.
    throw new CodecError(`value is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

/**
 * Convert a packed value into a tagged-JSON string without interpreting it: blobs become base64
 * markers. Used by the service to answer HTTP result requests. The text returned is always one valid
 * JSON value (parsed here, never passed through as stored), so it may be spliced into an answer.
 */
export function packedToTaggedJson(bytes: Uint8Array): string {
  const { json, blobs } = decodeFrameRaw(bytes);
  if (json === '') return 'null';
  const tree = parseFrameJson(json, blobs, true);
  // Without blobs the text itself is the answer: it parsed, so it is one JSON value.
  return blobs.length === 0 ? json : JSON.stringify(tree);
}
