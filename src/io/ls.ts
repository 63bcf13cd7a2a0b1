/**
 * `ristretto ls FILE [--tree T] [--json]`: what a file holds, before writing a processor for it.
 *
 * - ROOT: the file's keys (trees, RNTuples, other objects), then for one tree (`--tree`, else `Events`,
 *   else the only tree) every branch with the column type Ristretto reads it as (`float32`,
 *   `var * float32`, ...), the ROOT title, entries, compressed and uncompressed bytes, the counter
 *   branch of each jagged branch (and which branches each counter counts), duplicate names, and why a
 *   branch cannot be read; totals for the tree. Like `uproot.open(f)["Events"].show()` and `rootls -t`.
 * - Parquet: row count, row groups (rows, bytes), and per branch the physical column, its type and bytes.
 * - Arrow IPC: row count, record batches, and per column the Arrow type and bytes in the file.
 *
 * `inspectFile` returns the report as data (also what `--json` prints); `formatLs` renders it as text.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
// Types only: apache-arrow (~0.2 CPU-s to load) is imported when an Arrow file is listed, not with every `ristretto`.
import type { Data, DataType } from 'apache-arrow';
import { parquetMetadataAsync } from 'hyparquet';
import { brokenInvariant, nameOnce, RistrettoError } from '../errors/index.ts';
import { openArrow } from './arrow/index.ts';
import { extensionOf } from './open.ts';
import { openParquet } from './parquet/index.ts';
import { asAsyncBuffer } from './parquet/fetch.ts';
import { mapSchema } from './parquet/schema.ts';
import type { BranchInfo, DType } from './reader.ts';
import { defaultTreeName, openRoot, RootFileError, treeNamesOf, TreeNotFoundError } from './root/index.ts';
import { openJsrootFile, type JsBranch, type JsFile, type JsTree } from './root/jsroot.ts';
import { isRNTupleKey, openRNTupleAt } from './rntuple/index.ts';
import type { AnchorKey } from './rntuple/envelope.ts';
import { isUrl, openSource, type ByteSource } from './source.ts';

/** `ls` could not describe the file (unknown format, not a tree, ...). */
export class LsError extends RistrettoError {}

/** One branch (ROOT) or column (Parquet/Arrow). */
export interface LsBranch {
  readonly name: string;
  /** Column type as Ristretto reads it: `float32`, `var * float32`, `var * var * float64`; `-` when unreadable. */
  readonly type: string;
  readonly dtype?: DType;
  readonly kind?: BranchInfo['kind'];
  /** How the file stores it: ROOT leaf (`Muon_pt[nMuon]/F`) or member type, Parquet physical column, Arrow type. */
  readonly stored: string;
  /** ROOT: the branch title when it says more than `stored` (NanoAOD keeps each branch's documentation there). */
  readonly title?: string;
  /** Entries of the branch (ROOT); rows for Parquet/Arrow. */
  readonly entries?: number;
  /** Bytes in the file (compressed, as stored); undefined when the column has no storage of its own. */
  readonly compressedBytes?: number;
  /** Bytes after decompression (ROOT: the branch's fTotBytes; Parquet: total_uncompressed_size). */
  readonly uncompressedBytes?: number;
  /** For a jagged branch: its counter branch (`nMuon`). */
  readonly countBranch?: string;
  /** For a counter branch: the jagged branches it counts. */
  readonly counterOf?: readonly string[];
  /** Another branch has the same name. */
  readonly duplicate?: boolean;
  /** A duplicate that reads cannot reach (the first branch of a name is the one read, like ROOT's GetBranch). */
  readonly shadowed?: boolean;
  readonly readable: boolean;
  /** Why it cannot be read. */
  readonly unsupported?: string;
  /** Parquet nested layout: counts synthesized from the collection's offsets (no column of its own). */
  readonly synthesized?: boolean;
}

/** A tree (ROOT) or the table of a Parquet/Arrow file. */
export interface LsTable {
  readonly name: string;
  readonly entries: number;
  readonly branches: readonly LsBranch[];
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** Branch names used more than once. */
  readonly duplicates: readonly string[];
  /** ROOT: the table is an RNTuple (its fields as NanoAOD-flat branches), not a TTree. */
  readonly rntuple?: boolean;
  /** Parquet row groups / Arrow record batches. */
  readonly rowGroups?: readonly {
    readonly entries: number;
    readonly compressedBytes: number;
    readonly uncompressedBytes: number;
  }[];
}

