/**
 * A small typebox-style builder of JSON schemas for ajv: each builder returns a plain JSON schema that
 * also carries, as a phantom type, the TypeScript type it accepts (`Static<typeof S>`). The protocol
 * schemas (protocol-schemas.ts) are checked against the hand-written types of protocol.ts with
 * `Same<Static<...>, ProtocolType>`, so the two cannot drift apart.
 *
 * Objects are closed (`additionalProperties: false`) and optional properties stay optional (not
 * nullable): a message either has exactly the protocol's shape or is refused.
 *
 * Untrusted text is scanned by `scanJson` BEFORE it is parsed: a size cap and a nesting-depth cap, so a
 * 100,000-deep array never reaches a recursive function (JSON.stringify, revivers, the validator).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { brokenInvariant } from '../errors/index.ts';

declare const phantom: unique symbol;

/** A JSON schema accepting values of type T. */
export type TSchema<T> = { readonly [phantom]?: T } & Readonly<Record<string, unknown>>;
export type Static<S> = S extends TSchema<infer T> ? T : never;

type Props = Record<string, TSchema<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<P extends Props, O extends keyof P> = Simplify<
  { [K in Exclude<keyof P, O>]: Static<P[K]> } & { [K in O]?: Static<P[K]> }
>;

/** Structural identity of two types (deep, optional and required properties included). */
type Deep<T> = T extends (infer U)[] ? Deep<U>[] : T extends object ? { [K in keyof T]: Deep<T[K]> } : T;
export type Same<A, B> = (<X>() => X extends Deep<A> ? 1 : 2) extends <X>() => X extends Deep<B> ? 1 : 2 ? true : false;

interface StrOpts {
  minLength?: number;
  maxLength: number;
  pattern?: string;
}

export const T = {
  string: (o: StrOpts): TSchema<string> => ({ type: 'string', ...o }),
  /** An integer in [minimum, maximum]. */
  integer: (minimum: number, maximum: number): TSchema<number> => ({ type: 'integer', minimum, maximum }),
  /** A finite number (JSON has no others), optionally bounded. */
  number: (o: { minimum?: number; maximum?: number } = {}): TSchema<number> => ({ type: 'number', ...o }),
  boolean: (): TSchema<boolean> => ({ type: 'boolean' }),
  literal: <const L extends string>(value: L): TSchema<L> => ({ const: value }),
  enum: <const L extends string>(...values: L[]): TSchema<L> => ({ enum: values }),
  array: <S extends TSchema<unknown>>(items: S, maxItems: number, minItems = 0): TSchema<Static<S>[]> => ({
    type: 'array',
    items,
    maxItems,
    ...(minItems ? { minItems } : {}),
  }),
  /** A closed object; `optional` names the properties that may be left out. */
  object: <P extends Props, O extends keyof P = never>(
    properties: P,
    optional: readonly O[] = [],
  ): TSchema<ObjectOf<P, O>> => ({
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k as O)),
    additionalProperties: false,
  }),
  /** An object used as a map from string keys to values of one schema. */
  record: <S extends TSchema<unknown>>(values: S, maxProperties: number): TSchema<Record<string, Static<S>>> => ({
    type: 'object',
    additionalProperties: values,
    maxProperties,
  }),
  nullable: <S extends TSchema<unknown>>(s: S): TSchema<Static<S> | null> => ({ anyOf: [s, { type: 'null' }] }),
  /** Any JSON value (depth and size were bounded by scanJson). */
  unknown: (): TSchema<unknown> => ({}),
};

const ajv = new Ajv({ allErrors: false, strict: true });

/** Thrown by a Validator on a value of the wrong shape; `message` names the offending path. */
export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

export interface Validator<V> {
  /** True when `v` has the schema's shape. */
  is(v: unknown): v is V;
  /** `v` as V, or a SchemaError saying what is wrong, prefixed by `what` (e.g. "submit request"). */
  check(v: unknown, what: string): V;
}

