/**
 * From the RNTuple schema to NanoAOD-flat branches: which fields become which branch (flat, jagged,
 * counts, string) and which physical columns each one reads. Projected fields (as written by ROOT's
 * RNTupleImporter from a TTree: `Muon_pt` as RVec<float>, `nMuon` as RNTupleCardinality over an
 * untyped `_collection0`) are read through their alias columns; the collection they project is then
 * hidden, so each value appears under one name only.
 */
import type { BranchInfo, DType } from '../reader.ts';
import { columnTypeName, isIndexColumn, unsupportedColumn } from './columns.ts';
import { ROLE, type ColumnDesc, type FieldDesc, type Schema } from './schema.ts';

/** A field's columns: one list of physical columns per representation (by representation index). */
export type ColumnSet = readonly (readonly ColumnDesc[])[];

export type BranchPlan =
  | { readonly kind: 'flat'; readonly name: string; readonly dtype: DType; readonly value: ColumnSet }
  | { readonly kind: 'count'; readonly name: string; readonly dtype: DType; readonly index: ColumnSet }
  | {
      readonly kind: 'jagged';
      readonly name: string;
      readonly dtype: DType;
      readonly index: ColumnSet;
      readonly value: ColumnSet;
    }
  | {
      readonly kind: 'jagged2';
      readonly name: string;
      readonly dtype: DType;
      readonly index: ColumnSet;
      readonly inner: ColumnSet;
      readonly value: ColumnSet;
    }
  | {
      readonly kind: 'fixed';
      readonly name: string;
      readonly dtype: DType;
      readonly size: number;
      readonly value: ColumnSet;
    }
  | {
      readonly kind: 'string';
      readonly name: string;
      readonly dtype: 'uint8';
      readonly index: ColumnSet;
      readonly value: ColumnSet;
    };

export interface FieldEntry {
  readonly name: string;
  /** C++ type and column encodings, for listings. */
  readonly type: string;
  readonly plan?: BranchPlan;
  readonly info?: BranchInfo;
  readonly unsupported?: string;
  /** Not listed as a branch because projected fields present the same columns. */
  readonly hidden?: boolean;
}

const DTYPES: Record<string, DType> = {
  bool: 'bool',
  char: 'int8',
  'std::byte': 'uint8',
  'std::int8_t': 'int8',
  'std::uint8_t': 'uint8',
  'std::int16_t': 'int16',
  'std::uint16_t': 'uint16',
  'std::int32_t': 'int32',
  'std::uint32_t': 'uint32',
  'std::int64_t': 'int64',
  'std::uint64_t': 'uint64',
  float: 'float32',
  double: 'float64',
};

const CARDINALITY = /^ROOT::RNTupleCardinality<std::(uint32_t|uint64_t)>$/;