/** An object among a ROOT file's top-level keys. */
export interface LsObject {
  readonly name: string;
  readonly cycle: number;
  readonly className: string;
  /** Entries of a TTree. */
  readonly entries?: number;
}

export interface LsReport {
  readonly path: string;
  readonly format: 'root' | 'parquet' | 'arrow';
  readonly fileBytes: number;
  /** ROOT: every top-level key. */
  readonly objects?: readonly LsObject[];
  /** ROOT: names of the TTrees. */
  readonly trees?: readonly string[];
  /** ROOT: names of the RNTuples (the one chosen like a tree is shown as `tree`, with `rntuple: true`). */
  readonly rntuples?: readonly string[];
  /** The tree shown (ROOT) or the file's table (Parquet/Arrow); absent for a ROOT file without TTrees. */
  readonly tree?: LsTable;
}

export interface LsOptions {
  /** ROOT tree to describe (default: `Events`, else the only tree). */
  tree?: string;
  /** ROOT: list the file's keys only, no tree. */
  keysOnly?: boolean;
}

const TREE_CLASSES = new Set(['TTree', 'TNtuple', 'TNtupleD']);

/** Describe a ROOT, Parquet or Arrow IPC file (path, http(s) or root:// URL); reads metadata only (Arrow: the whole file). */
export async function inspectFile(pathOrUrl: string, opts: LsOptions = {}): Promise<LsReport> {
  const ext = extensionOf(pathOrUrl);
  if (ext === '.root') return inspectRoot(pathOrUrl, opts);
  if (ext === '.parquet' || ext === '.pq') return inspectParquet(pathOrUrl);
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') return inspectArrow(pathOrUrl);
  throw new LsError(
    `cannot list ${pathOrUrl}: no reader for ${ext ? `extension ${ext}` : 'a file without extension'}`,
    { file: pathOrUrl, extension: ext },
    'ristretto ls reads .root, .parquet, .arrow and .feather files',
  );
}

/** `float32`, `var * float32`, `var * var * float32`, `string` for a readable branch. */
function typeOf(info: BranchInfo): string {
  switch (info.kind) {
    case 'flat':
      return info.dtype;
    case 'jagged':
      return `var * ${info.dtype}`;
    case 'jagged2':
      return `var * var * ${info.dtype}`;
    default:
      return info.kind; // 'string' and any kind added later: its own name
  }
}

/** A byte count the file states (finite and above zero). */
const positive = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x) && x > 0;

/** Fill in `counterOf` from the branches' `countBranch`. */
function withCounters(branches: LsBranch[]): LsBranch[] {
  const counts = new Map<string, string[]>();
  for (const b of branches) {
    if (!b.countBranch || b.shadowed) continue;
    let list = counts.get(b.countBranch);
    if (!list) counts.set(b.countBranch, (list = []));
    if (!list.includes(b.name)) list.push(b.name);
  }
  return branches.map((b) => {
    const counterOf = b.shadowed ? undefined : counts.get(b.name);
    return counterOf ? { ...b, counterOf } : b;
  });
}

// ------------------------------------------------------------------------------------------- ROOT

/** The TTree and TBranch size fields jsroot decodes (not in the reader's narrow typings). */
interface SizedBranch extends JsBranch {
  readonly fTotBytes?: number;
  readonly fZipBytes?: number;
}
interface SizedTree extends JsTree {
  readonly fTotBytes?: number;
  readonly fZipBytes?: number;
}

