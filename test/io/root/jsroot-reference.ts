/**
 * Independent reference: jsroot's own per-entry TTree reading (TSelector + treeProcess), which shares
 * no code with Ristretto's basket decoding. Slow, so tests use it on modest ranges.
 */
const JSROOT: string = 'jsroot';
const JSROOT_TREE: string = 'jsroot/tree';

/** Per-entry values: a number for flat branches, an array of numbers for jagged ones. */
export type EntryValues = Record<string, (number | number[])[]>;

/**
 * Read `branches` for [start, stop) entry by entry. Count branches must come before the jagged
 * branches that use them (jsroot otherwise refuses them as "already configured").
 */
export async function jsrootRead(
  path: string,
  treeName: string,
  branches: readonly string[],
  start: number,
  stop: number,
): Promise<EntryValues> {
  const { openFile } = (await import(JSROOT)) as {
    openFile(p: string): Promise<{ readObject(n: string): Promise<unknown> }>;
  };
  const { TSelector, treeProcess } = (await import(JSROOT_TREE)) as {
    TSelector: new () => {
      addBranch(name: string): number;
      tgtobj: Record<string, unknown>;
      Process(entry: number): void;
    };
    treeProcess(tree: unknown, sel: unknown, args: { firstentry: number; numentries: number }): Promise<unknown>;
  };
  const file = await openFile(path);
  const tree = await file.readObject(treeName);
  const out: EntryValues = Object.fromEntries(branches.map((b) => [b, []]));
  const sel = new TSelector();
  for (const b of branches) sel.addBranch(b);
  sel.Process = function (this: { tgtobj: Record<string, unknown> }) {
    for (const b of branches) {
      const v = this.tgtobj[b];
      out[b].push(
        typeof v === 'object' && v !== null
          ? Array.from(v as ArrayLike<number | boolean | bigint>, Number)
          : Number(v as number | boolean | bigint),
      );
    }
  };
  if (stop > start) await treeProcess(tree, sel, { firstentry: start, numentries: stop - start });
  for (const b of branches) {
    if (out[b].length !== stop - start)
      throw new Error(`jsroot gave ${out[b].length} entries of ${b}, expected ${stop - start}`);
  }
  return out;
}

/** Basket layout of one branch straight from jsroot's TTree object (for byte-count expectations). */
export interface JsBasketLayout {
  entries: number[];
  bytes: number[];
  seeks: number[];
}

/** Basket layout of every branch of a tree, read with plain jsroot. */
export async function jsrootBaskets(path: string, treeName: string): Promise<Map<string, JsBasketLayout>> {
  const { openFile } = (await import(JSROOT)) as {
    openFile(p: string): Promise<{ readObject(n: string): Promise<unknown> }>;
  };
  const file = await openFile(path);
  type B = {
    fName: string;
    fWriteBasket: number;
    fBasketEntry: ArrayLike<number>;
    fBasketBytes: ArrayLike<number>;
    fBasketSeek: ArrayLike<number>;
  };
  const tree = (await file.readObject(treeName)) as { fBranches: { arr: B[] } };
  const out = new Map<string, JsBasketLayout>();
  for (const b of tree.fBranches.arr) {
    const n = b.fWriteBasket;
    out.set(b.fName, {
      entries: Array.from(b.fBasketEntry).slice(0, n + 1),
      bytes: Array.from(b.fBasketBytes).slice(0, n),
      seeks: Array.from(b.fBasketSeek).slice(0, n),
    });
  }
  return out;
}
