/**
 * `Hist.fill` with jagged arrays (one list of values per event, `{ offsets, content }`): the values are
 * flattened, and the other arguments are broadcast to the elements, the way coffea users write
 * `h.fill(ak.flatten(muons.pt), weight=ak.flatten(ak.broadcast_arrays(weight, muons.pt)[0]))`.
 * Also the description of fill arguments used in error messages.
 */
import type { NumericArray } from '../columnar/types.ts';
import { FillError } from './errors.ts';

/** A jagged fill input: event i owns `content[offsets[i] .. offsets[i+1])`. */
export interface JaggedInput {
  readonly offsets: Int32Array;
  readonly content: NumericArray;
}

/** True for `{ offsets: Int32Array, content: typed array }` (a Ristretto jagged column). */
export function isJaggedInput(v: unknown): v is JaggedInput {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const o = v as { offsets?: unknown; content?: unknown };
  return o.offsets instanceof Int32Array && ArrayBuffer.isView(o.content) && !(o.content instanceof DataView);
}

/** True for an object that can only be fill options: a plain object whose keys are `weight` / `sample`. */
export function isFillOptions(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  return Object.keys(v).every((k) => k === 'weight' || k === 'sample');
}

/** A short description of a fill argument for messages: `Float32Array(120)`, `jagged array (40 events, 57 values of Float32Array)`... */
export function describeFillArg(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 27)}...` : v)}`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(v)) {
    const kinds = [
      ...new Set(v.slice(0, 50).map((x) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x))),
    ];
    return `array(${v.length}${kinds.length ? ` of ${kinds.join('/')}` : ''})`;
  }
  if (isJaggedInput(v)) {
    const n = v.offsets.length - 1;
    return `jagged array (${n} event${n === 1 ? '' : 's'}, ${n >= 0 ? v.offsets[n] - v.offsets[0] : 0} values of ${v.content.constructor.name})`;
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.offsets instanceof Int32Array && typeof o.fields === 'object' && o.fields !== null) {
      const f = Object.keys(o.fields);
      return `a collection of ${o.offsets.length - 1} events with fields ${f.slice(0, 6).join(', ')}${f.length > 6 ? ', ...' : ''}`;
    }
    if (ArrayBuffer.isView(o.values) && ArrayBuffer.isView(o.valid))
      return `an optional column (values + valid, ${(o.values as unknown as ArrayLike<number>).length} events)`;
    if (o.offsets instanceof Int32Array && isJaggedInput(o.content))
      return `a doubly jagged array (${o.offsets.length - 1} events, lists of lists)`;
    const keys = Object.keys(o);
    return `an object with keys ${keys.slice(0, 6).join(', ') || '(none)'}${keys.length > 6 ? ', ...' : ''}`;
  }
  return typeof v;
}

/** What to do instead, for an argument fill cannot take. */
export function fillArgAdvice(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.offsets instanceof Int32Array && typeof o.fields === 'object' && o.fields !== null)
    return 'a collection holds several fields; fill one of them, e.g. field(muons, "pt") or events.Muon.pt';
  if (ArrayBuffer.isView(o.values) && ArrayBuffer.isView(o.valid))
    return 'pass .values (missing entries are NaN and land in the overflow bin) or select the valid events first';
  if (o.offsets instanceof Int32Array && isJaggedInput(o.content))
    return 'fill its .content (a jagged array: one list per inner list) to fill every value, or reduce the inner lists first';
  if (!Array.isArray(v) && !ArrayBuffer.isView(v) && !isJaggedInput(v))
    return 'fill options are { weight, sample } and come last; values are numbers, strings, arrays or jagged arrays ({ offsets, content })';
  return undefined;
}

interface Options {
  weight?: unknown;
  sample?: unknown;
}

/**
 * Flatten the jagged arguments of one fill call and broadcast the others to their elements.
 *
 * - every jagged argument (values, weight, sample) must have the same number of elements in each event
 *   as the first one; its content is used as is;
 * - a flat array beside a jagged one must hold one entry per event (`offsets.length - 1`), and each
 *   entry is repeated for every element of its event (a per-event weight, a dataset label per event);
 * - scalars broadcast as in any fill.
 *
 * Returns the arguments unchanged when none is jagged.
 */