async function inspectRoot(path: string, opts: LsOptions): Promise<LsReport> {
  let src: ByteSource;
  try {
    src = await openSource(path);
  } catch (e) {
    throw new RootFileError(
      `cannot open ROOT file ${path}: ${nameOnce(path, (e as Error).message)}`,
      { file: path },
      undefined,
      {
        cause: e,
      },
    );
  }
  let file: JsFile;
  try {
    file = await openJsrootFile(src);
  } catch (e) {
    await src.close();
    throw new RootFileError(
      `${path} is not a readable ROOT file: ${(e as Error).message.replace(`${path}: `, '')}`,
      { file: path },
      'check that it is a complete ROOT file',
      { cause: e },
    );
  }
  try {
    const keys = file.fKeys.filter((k) => k.fClassName !== 'TList' || k.fName !== 'StreamerInfo');
    const trees = treeNamesOf(keys);
    const rntuples = [...new Set(keys.filter((k) => k.fClassName.includes('RNTuple')).map((k) => k.fName))];
    const treeObjects = new Map<string, SizedTree>();
    for (const name of trees.slice(0, 50)) {
      const t = (await file.readObject(name).catch(() => null)) as SizedTree | null;
      if (t && TREE_CLASSES.has(t._typename)) treeObjects.set(name, t);
    }
    const objects: LsObject[] = keys.map((k) => {
      const t = TREE_CLASSES.has(k.fClassName) ? treeObjects.get(k.fName) : undefined;
      return { name: k.fName, cycle: k.fCycle, className: k.fClassName, ...(t ? { entries: t.fEntries } : {}) };
    });
    const base = { path, format: 'root' as const, fileBytes: src.size, objects, trees, rntuples };

    let treeName = opts.tree;
    if (opts.keysOnly) return base;
    if (treeName === undefined) {
      if (trees.length === 0 && !keys.some(isRNTupleKey)) return base; // no tree, no readable RNTuple: list the keys
      try {
        treeName = defaultTreeName(keys, path);
      } catch (e) {
        if (trees.length === 0) return base; // several RNTuples, none named Events: list them
        throw e;
      }
    }
    const key = keys.find((k) => k.fName === treeName);
    if (key && isRNTupleKey(key)) return { ...base, tree: await rntupleTable(src, key as unknown as AnchorKey) };
    if (key && key.fClassName.includes('RNTuple')) {
      throw new LsError(
        `'${treeName}' in ${path} is an RNTuple (${key.fClassName}); ls lists RNTuples by name only`,
        { file: path, tree: treeName, className: key.fClassName },
        trees.length ? `TTrees in the file: ${trees.join(', ')}` : 'the file holds no TTree',
      );
    }
    // The reader's own view of the branches (types, counters, duplicates, what it cannot read)...
    const reader = await openRoot(path, { treeName, warnDuplicates: false });
    let described: ReturnType<typeof reader.describe>;
    try {
      described = reader.describe();
    } finally {
      await reader.close();
    }
    // ...and the sizes from the TTree object.
    const tree = treeObjects.get(treeName) ?? ((await file.readObject(treeName)) as SizedTree);
    const sized = new Map<string, SizedBranch[]>();
    const walk = (arr: readonly (JsBranch | null | undefined)[]) => {
      for (const b of arr) {
        if (!b) continue;
        let same = sized.get(b.fName);
        if (!same) sized.set(b.fName, (same = []));
        same.push(b as SizedBranch);
        walk(b.fBranches?.arr ?? []);
      }
    };
    walk(tree.fBranches.arr);
    const seen = new Map<string, number>();
    const branches: LsBranch[] = described.map((d) => {
      const k = seen.get(d.name) ?? 0;
      seen.set(d.name, k + 1);
      const jb = sized.get(d.name)?.[k];
      if (!jb) {
        // a leaf of a leaf-list branch, read as its own column (`leaflist_x` of `leaflist` 'x/D:y/I')
        const leafOf = leafListMember(d.name, sized);
        if (leafOf) {
          return {
            name: d.name,
            type: d.info ? typeOf(d.info) : '-',
            ...(d.info ? { dtype: d.info.dtype, kind: d.info.kind } : {}),
            stored: `${leafOf.stored} (leaf of branch ${leafOf.branch.fName}, ${formatBytes(leafOf.branch.fZipBytes)} for all its leaves)`,
            entries: leafOf.branch.fEntries,
            ...(d.info?.countBranch ? { countBranch: d.info.countBranch } : {}),
            readable: Boolean(d.info),
            ...(d.unsupported ? { unsupported: d.unsupported } : {}),
          };
        }
      }
      const stored = jb ? storedOf(jb, file) : d.type;
      return {
        name: d.name,
        type: d.info ? typeOf(d.info) : '-',
        ...(d.info ? { dtype: d.info.dtype, kind: d.info.kind } : {}),
        stored,
        ...(jb && jb.fTitle && jb.fTitle !== stored && jb.fTitle !== d.name && jb._typename === 'TBranch'
          ? { title: jb.fTitle }
          : {}),
        ...(jb ? { entries: jb.fEntries } : {}),
        ...(jb && Number.isFinite(jb.fZipBytes) ? { compressedBytes: jb.fZipBytes } : {}),
        ...(jb && Number.isFinite(jb.fTotBytes) ? { uncompressedBytes: jb.fTotBytes } : {}),
        ...(d.info?.countBranch ? { countBranch: d.info.countBranch } : {}),
        ...(d.duplicate ? { duplicate: true, shadowed: Boolean(d.shadowed) } : {}),
        readable: Boolean(d.info) && !d.shadowed,
        ...(d.unsupported
          ? { unsupported: d.unsupported }
          : d.shadowed
            ? { unsupported: 'another branch of the same name comes first; reads get that one' }
            : {}),
      };
    });
    const sum = (f: (b: LsBranch) => number | undefined) => branches.reduce((s, b) => s + (f(b) ?? 0), 0);
    const table: LsTable = {
      name: treeName,
      entries: tree.fEntries,
      branches: withCounters(branches),
      compressedBytes: positive(tree.fZipBytes) ? tree.fZipBytes : sum((b) => b.compressedBytes),
      uncompressedBytes: positive(tree.fTotBytes) ? tree.fTotBytes : sum((b) => b.uncompressedBytes),
      duplicates: [...new Set(branches.filter((b) => b.duplicate).map((b) => b.name))],
    };
    return { ...base, tree: table };
  } finally {
    file.delete?.();
    await src.close();
  }
}

