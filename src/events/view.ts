/**
 * The events object a processor receives: getters over a `ColumnStore`, grouped by the NanoAOD schema.
 * Built once per `runOnEvents` call; everything it derives (collection offsets, wrapped fields, global
 * link indices) is cached, but every access is still logged in the store so its log is the processor's
 * true column set.
 */
import { type Jagged, markStringColumn, type NumericArray } from '../columnar/types.ts';
import type { Column } from '../io/reader.ts';
import { compute, fused } from '../columnar/fused/api.ts';
import { parseExpr } from '../columnar/fused/parse.ts';
import { brokenInvariant } from '../errors/index.ts';
import { closestNames } from '../errors/suggest.ts';
import { countsFromOffsets, globalIndex, offsetsFromCounts } from './crossref.ts';
import { MissingBranchError, ColumnShapeMismatchError, DefineError } from './errors.ts';
import type { CollectionSchema, NanoSchema, RecordSchema } from './nanoaod.ts';
import type { ColumnStore } from './store.ts';
import type { CollectionView, Events, FlatRecord } from './types.ts';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Property names that generic code probes on any object (promises, JSON, test matchers, React...). */
const PROBES: ReadonlySet<string> = new Set(['then', 'toJSON', 'asymmetricMatch', 'nodeType', 'tagName', 'inspect']);

function isProbe(key: string | symbol): boolean {
  return (
    typeof key === 'symbol' || PROBES.has(key) || key.startsWith('_') || key.startsWith('@@') || key.startsWith('$$')
  );
}

/** Wrap `target` so that reading an unknown (non-probe) name throws instead of yielding `undefined`. */
function strict<T extends object>(target: T, onUnknown: (key: string) => never): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (Reflect.has(t, key) || isProbe(key)) return Reflect.get(t, key, receiver);
      return onUnknown(key as string);
    },
  });
}

function defineGetter(obj: object, name: string, get: () => unknown): void {
  Object.defineProperty(obj, name, { get, enumerable: true, configurable: true });
}

function isJagged(c: Column): c is Jagged {
  return !ArrayBuffer.isView(c);
}

/** Collection field names the view itself uses (see `EventCollection`). */
const RESERVED = new Set(['offsets', 'fields', 'counts', 'name', 'kind', 'isFourVector', 'links', 'fieldNames']);