export function flattenJaggedFill<V, O extends Options>(
  values: V[],
  opts: O,
  axisName: (i: number) => string,
): { values: V[]; opts: O } {
  const args: { where: string; v: unknown }[] = [
    ...values.map((v, i) => ({ where: axisName(i), v: v as unknown })),
    ...(['weight', 'sample'] as const)
      .filter((k) => opts[k] !== undefined)
      .map((k) => ({ where: k as string, v: opts[k] as unknown })),
  ];
  const ref = args.find((a) => isJaggedInput(a.v));
  if (!ref) return { values, opts };
  const r = ref.v as JaggedInput;
  const nEvents = r.offsets.length - 1;
  const base = r.offsets[0];
  const nValues = r.offsets[nEvents] - base;

  const convert = ({ where, v }: { where: string; v: unknown }): unknown => {
    if (isJaggedInput(v)) {
      if (v !== r) checkSameStructure(v, where, r, ref.where);
      return v.content.subarray(v.offsets[0], v.offsets[nEvents]);
    }
    if (!(Array.isArray(v) || ArrayBuffer.isView(v))) return v; // scalars broadcast; anything else is left to the usual checks
    const a = v as ArrayLike<unknown>;
    if (a.length !== nEvents) {
      const flat = a.length === nValues;
      throw new FillError(
        `${where} is ${describeFillArg(v)} but ${ref.where} is a ${describeFillArg(r)}: a flat array beside a jagged one must hold one entry per event (${nEvents})`,
        { [where]: a.length, events: nEvents, values: nValues },
        flat
          ? `it has one entry per value, i.e. it is flattened already: pass ${ref.where} flattened as well (its .content, for offsets starting at 0), or pass ${where} as a jagged array with the same offsets`
          : `pass one ${where === 'weight' || where === 'sample' ? where : 'value'} per event (it is repeated for every element of the event), a jagged array with the same offsets, or a scalar`,
      );
    }
    const counts = (e: number) => r.offsets[e + 1] - r.offsets[e];
    if (ArrayBuffer.isView(v)) {
      const src = v as unknown as ArrayLike<number>;
      const out = new Float64Array(nValues);
      for (let e = 0, j = 0; e < nEvents; e++) for (let k = counts(e); k > 0; k--) out[j++] = src[e];
      return out;
    }
    const src = v as readonly unknown[];
    const out = new Array<unknown>(nValues);
    for (let e = 0, j = 0; e < nEvents; e++) for (let k = counts(e); k > 0; k--) out[j++] = src[e];
    return out;
  };

  const outValues = values.map((_, i) => convert(args[i]) as V);
  const outOpts = { ...opts };
  let k = values.length;
  for (const key of ['weight', 'sample'] as const) {
    if (opts[key] === undefined) continue;
    outOpts[key] = convert(args[k++]) as O[typeof key];
  }
  return { values: outValues, opts: outOpts };
}

function checkSameStructure(v: JaggedInput, where: string, r: JaggedInput, refWhere: string): void {
  const n = r.offsets.length - 1;
  if (v.offsets.length - 1 !== n) {
    throw new FillError(
      `${where} is a ${describeFillArg(v)} but ${refWhere} is a ${describeFillArg(r)}`,
      { [where]: v.offsets.length - 1, [refWhere]: n },
      'jagged arguments of one fill must come from the same events and collection',
    );
  }
  const a = v.offsets;
  const b = r.offsets;
  for (let e = 0; e < n; e++) {
    const ca = a[e + 1] - a[e];
    const cb = b[e + 1] - b[e];
    if (ca !== cb) {
      throw new FillError(
        `${where} and ${refWhere} are jagged arrays of different structure: event ${e} has ${ca} value(s) in ${where} but ${cb} in ${refWhere}`,
        { event: e, [where]: ca, [refWhere]: cb },
        'fill values of one collection together (e.g. muons.pt with muons.eta), or reduce one of them to one value per event first (e.g. the leading jet)',
      );
    }
  }
}