/** An RNTuple's fields as branches: C++ type and column encodings, bytes of the pages each one reads. */
async function rntupleTable(src: ByteSource, key: AnchorKey): Promise<LsTable> {
  const reader = await openRNTupleAt(src, key); // not closed here: inspectRoot closes the source
  const branches: LsBranch[] = reader.describe().map((d) => {
    const bytes = reader.storedBytes(d.name);
    return {
      name: d.name,
      type: d.info ? typeOf(d.info) : '-',
      ...(d.info ? { dtype: d.info.dtype, kind: d.info.kind } : {}),
      stored: d.type,
      entries: reader.numEntries,
      ...(bytes ? { compressedBytes: bytes.compressed, uncompressedBytes: bytes.uncompressed } : {}),
      ...(d.info?.countBranch ? { countBranch: d.info.countBranch } : {}),
      readable: Boolean(d.info),
      ...(d.unsupported ? { unsupported: d.unsupported } : {}),
    };
  });
  const total = reader.totalBytes();
  return {
    name: key.fName,
    entries: reader.numEntries,
    branches: withCounters(branches),
    compressedBytes: total.compressed,
    uncompressedBytes: total.uncompressed,
    duplicates: [],
    rntuple: true,
  };
}

/**
 * How ROOT stores the branch: its title (`Muon_pt[nMuon]/F`) for plain branches; for object branches
 * the member's C++ type from the streamer info (`vector<float>`), with its class (`Event::StlVecF32`).
 */
function storedOf(b: JsBranch, file: JsFile): string {
  if (b._typename === 'TBranchElement') {
    const cls = b.fClassName ?? '';
    let el = null;
    if (cls && b.fID !== undefined && b.fID >= 0) {
      try {
        const si = file.findStreamerInfo(cls, b.fClassVersion, b.fCheckSum) ?? file.findStreamerInfo(cls);
        el = si?.fElements?.arr[b.fID] ?? null;
      } catch {
        el = null;
      }
    }
    if (el) return `${el.fTypeName}${el.fArrayLength > 0 ? `[${el.fArrayLength}]` : ''} (${cls}::${el.fName})`;
    return cls ? `${cls}${b.fID === -1 ? ' (whole object)' : b.fID === -2 ? ' (split object)' : ''}` : b.fTitle;
  }
  // leaf by leaf, as ROOT's leaf-list notation (`Muon_pt[nMuon]/F`); NanoAOD keeps documentation in the branch title
  const leaves = b.fLeaves.arr.filter((l): l is NonNullable<typeof l> => Boolean(l));
  if (!leaves.length) return b.fTitle || b._typename;
  return leaves
    .map((l) => {
      const code = LEAF_CODES[l._typename];
      const t = l.fTitle || l.fName;
      if (!code || t.includes('/')) return t;
      return `${t}/${l.fIsUnsigned ? code.toLowerCase() : code}`;
    })
    .join(':');
}

