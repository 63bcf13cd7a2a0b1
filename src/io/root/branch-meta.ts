/**
 * What the reader needs to know about one TBranch, extracted once from jsroot's objects: its decoded
 * type and shape, where its baskets are, and, for branches we cannot decode, why.
 */
import type { BranchInfo, DType } from '../reader.ts';
import type { JsBranch, JsEmbeddedBasket, JsLeaf, JsTree } from './jsroot.ts';

/** One basket written as its own key in the file. */
export interface BasketLocation {
  readonly index: number;
  readonly seek: number;
  readonly bytes: number;
  readonly entryStart: number;
  readonly entryStop: number;
}

export interface BranchMeta {
  readonly name: string;
  /** Leaf type as jsroot names it plus the branch title, for messages. */
  readonly typeLabel: string;
  /** Present when the branch can be decoded. */
  readonly info?: BranchInfo;
  /** Present when it cannot: what is unsupported about it. */
  readonly unsupported?: string;
  /** Bytes per stored element. */
  readonly itemSize: number;
  /** Fixed elements per entry for `x[3]`-style branches (1 otherwise). */
  readonly fixedLen: number;
  /** Jagged with a count leaf (`Jet_pt[nJet]`). */
  readonly counted: boolean;
  /** Baskets carry a table of per-entry byte offsets. */
  readonly hasEntryOffsets: boolean;
  readonly baskets: readonly BasketLocation[];
  /** Entries covered by written baskets; past it, the data sit in an embedded basket (if any). */
  readonly writtenEntries: number;
  readonly entries: number;
  readonly embedded?: { readonly basket: JsEmbeddedBasket; readonly entryStart: number };
}

const LEAF_TYPES: Record<string, [DType, DType, number]> = {
  // leaf class: [signed dtype, unsigned dtype, bytes]
  TLeafO: ['bool', 'bool', 1],
  TLeafB: ['int8', 'uint8', 1],
  TLeafS: ['int16', 'uint16', 2],
  TLeafI: ['int32', 'uint32', 4],
  TLeafL: ['int64', 'uint64', 8],
  TLeafG: ['int64', 'uint64', 8],
  TLeafF: ['float32', 'float32', 4],
  TLeafD: ['float64', 'float64', 8],
};

/** Metadata of every top-level branch of `tree`, decodable or not. */
export function describeBranches(tree: JsTree): BranchMeta[] {
  const branches = tree.fBranches.arr.filter((b): b is JsBranch => !!b);
  // Count leaves are referenced by leaf name; map them to the branch that holds them.
  const branchOfLeaf = new Map<string, string>();
  for (const b of branches) for (const l of b.fLeaves.arr) if (l) branchOfLeaf.set(l.fName, b.fName);
  return branches.map((b) => describeBranch(b, branchOfLeaf));
}

function describeBranch(b: JsBranch, branchOfLeaf: Map<string, string>): BranchMeta {
  const leaves = b.fLeaves.arr.filter((l): l is JsLeaf => !!l);
  const leaf = leaves[0];
  const typeLabel = `${b._typename}/${leaves.map((l) => l._typename).join('+') || 'no leaves'} '${b.fTitle}'`;
  const { baskets, writtenEntries, embedded } = locateBaskets(b);
  const base = {
    name: b.fName,
    typeLabel,
    baskets,
    writtenEntries,
    entries: b.fEntries,
    embedded,
    hasEntryOffsets: b.fEntryOffsetLen > 0,
  };
  const unsupported = (reason: string): BranchMeta => ({ ...base, unsupported: reason, itemSize: 0, fixedLen: 1, counted: false });

  if (b._typename !== 'TBranch') return unsupported(`${b._typename} (objects or STL containers) is not supported; only simple numeric branches are`);
  if (b.fBranches.arr.some((x) => x)) return unsupported('branches with sub-branches are not supported');
  if (!leaf) return unsupported('branch has no leaf');
  if (leaves.length > 1) return unsupported(`leaf lists (${leaves.length} leaves, e.g. 'x/F:y/F') are not supported; split them into one branch per leaf`);
  const t = LEAF_TYPES[leaf._typename];
  if (!t) {
    const why = leaf._typename === 'TLeafC' ? 'strings' : leaf._typename === 'TLeafElement' ? 'objects' : `leaf type ${leaf._typename}`;
    return unsupported(`${why} are not supported; only bool, (u)int8/16/32/64, float and double`);
  }
  const dtype = leaf.fIsUnsigned ? t[1] : t[0];
  const itemSize = t[2];
  const fixedLen = Math.max(1, leaf.fLen);
  if (leaf.fLeafCount) {
    if (fixedLen > 1) return unsupported(`variable-length arrays of fixed arrays ('${b.fTitle}') are not supported`);
    const countBranch = branchOfLeaf.get(leaf.fLeafCount.fName);
    if (!countBranch) return unsupported(`its count leaf '${leaf.fLeafCount.fName}' is not in the tree`);
    return { ...base, itemSize, fixedLen: 1, counted: true, info: { name: b.fName, kind: 'jagged', dtype, countBranch } };
  }
  if (fixedLen > 1) return { ...base, itemSize, fixedLen, counted: false, info: { name: b.fName, kind: 'jagged', dtype } };
  return { ...base, itemSize, fixedLen: 1, counted: false, info: { name: b.fName, kind: 'flat', dtype } };
}

function locateBaskets(b: JsBranch): Pick<BranchMeta, 'baskets' | 'writtenEntries' | 'embedded'> {
  const baskets: BasketLocation[] = [];
  for (let k = 0; k < b.fWriteBasket; k++) {
    const entryStart = b.fBasketEntry[k]!;
    const entryStop = b.fBasketEntry[k + 1]!;
    if (b.fBasketBytes[k]! > 0 && entryStop > entryStart) {
      baskets.push({ index: k, seek: b.fBasketSeek[k]!, bytes: b.fBasketBytes[k]!, entryStart, entryStop });
    }
  }
  const writtenEntries = b.fWriteBasket > 0 ? b.fBasketEntry[b.fWriteBasket]! : 0;
  const emb = b.fBaskets?.arr[b.fWriteBasket];
  const embedded = emb && writtenEntries < b.fEntries ? { basket: emb, entryStart: writtenEntries } : undefined;
  return { baskets, writtenEntries, embedded };
}