/** Build the events view of one chunk. */
export function createEventsView(schema: NanoSchema, store: ColumnStore): Events {
  const { reader } = store;
  const path = reader.path;
  const tree = reader.treeName;
  const mismatch = (branch: string, detail: string) => new ColumnShapeMismatchError(branch, path, tree, detail);
  // A name the schema lacks may still be a branch of the file that cannot be read: say that, not "no branch".
  const missing = (name: string, candidates: Iterable<string>, what?: string): Error =>
    reader.unreadable?.(name) ?? new MissingBranchError(name, path, tree, closestNames(name, candidates), what);

  const flat = (name: string): NumericArray => {
    const c = store.get(name);
    if (isJagged(c)) throw mismatch(name, 'jagged, but the reader listed it as flat');
    return c;
  };

  const collectionViews = new Map<string, CollectionView>();
  const collection = (name: string): CollectionView => {
    let v = collectionViews.get(name);
    if (!v) {
      const cs = schema.collections.get(name) ?? brokenInvariant(`collection ${name} is not in the schema`);
      collectionViews.set(name, (v = makeCollection(cs)));
    }
    return v;
  };

  function makeCollection(cs: CollectionSchema): CollectionView {
    let canonical: { offsets: Int32Array; source: string; structural?: boolean } | undefined;
    const fieldBranches = [...cs.fields.values()].map((b) => b.name);
    let counts: Int32Array | undefined;
    const wrapped = new Map<string, Jagged>();
    const linked = new Map<string, Jagged<Int32Array>>();

    // Offsets come from the first loaded field (so reading Muon_pt alone needs nothing else), else from
    // the counts branch. Whatever they came from is logged as accessed each time they are used.
    const offsets = (): Int32Array => {
      if (canonical) {
        if (canonical.structural) store.touchStructural(canonical.source, fieldBranches);
        else store.touch(canonical.source);
        return canonical.offsets;
      }
      for (const b of cs.fields.values()) {
        if (!store.has(b.name)) continue;
        const c = store.get(b.name);
        if (!isJagged(c)) throw mismatch(b.name, 'flat, but the reader listed it as jagged');
        canonical = { offsets: c.offsets, source: b.name };
        return c.offsets;
      }
      if (cs.countBranch !== undefined) {
        const c = store.getStructural(cs.countBranch, fieldBranches);
        if (isJagged(c)) throw mismatch(cs.countBranch, 'jagged, but the reader listed it as flat');
        canonical = { offsets: offsetsFromCounts(c), source: cs.countBranch, structural: true };
        return canonical.offsets;
      }
      const first = cs.fields.values().next();
      if (first.done) brokenInvariant(`collection ${cs.name} has neither fields nor a counts branch`);
      store.get(first.value.name); // no field loaded and no counts branch: read the first field
      return offsets();
    };

    const field = (f: string): Jagged => {
      const b = cs.fields.get(f) ?? brokenInvariant(`field ${f} is not in collection ${cs.name}`);
      const c = store.get(b.name);
      const off = offsets();
      let w = wrapped.get(f);
      if (w) return w;
      if (!isJagged(c)) throw mismatch(b.name, 'flat, but the reader listed it as jagged');
      w = { offsets: off, content: alignContent(b.name, c, off) };
      wrapped.set(f, w);
      return w;
    };

    // Share one offsets array across fields: the field's own offsets must equal the collection's up to
    // a constant shift (a reader may hand out offsets into a larger buffer), which we absorb with a view.
    const alignContent = (branch: string, c: Jagged, off: Int32Array): NumericArray => {
      const own = c.offsets;
      if (own === off) return c.content;
      if (own.length !== off.length)
        throw mismatch(branch, `${own.length - 1} events, collection ${cs.name} has ${off.length - 1}`);
      const shift = own[0] - off[0];
      for (let i = 0; i < own.length; i++) {
        if (own[i] - off[i] !== shift) {
          throw mismatch(
            branch,
            `its counts differ from collection ${cs.name}'s (from ${canonical?.source}) at entry ${store.entryStart + i - 1}`,
          );
        }
      }
      const content = shift === 0 ? c.content : c.content.subarray(shift);
      if (content.length < off[off.length - 1]) throw mismatch(branch, `content shorter than its offsets`);
      return content;
    };

    const link = (f: string, target: string): Jagged<Int32Array> => {
      const local = field(f);
      const targetOffsets = collection(target).offsets;
      let l = linked.get(f);
      if (!l) linked.set(f, (l = { offsets: local.offsets, content: globalIndex(local, targetOffsets) }));
      return l;
    };

    const fields = {};
    for (const f of cs.fields.keys()) defineGetter(fields, f, () => field(f).content);
    const unknownField = (key: string): never => {
      throw missing(
        `${cs.name}_${key}`,
        [...cs.fields.values()].map((b) => b.name),
      );
    };

    const links: Record<string, string> = Object.fromEntries(cs.links);
    const view = {};
    defineGetter(view, 'name', () => cs.name);
    defineGetter(view, 'kind', () => cs.kind);
    defineGetter(view, 'isFourVector', () => cs.kind === 'PtEtaPhiM' || cs.kind === 'PxPyPzE');
    defineGetter(view, 'links', () => links);
    defineGetter(view, 'fieldNames', () => [...cs.fields.keys()]);
    defineGetter(view, 'offsets', offsets);
    defineGetter(view, 'counts', () => {
      const off = offsets();
      return (counts ??= countsFromOffsets(off));
    });
    defineGetter(view, 'fields', () => strictFields);
    for (const f of cs.fields.keys()) if (!RESERVED.has(f)) defineGetter(view, f, () => field(f));
    for (const [f, target] of cs.links) {
      if (!cs.fields.has(`${f}G`)) defineGetter(view, `${f}G`, () => link(f, target));
    }
    Object.defineProperty(view, INSPECT, {
      value: () => `Collection ${cs.name} [${[...cs.fields.keys()].join(', ')}]`,
    });
    const strictFields = strict(fields, unknownField);
    return strict(view, unknownField) as CollectionView;
  }

  const recordViews = new Map<string, FlatRecord>();
  const record = (rs: RecordSchema): FlatRecord => {
    let v = recordViews.get(rs.name);
    if (v) return v;
    const target = {};
    for (const [f, b] of rs.fields) defineGetter(target, f, () => flat(b.name));
    Object.defineProperty(target, INSPECT, { value: () => `Record ${rs.name} {${[...rs.fields.keys()].join(', ')}}` });
    v = strict(target, (key) => {
      throw missing(
        `${rs.name}_${key}`,
        [...rs.fields.values()].map((b) => b.name),
      );
    }) as FlatRecord;
    recordViews.set(rs.name, v);
    return v;
  };

  const events = {};
  const numEvents = store.entryStop - store.entryStart;
  Object.defineProperties(events, {
    numEvents: { value: numEvents },
    entryStart: { value: store.entryStart },
    entryStop: { value: store.entryStop },
    column: {
      value: (name: string): Column => {
        const b = schema.branches.get(name);
        if (!b) throw missing(name, schema.branches.keys());
        return b.kind === 'string' ? markStringColumn(store.get(name)) : store.get(name);
      },
    },
    define: {
      value: (name: string, text: string): Float64Array => {
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name) || Reflect.has(events, name)) {
          throw new DefineError(
            `define('${name}', ...): the name must be letters and digits, and not a branch, collection or earlier define`,
            { name, text },
            'Pick a new name without underscores, e.g. ht.',
          );
        }
        // parseExpr loads mathjs on its first call, so views whose processor never defines a column do not.
        const col = compute(parseExpr(text, fused(view)));
        if (col.length !== numEvents) {
          throw new DefineError(
            `define('${name}', '${text}'): gives ${col.length} values for ${numEvents} events of ${path}`,
            { name, text, values: col.length, events: numEvents },
            'A defined column needs one value per event: reduce collections (sum, count, max) and do not filter events.',
          );
        }
        const values = col instanceof Float64Array ? col : Float64Array.from(col as ArrayLike<number>);
        Object.defineProperty(events, name, { value: values, enumerable: true });
        return values;
      },
    },
    [INSPECT]: {
      value: () =>
        `Events [${store.entryStart}, ${store.entryStop}) of ${path}: ` +
        `collections ${[...schema.collections.keys()].join(' ')}; records ${[...schema.records.keys()].join(' ')}; ` +
        `${schema.plain.size} plain branches`,
    },
  });
  // Plain names first: a collection or record of the same name replaces it (the branch stays in
  // `column`); names of the base members are never shadowed.
  const base = new Set(Object.getOwnPropertyNames(events));
  for (const [name, b] of schema.plain) {
    if (base.has(name)) continue;
    // string branches arrive as their bytes: marked, so fused expressions and draw refuse them as numbers
    if (b.kind === 'string') defineGetter(events, name, () => markStringColumn(store.get(b.name)));
    else defineGetter(events, name, () => store.get(b.name));
  }
  for (const [name, rs] of schema.records) if (!base.has(name)) redefine(events, name, () => record(rs));
  for (const name of schema.collections.keys()) if (!base.has(name)) redefine(events, name, () => collection(name));

  const topLevel = [...new Set([...schema.collections.keys(), ...schema.records.keys(), ...schema.plain.keys()])];
  const view = strict(events, (key) => {
    throw missing(key, [...topLevel, ...schema.branches.keys()], 'branch or collection');
  }) as Events;
  return view;
}

function redefine(obj: object, name: string, get: () => unknown): void {
  delete (obj as Record<string, unknown>)[name];
  defineGetter(obj, name, get);
}