/** The leaf-list branch and leaf a reader column like `leaflist_x` comes from. */
function leafListMember(
  name: string,
  sized: ReadonlyMap<string, readonly SizedBranch[]>,
): { branch: SizedBranch; stored: string } | undefined {
  for (const [bname, list] of sized) {
    if (!name.startsWith(`${bname}_`) && !name.startsWith(`${bname}.`)) continue;
    const rest = name.slice(bname.length + 1);
    const b = list[0];
    const leaf = b.fLeaves.arr.find((l) => l?.fName === rest);
    if (!leaf) continue;
    const code = LEAF_CODES[leaf._typename];
    return {
      branch: b,
      stored: code ? `${leaf.fTitle || leaf.fName}/${leaf.fIsUnsigned ? code.toLowerCase() : code}` : leaf._typename,
    };
  }
  return undefined;
}

/** ROOT's leaf type letters (lower case for unsigned). */
const LEAF_CODES: Record<string, string> = {
  TLeafO: 'O',
  TLeafB: 'B',
  TLeafS: 'S',
  TLeafI: 'I',
  TLeafL: 'L',
  TLeafG: 'G',
  TLeafF: 'F',
  TLeafD: 'D',
  TLeafC: 'C',
  TLeafF16: 'f',
  TLeafD32: 'd',
};

// ---------------------------------------------------------------------------------------- Parquet

async function inspectParquet(path: string): Promise<LsReport> {
  const reader = await openParquet(path);
  const infos = new Map(reader.branches().map((b) => [b.name, b]));
  await reader.close();
  const src = await openSource(path);
  try {
    const md = await parquetMetadataAsync(asAsyncBuffer(src), { initialFetchSize: Math.min(src.size, 64 * 1024) });
    const table = mapSchema(md);
    const rows = Number(md.num_rows);
    const colBytes = (i: number, f: 'total_compressed_size' | 'total_uncompressed_size') =>
      md.row_groups.reduce((s, rg) => s + Number(rg.columns[i]?.meta_data?.[f] ?? 0), 0);
    const branches: LsBranch[] = [];
    for (const [name, m] of table.branches) {
      const info = infos.get(name) ?? m.info;
      const common = {
        name,
        type: typeOf(info),
        dtype: info.dtype,
        kind: info.kind,
        entries: rows,
        readable: true,
        ...(info.countBranch ? { countBranch: info.countBranch } : {}),
      };
      if (m.kind === 'leaf') {
        const el = m.element;
        const logical = el.logical_type
          ? el.logical_type.type === 'INTEGER'
            ? `INT(${el.logical_type.bitWidth}, ${el.logical_type.isSigned ? 'signed' : 'unsigned'})`
            : el.logical_type.type
          : el.converted_type;
        branches.push({
          ...common,
          stored: `${m.pathInSchema.join('.')}: ${el.type}${logical ? ` (${logical})` : ''}${m.maxRep > 0 ? ', repeated' : ''}`,
          compressedBytes: colBytes(m.columnIndex, 'total_compressed_size'),
          uncompressedBytes: colBytes(m.columnIndex, 'total_uncompressed_size'),
        });
      } else {
        branches.push({ ...common, stored: `counts of ${m.collection} (from its list offsets)`, synthesized: true });
      }
    }
    for (const s of table.skipped.values())
      branches.push({ name: s.name, type: '-', stored: s.name, entries: rows, readable: false, unsupported: s.reason });
    const rowGroups = md.row_groups.map((rg) => ({
      entries: Number(rg.num_rows),
      compressedBytes: rg.columns.reduce((s, c) => s + Number(c.meta_data?.total_compressed_size ?? 0), 0),
      uncompressedBytes: rg.columns.reduce((s, c) => s + Number(c.meta_data?.total_uncompressed_size ?? 0), 0),
    }));
    return {
      path,
      format: 'parquet',
      fileBytes: src.size,
      tree: {
        name: 'Events',
        entries: rows,
        branches: withCounters(branches),
        compressedBytes: rowGroups.reduce((s, g) => s + g.compressedBytes, 0),
        uncompressedBytes: rowGroups.reduce((s, g) => s + g.uncompressedBytes, 0),
        duplicates: [],
        rowGroups,
      },
    };
  } finally {
    await src.close();
  }
}

