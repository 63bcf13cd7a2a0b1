/**
 * Maps a Parquet schema onto NanoAOD-flat branch names, so both layouts look alike:
 *  - flat layout: `Jet_pt` list<float> → jagged `Jet_pt`; `nJet` int64 → flat `nJet`;
 *  - nested layout: `Jet` list<struct<pt,...>> → jagged `Jet_pt`, ... plus a synthesized `nJet`
 *    (int32 counts) when the file has no such column; struct `MET` {pt, phi} → flat `MET_pt`, `MET_phi`.
 * Only metadata is used; no page is read here.
 */
import type { FileMetaData, SchemaElement, SchemaTree } from 'hyparquet';
import type { BranchInfo, DType } from '../reader.ts';
import { dtypeOfElement } from './dtype.ts';
import type { ParquetFooter } from './footer.ts';

/** A physical Parquet column mapped to a branch. */
export interface LeafColumn {
  readonly kind: 'leaf';
  readonly info: BranchInfo;
  /** Index of the column chunk within each row group. */
  readonly columnIndex: number;
  readonly pathInSchema: readonly string[];
  readonly schemaPath: readonly SchemaTree[];
  readonly element: SchemaElement;
  readonly maxDef: number;
  readonly maxRep: number;
  /** Definition level at which a list element exists (level of the repeated node); 0 for flat columns. */
  readonly listDef: number;
  /** Collection the leaf belongs to in the nested layout (`Jet`), used to synthesize counts. */
  readonly collection?: string;
}

/** Counts synthesized from the offsets of a collection's leaf (nested layout `nJet`). */
export interface CountColumn {
  readonly kind: 'count';
  readonly info: BranchInfo;
  readonly collection: string;
  /** Leaves of the collection, any of which gives the counts; the cheapest comes first. */
  readonly leaves: readonly LeafColumn[];
}

export type MappedBranch = LeafColumn | CountColumn;

/** A column present in the file that cannot become a branch, with the reason (for error messages). */
export interface SkippedColumn {
  readonly name: string;
  readonly reason: string;
}

export interface BranchTable {
  readonly branches: ReadonlyMap<string, MappedBranch>;
  readonly skipped: ReadonlyMap<string, SkippedColumn>;
}

function buildTree(schema: readonly SchemaElement[]): SchemaTree {
  let i = 0;
  const visit = (path: string[]): SchemaTree => {
    const element = schema[i++];
    const children: SchemaTree[] = [];
    for (let c = 0; c < (element.num_children ?? 0); c++) {
      const childEl = schema[i];
      if (!childEl) break;
      children.push(visit([...path, childEl.name]));
    }
    return { element, children, count: 0, path };
  };
  return visit([]);
}

function leafPaths(n: SchemaTree, out: string[][] = []): string[][] {
  if (!n.children.length) out.push(n.path);
  for (const c of n.children) leafPaths(c, out);
  return out;
}

function isRepeated(n: SchemaTree): boolean {
  return n.element.repetition_type === 'REPEATED';
}

/** Path and compressed size of each column chunk of the first row group (none when the file has no row group). */
function firstGroupColumns(metadata: FileMetaData | ParquetFooter): { path: readonly string[]; size: number }[] {
  if ('row_groups' in metadata)
    return (metadata.row_groups[0]?.columns ?? []).map((c) => ({
      path: c.meta_data?.path_in_schema ?? [],
      size: Number(c.meta_data?.total_compressed_size ?? 0),
    }));
  if (metadata.numRowGroups === 0) return [];
  const out: { path: readonly string[]; size: number }[] = [];
  for (let i = 0; i < metadata.columnCount(0); i++) {
    const m = metadata.column(0, i);
    out.push({ path: m?.path_in_schema ?? [], size: m?.total_compressed_size ?? 0 });
  }
  return out;
}