/** Compiled on first use: each process compiles only the schemas of the messages it receives. */
export function validator<S extends TSchema<unknown>>(schema: S): Validator<Static<S>> {
  let compiled: ValidateFunction | undefined;
  const fn = (v: unknown) => (compiled ??= ajv.compile(schema))(v);
  return {
    is: (v): v is Static<S> => fn(v) === true,
    check(v, what) {
      if (fn(v)) return v as Static<S>;
      const e = compiled?.errors?.[0] ?? brokenInvariant(`${what}: the schema rejected a value without an error`);
      throw new SchemaError(`${what}: ${describe(e)}`, e.instancePath);
    },
  };
}

/** "tasks[0].args must be object", "unknown property "foo" in tasks[0]", "capacity must be <= 10000". */
function describe(e: ErrorObject): string {
  const path = e.instancePath
    .replace(/\/(\d+)/g, '[$1]')
    .replace(/\//g, '.')
    .replace(/^\./, '');
  const at = path || 'the message';
  if (e.keyword === 'additionalProperties')
    return `unknown property "${String(e.params.additionalProperty).slice(0, 100)}" in ${path || 'the message'}`;
  if (e.keyword === 'required') return `${path ? `${path}.` : ''}${String(e.params.missingProperty)} is missing`;
  if (e.keyword === 'const') return `${at} must be ${JSON.stringify(e.params.allowedValue)}`;
  if (e.keyword === 'enum')
    return `${at} must be one of ${(e.params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
  return `${at} ${e.message ?? 'is invalid'}`;
}

// ---------------------------------------------------------------- untrusted JSON text

/** Thrown by scanJson / parseJson: too big, too deep, or not JSON at all. The message completes "<the text> is ...". */
export class JsonLimitError extends Error {
  override name = 'JsonLimitError';
  constructor(
    message: string,
    readonly reason: 'size' | 'depth' | 'cost' | 'syntax',
  ) {
    super(message);
  }
}

/** Nesting allowed in any message, task arguments included. */
export const MAX_JSON_DEPTH = 100;

/**
 * Objects and arrays one untrusted message may hold (the service's HTTP bodies, stream and agent
 * messages). Bytes do not bound parse cost: JSON.parse of 60 MiB of `{},` took 16-21 CPU-s, while
 * scalars cost a tenth as much per byte (issue 14, probe D4). Each object or array costs 0.2-0.45 us,
 * so this many stay well under a CPU-second; a 10,000-task submission with small arguments holds
 * ~50,000.
 */
export const MAX_JSON_CONTAINERS = 1_000_000;

/**
 * Check the size, the nesting depth and the number of objects and arrays (`maxContainers`, what
 * parsing costs) of a JSON text without parsing it (one linear pass over the characters, strings
 * skipped). Throws JsonLimitError.
 */
export function scanJson(
  text: string,
  maxDepth: number = MAX_JSON_DEPTH,
  maxChars: number = Infinity,
  maxContainers: number = Infinity,
): void {
  if (text.length > maxChars)
    throw new JsonLimitError(`${text.length} characters long, over the limit of ${maxChars}`, 'size');
  // A plain character loop (strings skipped): measured faster than regex jumps and a fraction of
  // JSON.parse (2,000-entry results frame: ~2 ms vs ~4 ms; 20,000-task submit: ~8 ms vs ~30 ms).
  let depth = 0;
  let containers = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > maxDepth) throw new JsonLimitError(`nested deeper than ${maxDepth} levels`, 'depth');
      if (++containers > maxContainers)
        throw new JsonLimitError(`made of more than ${maxContainers} objects and arrays (the limit)`, 'cost');
    } else if (c === 93 || c === 125) depth--;
  }
}

/** scanJson, then JSON.parse; any failure is a JsonLimitError. */
export function parseJson(
  text: string,
  maxDepth: number = MAX_JSON_DEPTH,
  maxChars: number = Infinity,
  maxContainers: number = Infinity,
): unknown {
  scanJson(text, maxDepth, maxChars, maxContainers);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonLimitError(`not valid JSON: ${(e as Error).message.slice(0, 200)}`, 'syntax');
  }
}