// ------------------------------------------------------------------------------------------ Arrow

function dataBytes(d: Data): number {
  let n = 0;
  for (const b of [d.values, d.valueOffsets, d.nullBitmap, (d as { typeIds?: ArrayBufferView }).typeIds] as (
    | ArrayBufferView
    | undefined
  )[])
    if (b) n += b.byteLength;
  for (const c of d.children) n += dataBytes(c);
  return n;
}

async function inspectArrow(path: string): Promise<LsReport> {
  const reader = await openArrow(path);
  const infos = new Map(reader.branches().map((b) => [b.name, b]));
  await reader.close();
  let bytes: Uint8Array;
  if (isUrl(path)) {
    const src = await openSource(path);
    try {
      bytes = await src.read(0, src.size);
    } finally {
      await src.close();
    }
  } else bytes = readFileSync(path);
  const { tableFromIPC } = await import('apache-arrow');
  const table = tableFromIPC(bytes);
  const rows = table.numRows;
  const batches = table.batches;
  const branches: LsBranch[] = table.schema.fields.map((f, i) => {
    const info = infos.get(f.name);
    const size = batches.reduce((s, b) => s + dataBytes(b.data.children[i]), 0);
    return {
      name: f.name,
      type: info ? typeOf(info) : '-',
      ...(info ? { dtype: info.dtype, kind: info.kind } : {}),
      stored: String(f.type as DataType),
      entries: rows,
      compressedBytes: size,
      uncompressedBytes: size,
      ...(info?.countBranch ? { countBranch: info.countBranch } : {}),
      readable: Boolean(info),
      ...(info ? {} : { unsupported: `type ${String(f.type)} is not a numeric column or list of numbers` }),
    };
  });
  const rowGroups = batches.map((b) => {
    const n = b.data.children.reduce((s, c) => s + dataBytes(c), 0);
    return { entries: b.numRows, compressedBytes: n, uncompressedBytes: n };
  });
  const total = rowGroups.reduce((s, g) => s + g.compressedBytes, 0);
  return {
    path,
    format: 'arrow',
    fileBytes: bytes.byteLength,
    tree: {
      name: 'Events',
      entries: rows,
      branches: withCounters(branches),
      compressedBytes: total,
      uncompressedBytes: total,
      duplicates: [],
      rowGroups,
    },
  };
}

// ------------------------------------------------------------------------------------------- text

/** `1.2 MB`-style size (decimal units, as `ls -h --si` and ROOT's TTree::Print use bytes). */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) =>
          c === r.length - 1 ? cell : rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function ratio(c: number, u: number): string {
  return c > 0 && u > 0 ? ` (compression ${(u / c).toFixed(2)})` : '';
}

