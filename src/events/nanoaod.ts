/**
 * NanoAOD schema: groups a reader's flat branch names into what a processor sees.
 *
 * - `nX` + jagged `X_*` → collection `X` (fields share one offsets array); `nX` stays visible as is.
 * - flat `X_*` with no jagged sibling → record `X` of flat columns (`MET_pt`, `HLT_IsoMu24`, `Flag_*`, `PV_*`).
 * - names without an underscore (`run`, `event`, `nJet`, `genWeight`, jagged `LHEPdfWeight`) → plain columns.
 * - integer fields named `<target>Idx[N|Mother]` (`Jet_muonIdx1`, `GenPart_genPartIdxMother`) → links into
 *   collection `<Target>` when the file has it.
 *
 * Built from `reader.branches()` only; nothing is read.
 */
import type { BranchInfo, DType, EventReader } from '../io/reader.ts';

/** Coordinates a collection's fields describe, so four-vector kernels know how to read it. */
export type VectorKind = 'PtEtaPhiM' | 'PtEtaPhi' | 'PxPyPzE';

export interface CollectionSchema {
  readonly name: string;
  /** Branch holding the per-event counts (`nJet`), when the file has one. */
  readonly countBranch: string | undefined;
  /** Field name (`pt`) → branch (`Jet_pt`), jagged branches only, in file order. */
  readonly fields: ReadonlyMap<string, BranchInfo>;
  /** Field name (`muonIdx1`) → target collection (`Muon`). */
  readonly links: ReadonlyMap<string, string>;
  readonly kind: VectorKind | undefined;
}

export interface RecordSchema {
  readonly name: string;
  /** Field name (`pt`) → flat branch (`MET_pt`). */
  readonly fields: ReadonlyMap<string, BranchInfo>;
}

export interface NanoSchema {
  readonly collections: ReadonlyMap<string, CollectionSchema>;
  readonly records: ReadonlyMap<string, RecordSchema>;
  /** Branches exposed under their own name: `run`, `nJet`, `LHEPdfWeight`. */
  readonly plain: ReadonlyMap<string, BranchInfo>;
  /** Every branch of the file, by full name. */
  readonly branches: ReadonlyMap<string, BranchInfo>;
}

/**
 * Link prefixes whose target is not simply the capitalised prefix. Empty today: every NanoAOD v5–v9
 * cross-reference in nano_dy.root (muonIdx, electronIdx, jetIdx, photonIdx, genPartIdx, genPartIdxMother,
 * tauIdx, fsrPhotonIdx, subJetIdx, genJetIdx) follows the rule; irregular ones go here.
 */
const LINK_TARGET_OVERRIDES: Readonly<Record<string, string>> = {};

const LINK_FIELD = /^([a-z][A-Za-z0-9]*?)Idx(?:Mother|\d*)$/;

const INTEGER_DTYPES: ReadonlySet<DType> = new Set([
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
]);

/** The collection a field like `muonIdx1` points into, or undefined when it is not a link or the target is absent. */
export function linkTarget(
  field: string,
  dtype: DType,
  collections: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string | undefined {
  if (!INTEGER_DTYPES.has(dtype)) return undefined;
  const m = LINK_FIELD.exec(field);
  if (!m) return undefined;
  const prefix = m[1];
  const target = LINK_TARGET_OVERRIDES[prefix] ?? prefix[0].toUpperCase() + prefix.slice(1);
  return collections.has(target) ? target : undefined;
}

function vectorKind(fields: ReadonlyMap<string, unknown>): VectorKind | undefined {
  const has = (...names: string[]) => names.every((n) => fields.has(n));
  if (has('pt', 'eta', 'phi', 'mass')) return 'PtEtaPhiM';
  if (has('pt', 'eta', 'phi')) return 'PtEtaPhi';
  if (has('Px', 'Py', 'Pz', 'E')) return 'PxPyPzE';
  return undefined;
}

/** Group a reader's branches into collections, records and plain columns (see the module comment). */
export function buildNanoSchema(branches: readonly BranchInfo[]): NanoSchema {
  const all = new Map<string, BranchInfo>();
  for (const b of branches) all.set(b.name, b);

  const groups = new Map<string, Map<string, BranchInfo>>();
  const plain = new Map<string, BranchInfo>();
  for (const b of branches) {
    const us = b.name.indexOf('_');
    if (us <= 0 || us === b.name.length - 1) {
      plain.set(b.name, b);
      continue;
    }
    const prefix = b.name.slice(0, us);
    let g = groups.get(prefix);
    if (!g) groups.set(prefix, (g = new Map()));
    g.set(b.name.slice(us + 1), b);
  }

  const collectionNames = new Set<string>();
  for (const [prefix, members] of groups) {
    for (const b of members.values()) if (b.kind === 'jagged') collectionNames.add(prefix);
  }

  const collections = new Map<string, CollectionSchema>();
  const records = new Map<string, RecordSchema>();
  for (const [prefix, members] of groups) {
    if (!collectionNames.has(prefix)) {
      // A record holds flat columns only; strings and lists of lists (ROOT `string`/`jagged2` branches)
      // of the same prefix stay reachable through `events.column(name)`.
      const flat = new Map([...members].filter(([, b]) => b.kind === 'flat'));
      if (flat.size) records.set(prefix, { name: prefix, fields: flat });
      continue;
    }
    // Flat members of a jagged group (none in NanoAOD) do not share the offsets, so they stay reachable
    // only through `events.column(name)`.
    const fields = new Map<string, BranchInfo>();
    for (const [f, b] of members) if (b.kind === 'jagged') fields.set(f, b);
    let countBranch: string | undefined = all.get(`n${prefix}`)?.kind === 'flat' ? `n${prefix}` : undefined;
    if (countBranch === undefined) {
      for (const b of fields.values()) {
        if (b.countBranch !== undefined && all.get(b.countBranch)?.kind === 'flat') {
          countBranch = b.countBranch;
          break;
        }
      }
    }
    const links = new Map<string, string>();
    for (const [f, b] of fields) {
      const t = linkTarget(f, b.dtype, collectionNames);
      if (t !== undefined) links.set(f, t);
    }
    collections.set(prefix, { name: prefix, countBranch, fields, links, kind: vectorKind(fields) });
  }
  return { collections, records, plain, branches: all };
}

// Keyed on the branch list rather than the reader: wrappers (a runner's read guard) share the list.
const schemaCache = new WeakMap<readonly BranchInfo[], NanoSchema>();

/** The reader's NanoAOD schema, built once per branch list. */
export function nanoSchemaOf(reader: EventReader): NanoSchema {
  const branches = reader.branches();
  let s = schemaCache.get(branches);
  if (!s) schemaCache.set(branches, (s = buildNanoSchema(branches)));
  return s;
}