/** Build the branch list of a schema, in field order. */
export function planBranches(schema: Schema): FieldEntry[] {
  const { fields } = schema;
  const children = new Map<number, FieldDesc[]>();
  for (const f of fields) {
    if (f.parentId === f.id) continue;
    let siblings = children.get(f.parentId);
    if (!siblings) children.set(f.parentId, (siblings = []));
    siblings.push(f);
  }
  const kids = (f: FieldDesc): FieldDesc[] => children.get(f.id) ?? [];

  const columnsOf = (f: FieldDesc): ColumnSet => {
    const cols =
      f.flags & 0x02
        ? schema.aliases.filter((a) => a.fieldId === f.id).map((a) => schema.columns[a.physicalColumnId])
        : schema.columns.filter((c) => c.fieldId === f.id);
    const reps: ColumnDesc[][] = [];
    for (const c of cols) (reps[c.representationIndex] ??= []).push(c);
    return reps.filter(Boolean);
  };
  const label = (f: FieldDesc, sets: ColumnSet[]): string => {
    const enc = sets.flatMap((s) => s.map((rep) => rep.map((c) => columnTypeName(c.type)).join('+'))).join(', ');
    return `${f.typeName || '(untyped)'}${f.typeAlias ? ` (${f.typeAlias})` : ''}${enc ? ` [${enc}]` : ''}`;
  };
  /** Why a one-column set cannot be read (or undefined). */
  const checkSet = (set: ColumnSet, wantIndex: boolean): string | undefined => {
    if (!set.length) return 'the field has no columns';
    for (const rep of set) {
      if (rep.length !== 1) return `${rep.length} columns per representation`;
      const c = rep[0];
      const why = unsupportedColumn(c.type, c.bitsOnStorage);
      if (why) return why;
      if (isIndexColumn(c.type) !== wantIndex) return `unexpected column type ${columnTypeName(c.type)}`;
      if (c.firstElementIndex !== undefined) return 'deferred columns (added while writing) are not implemented';
    }
    return undefined;
  };

  // Physical columns presented by projected fields: the projected source is then not listed again.
  const aliased = new Set(schema.aliases.map((a) => a.physicalColumnId));
  const subtreeColumns = (f: FieldDesc): number[] => [
    ...schema.columns.filter((c) => c.fieldId === f.id).map((c) => c.id),
    ...kids(f).flatMap(subtreeColumns),
  ];
  const topLevel = fields.filter((f) => f.parentId === f.id);
  const names = new Set(topLevel.map((f) => f.name));

  const out: FieldEntry[] = [];
  const add = (e: FieldEntry): void => {
    out.push(e);
  };
  const leafEntry = (name: string, f: FieldDesc): FieldEntry => {
    const sub = kids(f);
    // std::atomic<T> and enums: a column-less field over one subfield `_0` holding the value
    if (sub.length === 1 && !(f.flags & 0x01) && columnsOf(f).length === 0 && sub[0].role === ROLE.leaf) {
      const e = leafEntry(name, sub[0]);
      return { ...e, type: `${f.typeName} of ${e.type}` };
    }
    // std::array<T, N> (subfield `_0`) and std::bitset<N> (own Bit column): N values per entry
    if (f.flags & 0x01 && f.arraySize !== undefined) {
      const item = sub.length === 1 ? sub[0] : f;
      const set = columnsOf(item);
      const dtype = item === f ? (set[0]?.[0]?.type === 0x00 ? 'bool' : undefined) : DTYPES[item.typeName];
      const type = label(f, [set]);
      if (!dtype || (item !== f && (item.role !== ROLE.leaf || kids(item).length)))
        return { name, type, unsupported: `fixed-size array of ${item.typeName || '(untyped)'}` };
      const why = checkSet(set, false);
      if (why) return { name, type, unsupported: why };
      return { name, type, plan: { kind: 'fixed', name, dtype, size: f.arraySize, value: set } };
    }
    const set = columnsOf(f);
    const dtype = DTYPES[f.typeName];
    const type = label(f, [set]);
    if (f.role !== ROLE.leaf || !dtype)
      return { name, type, unsupported: `type ${f.typeName || '(untyped)'} is not a number` };
    const why = checkSet(set, false);
    if (why) return { name, type, unsupported: why };
    return { name, type, plan: { kind: 'flat', name, dtype, value: set } };
  };

  for (const f of topLevel) {
    const own = subtreeColumns(f);
    if (!(f.flags & 0x02) && own.length && own.every((c) => aliased.has(c))) {
      const ids = new Set<number>();
      const walk = (x: FieldDesc): void => {
        ids.add(x.id);
        kids(x).forEach(walk);
      };
      walk(f);
      const through = topLevel
        .filter((p) => p.flags & 0x02 && p.sourceFieldId !== undefined && ids.has(p.sourceFieldId))
        .map((p) => p.name);
      add({
        name: f.name,
        type: label(f, [columnsOf(f)]),
        hidden: true,
        unsupported: `read through its projected fields${through.length ? ` (${through.join(', ')})` : ''}`,
      });
      continue;
    }
    const card = CARDINALITY.exec(f.typeName);
    if (card) {
      const set = columnsOf(f);
      const why = checkSet(set, true);
      const type = label(f, [set]);
      add(
        why
          ? { name: f.name, type, unsupported: why }
          : {
              name: f.name,
              type,
              plan: { kind: 'count', name: f.name, dtype: card[1] === 'uint32_t' ? 'uint32' : 'uint64', index: set },
            },
      );
      continue;
    }
    if (f.role === ROLE.leaf && f.typeName === 'std::string') {
      const set = columnsOf(f);
      const type = label(f, [set]);
      const ok =
        set.length > 0 &&
        set.every(
          (rep) =>
            rep.length === 2 &&
            isIndexColumn(rep[0].type) &&
            rep[1].type === 0x02 &&
            !unsupportedColumn(rep[0].type, rep[0].bitsOnStorage),
        );
      add(
        ok
          ? {
              name: f.name,
              type,
              plan: {
                kind: 'string',
                name: f.name,
                dtype: 'uint8',
                index: set.map((r) => [r[0]]),
                value: set.map((r) => [r[1]]),
              },
            }
          : { name: f.name, type, unsupported: 'string columns not in the (Split)Index + Char layout' },
      );
      continue;
    }
    if (f.role === ROLE.leaf) {
      add(leafEntry(f.name, f));
      continue;
    }
    if (f.role === ROLE.collection) {
      const index = columnsOf(f);
      const type = label(f, [index]);
      const whyIndex = checkSet(index, true);
      const sub = kids(f);
      if (whyIndex) {
        add({ name: f.name, type, unsupported: whyIndex });
        continue;
      }
      if (sub.length !== 1) {
        add({ name: f.name, type, unsupported: `collection with ${sub.length} subfields` });
        continue;
      }
      const item = sub[0];
      // std::vector<std::vector<T>>: a list of lists per entry
      const inner = item.role === ROLE.collection ? kids(item) : [];
      if (inner.length === 1 && inner[0].role === ROLE.leaf && !kids(inner[0]).length) {
        const innerIndex = columnsOf(item);
        const e = leafEntry(f.name, inner[0]);
        const why = checkSet(innerIndex, true) ?? e.unsupported;
        const t = label(f, [index, innerIndex, columnsOf(inner[0])]);
        add(
          e.plan?.kind === 'flat' && !why
            ? {
                name: f.name,
                type: t,
                plan: {
                  kind: 'jagged2',
                  name: f.name,
                  dtype: e.plan.dtype,
                  index,
                  inner: innerIndex,
                  value: e.plan.value,
                },
              }
            : { name: f.name, type: t, unsupported: why ?? 'unsupported element type' },
        );
        continue;
      }
      if (item.role === ROLE.leaf) {
        const e = leafEntry(f.name, item);
        add(
          e.plan?.kind === 'flat'
            ? {
                name: f.name,
                type: label(f, [index, columnsOf(item)]),
                plan: { kind: 'jagged', name: f.name, dtype: e.plan.dtype, index, value: e.plan.value },
              }
            : {
                name: f.name,
                type: label(f, [index, columnsOf(item)]),
                unsupported:
                  e.plan?.kind === 'fixed'
                    ? 'collections of fixed-size arrays are not implemented'
                    : (e.unsupported ?? 'unsupported element type'),
              },
        );
        continue;
      }
      if (item.role === ROLE.record) {
        // a collection of records (NanoAOD-like `Muon` with members pt, eta...): `Muon_pt` etc. plus `nMuon`
        const countName = `n${f.name}`;
        if (!names.has(countName))
          add({
            name: countName,
            type: `${type} (entries per event)`,
            plan: { kind: 'count', name: countName, dtype: 'uint32', index },
          });
        for (const m of kids(item)) {
          const name = m.name.startsWith(`${f.name}_`) ? m.name : `${f.name}_${m.name}`;
          const e = leafEntry(name, m);
          add(
            e.plan?.kind === 'flat'
              ? { name, type: e.type, plan: { kind: 'jagged', name, dtype: e.plan.dtype, index, value: e.plan.value } }
              : {
                  name,
                  type: e.type,
                  unsupported: e.plan
                    ? 'fixed-size arrays inside a collection are not implemented'
                    : m.role === ROLE.leaf
                      ? (e.unsupported ?? 'unsupported member type')
                      : 'nested collections or records inside a collection are not implemented',
                },
          );
        }
        continue;
      }
      add({ name: f.name, type: label(f, [index]), unsupported: 'nested collections are not implemented' });
      continue;
    }
    if (f.role === ROLE.record) {
      const sub = kids(f);
      if (!sub.length) add({ name: f.name, type: label(f, []), unsupported: 'empty record' });
      for (const m of sub) add(leafEntry(`${f.name}_${m.name}`, m));
      continue;
    }
    add({
      name: f.name,
      type: label(f, [columnsOf(f)]),
      unsupported:
        f.role === ROLE.variant
          ? 'std::variant fields are not implemented'
          : f.role === ROLE.streamer
            ? 'ROOT-streamed objects are not implemented'
            : `structural role ${f.role}`,
    });
  }

  // BranchInfo, with the counts branch of each jagged branch: the count field over the same index column.
  const countByColumn = new Map<number, string>();
  for (const e of out) if (e.plan?.kind === 'count') countByColumn.set(e.plan.index[0][0].id, e.plan.name);
  const seen = new Set<string>();
  return out.map((e) => {
    if (!e.plan) return e;
    if (seen.has(e.name)) return { ...e, plan: undefined, unsupported: 'another field of the same name comes first' };
    seen.add(e.name);
    const p = e.plan;
    const info: BranchInfo =
      p.kind === 'flat' || p.kind === 'count'
        ? { name: p.name, kind: 'flat', dtype: p.dtype }
        : p.kind === 'string'
          ? { name: p.name, kind: 'string', dtype: 'uint8' }
          : p.kind === 'fixed'
            ? { name: p.name, kind: 'jagged', dtype: p.dtype }
            : {
                name: p.name,
                kind: p.kind === 'jagged2' ? 'jagged2' : 'jagged',
                dtype: p.dtype,
                ...(countByColumn.has(p.index[0][0].id) ? { countBranch: countByColumn.get(p.index[0][0].id) } : {}),
              };
    return { ...e, info };
  });
}