/** The report as text: a header for the file, then one line per branch and a total. */
export function formatLs(r: LsReport): string {
  const out: string[] = [];
  const fmtN = (n: number) => n.toLocaleString('en-US');
  out.push(
    `${r.path}: ${r.format === 'root' ? 'ROOT' : r.format === 'parquet' ? 'Parquet' : 'Arrow IPC'} file, ${formatBytes(r.fileBytes)}`,
  );
  if (r.format === 'root') {
    const objs = r.objects ?? [];
    out.push(
      `objects: ${objs.length ? objs.map((o) => `${o.name};${o.cycle} (${o.className}${o.entries !== undefined ? `, ${fmtN(o.entries)} entries` : ''})`).join(', ') : '(none)'}`,
    );
    if (r.rntuples?.length) out.push(`RNTuples: ${r.rntuples.join(', ')}`);
    if (!r.tree) {
      out.push(r.trees?.length ? '' : 'no TTree in this file');
      return out.join('\n').trimEnd() + '\n';
    }
  }
  const t = r.tree ?? brokenInvariant(`a ${r.format} report without its table`);
  const what = r.format === 'root' ? `${t.rntuple ? 'RNTuple' : 'tree'} ${t.name}` : 'table';
  out.push('');
  out.push(
    `${what}: ${fmtN(t.entries)} entries, ${t.branches.length} ${r.format === 'root' ? 'branches' : 'columns'}, ` +
      `${formatBytes(t.compressedBytes)} compressed, ${formatBytes(t.uncompressedBytes)} uncompressed${ratio(t.compressedBytes, t.uncompressedBytes)}`,
  );
  if (t.rowGroups) {
    const label = r.format === 'parquet' ? 'row groups' : 'record batches';
    const shown = t.rowGroups.slice(0, 8).map((g) => `${fmtN(g.entries)} rows / ${formatBytes(g.compressedBytes)}`);
    out.push(
      `${label}: ${t.rowGroups.length}${shown.length ? ` (${shown.join(', ')}${t.rowGroups.length > shown.length ? ', ...' : ''})` : ''}`,
    );
  }
  out.push('');
  const rows: string[][] = [
    ['name', 'type', r.format === 'root' ? 'stored as' : 'stored as', 'entries', 'compressed', 'uncompressed', 'notes'],
  ];
  for (const b of t.branches) {
    const notes: string[] = [];
    if (b.countBranch) notes.push(`counts: ${b.countBranch}`);
    if (b.counterOf)
      notes.push(
        `counter of ${b.counterOf.length} branch${b.counterOf.length === 1 ? '' : 'es'} (${b.counterOf.slice(0, 3).join(', ')}${b.counterOf.length > 3 ? ', ...' : ''})`,
      );
    if (b.synthesized) notes.push('synthesized');
    if (b.duplicate)
      notes.push(b.shadowed ? 'DUPLICATE name (shadowed: not readable by name)' : 'DUPLICATE name (this one is read)');
    if (!b.readable && b.unsupported && !b.shadowed) notes.push(`not readable: ${b.unsupported}`);
    rows.push([
      b.name,
      b.type,
      b.stored.length > 48 ? `${b.stored.slice(0, 47)}…` : b.stored,
      b.entries === undefined ? '-' : String(b.entries),
      formatBytes(b.compressedBytes),
      formatBytes(b.uncompressedBytes),
      notes.join('; '),
    ]);
  }
  rows.push(['total', '', '', String(t.entries), formatBytes(t.compressedBytes), formatBytes(t.uncompressedBytes), '']);
  out.push(table(rows, new Set([3, 4, 5])));
  if (t.duplicates.length) {
    out.push('');
    out.push(
      `duplicate branch names: ${t.duplicates.join(', ')} — reads get the first branch of each name (like ROOT's TTree::GetBranch)`,
    );
  }
  return out.join('\n') + '\n';
}

/** Define `ls FILE [--tree T] [--json]` on `program`. */
export function registerLsCommand(program: Command): void {
  program
    .command('ls')
    .description(
      "list a file's trees and branches (types, entries, compressed and uncompressed sizes), or a Parquet/Arrow file's columns",
    )
    .argument('<file>', 'ROOT, Parquet or Arrow IPC file, or an http(s) or root:// URL')
    .option('-t, --tree <name>', "ROOT tree to list (default: Events, or the file's only tree)")
    .option('--treename <name>', 'same as --tree')
    .option('--json', 'print the listing as JSON (sizes in bytes)')
    .action(async (file: string, o: { tree?: string; treename?: string; json?: boolean }) => {
      const tree = o.tree ?? o.treename;
      let report: LsReport;
      try {
        report = await inspectFile(file, tree ? { tree } : {});
      } catch (e) {
        // several trees and no choice: still show what the file holds before the error
        if (e instanceof TreeNotFoundError && !o.json && extensionOf(file) === '.root' && !tree) {
          const partial = await inspectFile(file, { keysOnly: true }).catch(() => undefined);
          if (partial) process.stdout.write(formatLs(partial));
        }
        throw e;
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 1)}\n` : formatLs(report));
    });
}
