/**
 * Corpus comparison: every branch of every tree of a ROOT file, read by Ristretto and by jsroot's
 * independent per-entry TSelector reading, reduced to plain JS values and classified as identical,
 * refused (typed UnsupportedBranchError), or failed/different. Used by the table-driven corpus test.
 */
import type { Column } from '../../../src/io/reader.ts';
import { openRoot, RootReader, UnsupportedBranchError } from '../../../src/io/root/index.ts';

const JSROOT: string = 'jsroot';
const JSROOT_TREE: string = 'jsroot/tree';

/** A per-entry value in plain JS: number, string, list of values, or record of values. */
export type Plain = number | string | Plain[] | { [k: string]: Plain };

/** jsroot's per-entry value (numbers, booleans, bigints, strings, typed arrays, arrays, objects) as Plain. */
export function plainOfJsroot(v: unknown): Plain {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
  if (Array.isArray(v)) return v.map(plainOfJsroot);
  if (v && typeof v === 'object') {
    const o: { [k: string]: Plain } = {};
    for (const [k, x] of Object.entries(v)) if (!k.startsWith('_')) o[k] = plainOfJsroot(x);
    return o;
  }
  throw new Error(`cannot reduce jsroot value ${String(v)}`);
}

/** A Ristretto column as one Plain value per entry (through offsets, so views compare equal). */
export function plainOfColumn(c: Column): Plain[] {
  if (!('offsets' in c)) return Array.from(c as ArrayLike<number>);
  const inner: Plain[] =
    'offsets' in (c.content as object)
      ? plainOfColumn(c.content as unknown as Column)
      : Array.from(c.content as ArrayLike<number>);
  const out: Plain[] = [];
  for (let i = 0; i + 1 < c.offsets.length; i++) out.push(inner.slice(c.offsets[i], c.offsets[i + 1]));
  return out;
}

/** A string column's entries, one character per byte (as jsroot decodes ROOT strings). */
export function latin1Strings(c: Column): string[] {
  const j = c as { offsets: Int32Array; content: Uint8Array };
  const out: string[] = [];
  for (let i = 0; i + 1 < j.offsets.length; i++)
    out.push(String.fromCharCode(...j.content.subarray(j.offsets[i], j.offsets[i + 1])));
  return out;
}

/** Exact equality of Plain values (NaN equals NaN, -0 equals -0 only). */
export function samePlain(a: Plain, b: Plain): boolean {
  if (typeof a === 'number' || typeof b === 'number' || typeof a === 'string' || typeof b === 'string')
    return Object.is(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && samePlain(a[k], b[k]));
}

interface JsTreeLike {
  fEntries: number;
}

/** Open a file with plain jsroot and return its tree objects by name. */
export async function jsrootTrees(path: string): Promise<Map<string, JsTreeLike>> {
  const { openFile } = (await import(JSROOT)) as {
    openFile(
      p: string,
    ): Promise<{ fKeys: { fName: string; fClassName: string }[]; readObject(n: string): Promise<unknown> }>;
  };
  const file = await openFile(path);
  const out = new Map<string, JsTreeLike>();
  for (const k of file.fKeys) {
    if (!/^(TTree|TNtuple|TNtupleD)$/.test(k.fClassName) || out.has(k.fName)) continue;
    out.set(k.fName, (await file.readObject(k.fName)) as JsTreeLike);
  }
  return out;
}

interface JsBranchLike {
  _typename: string;
  fName: string;
  fLeaves: { arr: ({ _typename: string; fName: string } | null)[] };
  fBranches: { arr: (JsBranchLike | null)[] };
}

/** A column as jsroot sees it: the branch object and, for a leaf-list field, the leaf name. */
export interface JsColumn {
  readonly name: string;
  readonly branch: JsBranchLike;
  readonly field?: string;
}

/**
 * The tree's columns in Ristretto's order (top-level branches, then sub-branches depth-first, leaf
 * lists expanded to `branch_leaf`), computed from jsroot's objects independently of the reader.
 */
export function jsrootColumns(tree: JsTreeLike): JsColumn[] {
  const top = ((tree as unknown as { fBranches: { arr: (JsBranchLike | null)[] } }).fBranches.arr ?? []).filter(
    (b): b is JsBranchLike => !!b,
  );
  const out: JsColumn[] = [];
  const add = (b: JsBranchLike) => {
    const leaves = b.fLeaves.arr.filter((l) => !!l) as { _typename: string; fName: string }[];
    const numeric = /^TLeaf[OBSILGFD]$/;
    if (b._typename === 'TBranch' && leaves.length > 1 && leaves.every((l) => numeric.test(l._typename))) {
      for (const l of leaves) out.push({ name: `${b.fName}_${l.fName}`, branch: b, field: l.fName });
    } else out.push({ name: b.fName, branch: b });
  };
  top.forEach(add);
  const walk = (b: JsBranchLike) => {
    for (const s of b.fBranches.arr) {
      if (!s) continue;
      add(s);
      walk(s);
    }
  };
  top.forEach(walk);
  return out;
}

/** jsroot's per-entry values of one column (all entries), or the error jsroot gave. */
export async function jsrootBranch(tree: JsTreeLike, col: JsColumn): Promise<Plain[] | Error> {
  const { TSelector, treeProcess } = (await import(JSROOT_TREE)) as {
    TSelector: new () => {
      addBranch(branch: unknown, name: string): number;
      tgtobj: Record<string, unknown>;
      Process(entry: number): void;
    };
    treeProcess(tree: unknown, sel: unknown, args: { firstentry: number; numentries: number }): Promise<unknown>;
  };
  const out: Plain[] = [];
  try {
    const sel = new TSelector();
    if (sel.addBranch(col.branch, 'v') < 0) return new Error(`jsroot cannot add branch ${col.name}`);
    sel.Process = function (this: { tgtobj: Record<string, unknown> }) {
      const v = this.tgtobj.v;
      out.push(plainOfJsroot(col.field ? (v as Record<string, unknown>)[col.field] : v));
    };
    if (tree.fEntries > 0) await treeProcess(tree, sel, { firstentry: 0, numentries: tree.fEntries });
    if (out.length !== tree.fEntries) return new Error(`jsroot gave ${out.length} of ${tree.fEntries} entries`);
    return out;
  } catch (e) {
    return e as Error;
  }
}

export type Outcome =
  | { kind: 'identical' }
  | { kind: 'refused'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'different'; message: string }
  | { kind: 'no-reference'; message: string; values: Plain[] };

/** Read one branch fully with Ristretto and compare it with `want` (jsroot's values or its error). */
export async function compareBranch(reader: RootReader, name: string, want: Plain[] | Error): Promise<Outcome> {
  let col: Column;
  try {
    col = (await reader.read([name], 0, reader.numEntries))[name];
  } catch (e) {
    if (e instanceof UnsupportedBranchError) return { kind: 'refused', message: (e as Error).message };
    return { kind: 'failed', message: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
  const kind = reader.branches().find((b) => b.name === name)?.kind;
  const got = kind === 'string' ? latin1Strings(col) : plainOfColumn(col);
  if (want instanceof Error) return { kind: 'no-reference', message: want.message, values: got };
  if (got.length !== want.length) return { kind: 'different', message: `${got.length} entries, jsroot ${want.length}` };
  for (let i = 0; i < got.length; i++) {
    if (!samePlain(got[i], want[i]))
      return {
        kind: 'different',
        message: `entry ${i}: got ${JSON.stringify(got[i])}, jsroot ${JSON.stringify(want[i])}`,
      };
  }
  return { kind: 'identical' };
}

export { openRoot };