/** Map every leaf column of `metadata` (hyparquet's, or a lazily decoded footer) to a branch. */
export function mapSchema(metadata: FileMetaData | ParquetFooter): BranchTable {
  const root = buildTree(metadata.schema);
  const branches = new Map<string, MappedBranch>();
  const skipped = new Map<string, SkippedColumn>();
  const collections = new Map<string, LeafColumn[]>();

  const columnIndexOf = new Map<string, number>();
  const rg0 = firstGroupColumns(metadata);
  rg0.forEach((c, i) => columnIndexOf.set(c.path.join('\u0000'), i));
  // No row group (a file without rows): column chunks would follow the schema's leaves in order.
  if (rg0.length === 0) leafPaths(root).forEach((p, i) => columnIndexOf.set(p.join('\u0000'), i));

  const addLeaf = (name: string, chain: SchemaTree[], collection: string | undefined): void => {
    const leaf = chain[chain.length - 1];
    const el = leaf.element;
    const pathInSchema = leaf.path;
    let maxDef = 0;
    let maxRep = 0;
    let listDef = 0;
    for (const n of chain.slice(1)) {
      if (n.element.repetition_type !== 'REQUIRED') maxDef++;
      if (isRepeated(n)) {
        maxRep++;
        listDef = maxDef;
      }
    }
    if (maxRep > 1) {
      skipped.set(name, {
        name,
        reason: `column ${pathInSchema.join('.')} is a list of lists, which Ristretto does not map to a branch`,
      });
      return;
    }
    const dtype: DType | undefined = dtypeOfElement(el);
    if (!dtype) {
      const t = el.logical_type?.type ?? el.converted_type ?? el.type;
      skipped.set(name, { name, reason: `column ${pathInSchema.join('.')} has non-numeric type ${t}` });
      return;
    }
    const columnIndex = columnIndexOf.get(pathInSchema.join('\u0000'));
    if (columnIndex === undefined || branches.has(name)) return;
    const entry: LeafColumn = {
      kind: 'leaf',
      info: { name, kind: maxRep ? 'jagged' : 'flat', dtype },
      columnIndex,
      pathInSchema,
      schemaPath: chain,
      element: el,
      maxDef,
      maxRep,
      listDef,
      collection,
    };
    branches.set(name, entry);
    if (collection) {
      let list = collections.get(collection);
      if (!list) collections.set(collection, (list = []));
      list.push(entry);
    }
  };

  // All leaves under `node`, named prefix + field path joined by '_'.
  const addLeavesUnder = (
    node: SchemaTree,
    chain: SchemaTree[],
    prefix: string,
    collection: string | undefined,
  ): void => {
    if (!node.children.length) {
      addLeaf(prefix, chain, collection);
      return;
    }
    for (const child of node.children)
      addLeavesUnder(child, [...chain, child], `${prefix}_${child.element.name}`, collection);
  };

  const visit = (node: SchemaTree, chain: SchemaTree[], name: string): void => {
    if (!node.children.length) {
      addLeaf(name, chain, undefined);
      return;
    }
    // A list: the group (LIST-annotated or not) holding a single repeated child, or a repeated group itself.
    const rep = isRepeated(node)
      ? node
      : node.children.length === 1 && isRepeated(node.children[0])
        ? node.children[0]
        : undefined;
    if (rep) {
      const repChain = rep === node ? chain : [...chain, rep];
      // Three-level list: repeated group with one child ('element'/'item') that is the element itself.
      const threeLevel =
        rep.children.length === 1 &&
        (node.element.converted_type === 'LIST' || node.element.logical_type?.type === 'LIST');
      const elem = threeLevel ? rep.children[0] : rep;
      const elemChain = threeLevel ? [...repChain, elem] : repChain;
      if (!elem.children.length) {
        addLeaf(name, elemChain, undefined);
      } else {
        for (const field of elem.children)
          addLeavesUnder(field, [...elemChain, field], `${name}_${field.element.name}`, name);
      }
      return;
    }
    // A struct: flatten its fields with '_' (MET.pt → MET_pt).
    for (const child of node.children) visit(child, [...chain, child], `${name}_${child.element.name}`);
  };

  for (const child of root.children) visit(child, [root, child], child.element.name);

  // Counts: the flat layout stores them (`nJet`); the nested layout gets them synthesized from a leaf's offsets.
  for (const [collection, leaves] of collections) {
    const countName = `n${collection}`;
    if (!branches.has(countName)) {
      const cost = (l: LeafColumn): number => rg0[l.columnIndex]?.size ?? 0;
      const sorted = [...leaves].sort((a, b) => cost(a) - cost(b));
      branches.set(countName, {
        kind: 'count',
        info: { name: countName, kind: 'flat', dtype: 'int32' },
        collection,
        leaves: sorted,
      });
    }
  }
  // Attach countBranch to jagged leaves: the collection's count, or `nX` for a flat-layout `X_y`.
  for (const [name, b] of branches) {
    if (b.kind !== 'leaf' || b.info.kind !== 'jagged') continue;
    const prefix = b.collection ?? name.split('_')[0];
    const countName = `n${prefix}`;
    const count = branches.get(countName);
    if (count && count.info.kind === 'flat') branches.set(name, { ...b, info: { ...b.info, countBranch: countName } });
  }
  return { branches, skipped };
}
