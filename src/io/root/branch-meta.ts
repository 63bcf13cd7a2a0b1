/**
 * What the reader needs to know about one readable column of a TTree, extracted once from jsroot's
 * objects: its decoded type and shape (`layout`), where its baskets are, and, for branches we cannot
 * decode, why. Besides plain numeric TBranches this covers leaf lists (one column per leaf, named
 * `branch_leaf`), std::vector<number> and std::vector<std::vector<number>> (TBranchElement, top level
 * or members of a split object), and the numeric members of split objects (scalars, fixed arrays,
 * `T* x; //[n]` arrays). Anything else is described with `unsupported` and refused when read.
 */
import type { BranchInfo, DType } from '../reader.ts';
import type { JsBranch, JsEmbeddedBasket, JsLeaf, JsStreamerElement, JsTree } from './jsroot.ts';

/** One basket written as its own key in the file. */
export interface BasketLocation {
  readonly index: number;
  readonly seek: number;
  readonly bytes: number;
  readonly entryStart: number;
  readonly entryStop: number;
}

/** A basket stored inside the TBranch object (recovered / never-flushed baskets). */
export interface EmbeddedLocation {
  readonly index: number;
  readonly basket: JsEmbeddedBasket;
  readonly entryStart: number;
  readonly entryStop: number;
}

/**
 * How one entry's bytes map to values.
 * - `fixed`: `perEntry` elements of `itemSize` bytes (flat when perEntry is 1 and the info says flat);
 * - `counted`: a count branch gives the number of elements; each entry is `header` bytes then the elements
 *   (`x[n]/F`: header 0; a split member `T* x; //[n]`: header 1);
 * - `vector`: std::vector<T>: byte count, version, size, elements;
 * - `vector2`: std::vector<std::vector<T>>: byte count, version, size, then per inner vector size + elements;
 * - `field`: one leaf of a leaf list: the entry is a packed record of `recordBytes` bytes, this leaf's
 *   `perEntry` elements start at byte `offset`;
 * - `string`: `header` bytes (std::string: 6, byte count + version; TString and char*: 0), a 1- or
 *   5-byte length, the bytes.
 */
export type Layout =
  | { readonly kind: 'fixed'; readonly itemSize: number; readonly perEntry: number; readonly packed?: Packed }
  | { readonly kind: 'counted'; readonly itemSize: number; readonly header: number; readonly packed?: Packed }
  | { readonly kind: 'vector'; readonly itemSize: number }
  | { readonly kind: 'vector2'; readonly itemSize: number }
  | {
      readonly kind: 'field';
      readonly itemSize: number;
      readonly perEntry: number;
      readonly recordBytes: number;
      readonly offset: number;
    }
  | { readonly kind: 'string'; readonly header: 0 | 6; readonly eitherHeader?: boolean };

/**
 * How Double32_t / Float16_t members are stored: `factor`: a 4-byte unsigned integer u, value
 * u / factor + min (a [min, max, nbits] range); `float`: a 4-byte float (Double32_t without range);
 * `nbits`: 1 exponent byte + 2 mantissa bytes holding `nbits` mantissa bits and the sign
 * (Float16_t without range: 12 bits; either type with a [0, 0, nbits] range).
 */
export type Packed =
  | { readonly mode: 'factor'; readonly factor: number; readonly min: number }
  | { readonly mode: 'float' }
  | { readonly mode: 'nbits'; readonly nbits: number };

/**
 * Why a branch is refused: its type is not supported, the file lacks the streamer info to know it, or
 * (`members`) it is an object split into sub-branches, which are read (and converted) instead.
 */
export type UnsupportedKind = 'type' | 'streamer' | 'members';

export interface BranchMeta {
  /** Column name (the branch name; `branch_leaf` for the leaves of a leaf list). */
  readonly name: string;
  /** Name of the TBranch whose baskets hold the data (differs from `name` for leaf-list fields). */
  readonly branchName: string;
  /** Leaf type as jsroot names it plus the branch title and class, for messages. */
  readonly typeLabel: string;
  /** Present when the branch can be decoded. */
  readonly info?: BranchInfo;
  /** Present when it cannot: what is unsupported about it. */
  readonly unsupported?: string;
  readonly unsupportedKind?: UnsupportedKind;
  /** Present with `info`. */
  readonly layout?: Layout;
  /** Baskets carry a table of per-entry byte offsets (metadata says so; the reader checks each basket). */
  readonly hasEntryOffsets: boolean;
  readonly baskets: readonly BasketLocation[];
  /** Baskets kept inside the branch object, in entry order. */
  readonly embedded: readonly EmbeddedLocation[];
  readonly entries: number;
  /** Another branch (or leaf-list field) of the tree has the same name; the first in tree order wins. */
  readonly duplicate?: boolean;
}

// leaf class: [signed dtype, unsigned dtype, bytes]
const LEAF_TYPES: Record<string, [DType, DType, number]> = {
  TLeafO: ['bool', 'bool', 1],
  TLeafB: ['int8', 'uint8', 1],
  TLeafS: ['int16', 'uint16', 2],
  TLeafI: ['int32', 'uint32', 4],
  TLeafL: ['int64', 'uint64', 8],
  TLeafG: ['int64', 'uint64', 8],
  TLeafF: ['float32', 'float32', 4],
  TLeafD: ['float64', 'float64', 8],
};

// TStreamerInfo basic type codes (TVirtualStreamerInfo::EReadWrite): [dtype, bytes on disk]
const STREAMER_TYPES: Record<number, [DType, number]> = {
  1: ['int8', 1],
  2: ['int16', 2],
  3: ['int32', 4],
  4: ['int64', 8], // Long_t is always written as 8 bytes
  5: ['float32', 4],
  6: ['int32', 4], // kCounter
  8: ['float64', 8],
  11: ['uint8', 1],
  12: ['uint16', 2],
  13: ['uint32', 4],
  14: ['uint64', 8],
  // 15 kBits (TObject::fBits) is left out: 2 more bytes follow when the object is referenced.
  16: ['int64', 8],
  17: ['uint64', 8],
  18: ['bool', 1],
};
const K_OFFSET_L = 20;
const K_OFFSET_P = 40;
const K_STL = 300;
const K_TSTRING = 65;
const K_DOUBLE32 = 9;
const K_FLOAT16 = 19;

// C++ element types of std::vector<T> we decode: [dtype, bytes]
const CXX_TYPES: Record<string, [DType, number]> = {
  bool: ['bool', 1],
  Bool_t: ['bool', 1],
  char: ['int8', 1],
  'signed char': ['int8', 1],
  Char_t: ['int8', 1],
  int8_t: ['int8', 1],
  'unsigned char': ['uint8', 1],
  UChar_t: ['uint8', 1],
  uint8_t: ['uint8', 1],
  short: ['int16', 2],
  'short int': ['int16', 2],
  Short_t: ['int16', 2],
  int16_t: ['int16', 2],
  'unsigned short': ['uint16', 2],
  'unsigned short int': ['uint16', 2],
  UShort_t: ['uint16', 2],
  uint16_t: ['uint16', 2],
  int: ['int32', 4],
  Int_t: ['int32', 4],
  int32_t: ['int32', 4],
  unsigned: ['uint32', 4],
  'unsigned int': ['uint32', 4],
  UInt_t: ['uint32', 4],
  uint32_t: ['uint32', 4],
  long: ['int64', 8],
  'long int': ['int64', 8],
  Long_t: ['int64', 8],
  'long long': ['int64', 8],
  'long long int': ['int64', 8],
  Long64_t: ['int64', 8],
  int64_t: ['int64', 8],
  'unsigned long': ['uint64', 8],
  'unsigned long int': ['uint64', 8],
  ULong_t: ['uint64', 8],
  'unsigned long long': ['uint64', 8],
  'unsigned long long int': ['uint64', 8],
  ULong64_t: ['uint64', 8],
  uint64_t: ['uint64', 8],
  float: ['float32', 4],
  Float_t: ['float32', 4],
  double: ['float64', 8],
  Double_t: ['float64', 8],
};

/** `std::vector<std::vector<double> >` → `vector<vector<double>>`. */
export function normalizeTypeName(t: string): string {
  return t
    .replace(/std::/g, '')
    .replace(/ROOT::(?:VecOps::)?RVec</g, 'vector<') // RVec is stored as std::vector
    .replace(/\s+/g, ' ')
    .replace(/\s*([<>,])\s*/g, '$1')
    .trim();
}

/** What a C++ container type name means to the reader: a vector of numbers, a vector of vectors, or nothing we read. */
export function containerLayout(typeName: string): { layout: Layout; dtype: DType; depth: 1 | 2 } | undefined {
  const t = normalizeTypeName(typeName);
  // Sequence and set containers of numbers are streamed like std::vector (byte count, version, size, values).
  const seq = '(?:vector|list|deque|set|multiset|unordered_set|unordered_multiset)';
  const m2 = new RegExp(`^${seq}<${seq}<([^<>]+)>>$`).exec(t);
  if (m2) {
    const e = CXX_TYPES[m2[1]];
    return e && { layout: { kind: 'vector2', itemSize: e[1] }, dtype: e[0], depth: 2 };
  }
  const m1 = new RegExp(`^${seq}<([^<>]+)>$`).exec(t);
  if (m1) {
    const e = CXX_TYPES[m1[1]];
    return e && { layout: { kind: 'vector', itemSize: e[1] }, dtype: e[0], depth: 1 };
  }
  return undefined;
}

/** Per-entry header bytes of a whole-object (top-level, unsplit) string branch: none for std::string and TString. */
function stringHeader(className: string): 0 | 6 | undefined {
  const t = normalizeTypeName(className);
  if (t === 'string') return 0;
  if (t === 'TString') return 0;
  return undefined;
}

/** Finds the streamer element a TBranchElement member refers to (null when the file lacks it). */
export type StreamerLookup = (
  className: string,
  classVersion: number,
  checksum: number | undefined,
  id: number,
) => JsStreamerElement | null;

interface Candidate {
  readonly name: string;
  readonly branch: JsBranch;
  readonly ancestors: readonly JsBranch[];
  /** For leaf-list fields: the leaf and its position. */
  readonly field?: { readonly leaf: JsLeaf; readonly index: number };
}

/**
 * Metadata of every readable column of `tree` — top-level branches first (as TTree::GetBranch searches
 * them), then the sub-branches of split objects depth-first, leaf-list fields in place of their branch.
 * A name seen twice is marked `duplicate` on both; readers keep the first.
 */
export function describeBranches(tree: JsTree, lookup: StreamerLookup = () => null): BranchMeta[] {
  const top = tree.fBranches.arr.filter((b): b is JsBranch => !!b);
  const candidates: Candidate[] = [];
  const addBranch = (b: JsBranch, ancestors: readonly JsBranch[]) => {
    const leaves = leavesOf(b);
    if (b._typename === 'TBranch' && leaves.length > 1 && leaves.every((l) => LEAF_TYPES[l._typename])) {
      leaves.forEach((leaf, index) =>
        candidates.push({ name: `${b.fName}_${leaf.fName}`, branch: b, ancestors, field: { leaf, index } }),
      );
    } else {
      candidates.push({ name: b.fName, branch: b, ancestors });
    }
  };
  for (const b of top) addBranch(b, []);
  const walk = (b: JsBranch, ancestors: readonly JsBranch[]) => {
    for (const s of b.fBranches?.arr ?? []) {
      if (!s) continue;
      addBranch(s, [...ancestors, b]);
      walk(s, [...ancestors, b]);
    }
  };
  for (const b of top) walk(b, []);

  // Count leaves are referenced by leaf name; map them to the column that holds them (first wins).
  const columnOfLeaf = new Map<string, Candidate>();
  for (const c of candidates) {
    const leaf = c.field ? c.field.leaf : leavesOf(c.branch)[0];
    if (leaf && !columnOfLeaf.has(leaf.fName)) columnOfLeaf.set(leaf.fName, c);
  }
  const counts = new Map<string, number>();
  for (const c of candidates) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
  return candidates.map((c) => {
    const m = describeCandidate(c, columnOfLeaf, lookup);
    if ((counts.get(c.name) ?? 0) < 2) return m;
    return { ...m, duplicate: true, ...(m.info ? { info: { ...m.info, duplicate: true } } : {}) };
  });
}

function leavesOf(b: JsBranch): JsLeaf[] {
  return (b.fLeaves?.arr ?? []).filter((l): l is JsLeaf => !!l);
}

/** The TLeaf fields jsroot fills only when the file carries (or jsroot knows) the leaf class's streamer. */
function leafComplete(l: JsLeaf): boolean {
  return (
    typeof l.fLen === 'number' &&
    typeof l.fLenType === 'number' &&
    typeof l.fIsUnsigned === 'boolean' &&
    'fLeafCount' in l
  );
}

function describeCandidate(c: Candidate, columnOfLeaf: Map<string, Candidate>, lookup: StreamerLookup): BranchMeta {
  const b = c.branch;
  const leaves = leavesOf(b);
  const cls = b.fClassName ? ` class ${b.fClassName}` : '';
  const typeLabel = `${b._typename}/${leaves.map((l) => l._typename).join('+') || 'no leaves'} '${b.fTitle}'${cls}`;
  const base = {
    name: c.name,
    branchName: b.fName,
    typeLabel,
    entries: b.fEntries,
    hasEntryOffsets: b.fEntryOffsetLen > 0,
    ...locateBaskets(b),
  };
  const unsupported = (reason: string, kind: UnsupportedKind = 'type'): BranchMeta => ({
    ...base,
    unsupported: reason,
    unsupportedKind: kind,
  });
  const ok = (layout: Layout, kind: BranchInfo['kind'], dtype: DType, countBranch?: string): BranchMeta => ({
    ...base,
    layout,
    info: { name: c.name, kind, dtype, ...(countBranch !== undefined ? { countBranch } : {}) },
  });
  if (
    ![b.fEntries, b.fWriteBasket, b.fEntryOffsetLen].every(Number.isInteger) ||
    !b.fBasketEntry ||
    !b.fBasketBytes ||
    !b.fBasketSeek
  ) {
    return unsupported(
      `the file lacks the streamer information of ${b._typename}, so its fields cannot be trusted`,
      'streamer',
    );
  }
  for (const l of leaves)
    if (!leafComplete(l))
      return unsupported(
        `the file lacks the streamer information of leaf class ${l._typename}, so lengths and counters cannot be known`,
        'streamer',
      );
  const counter = (leaf: JsLeaf): { name?: string; why?: string } => {
    const cl = leaf.fLeafCount;
    if (!cl) return {};
    const owner = columnOfLeaf.get(cl.fName);
    if (!owner) return { why: `its count leaf '${cl.fName}' is not in the tree` };
    return { name: owner.name };
  };

  if (b._typename === 'TBranch') {
    if (c.field) return describeField(c, c.field, leaves, ok, unsupported);
    if (b.fBranches?.arr.some((x) => x)) return unsupported('TBranch with sub-branches is not supported');
    const leaf = leaves[0];
    if (!leaf) return unsupported('branch has no leaf');
    if (leaves.length > 1) {
      const names = leaves.map((l) => l._typename).filter((t) => !LEAF_TYPES[t]);
      return unsupported(`leaf lists with ${[...new Set(names)].join(', ')} leaves are not supported`);
    }
    if (leaf._typename === 'TLeafC' && !leaf.fLeafCount) return ok({ kind: 'string', header: 0 }, 'string', 'uint8');
    if (leaf._typename === 'TLeafD32' || leaf._typename === 'TLeafF16')
      return describeTruncatedLeaf(b, leaf, counter(leaf), ok, unsupported);
    const t = LEAF_TYPES[leaf._typename];
    if (!t) return unsupported(leafTypeReason(leaf));
    const dtype = leaf.fIsUnsigned ? t[1] : t[0];
    const itemSize = t[2];
    if (leaf.fLenType !== itemSize)
      return unsupported(`leaf ${leaf._typename} declares ${leaf.fLenType} bytes per value, expected ${itemSize}`);
    const fixedLen = Math.max(1, leaf.fLen);
    const cnt = counter(leaf);
    if (cnt.why) return unsupported(cnt.why);
    if (cnt.name !== undefined) {
      if (fixedLen > 1) return unsupported(`variable-length arrays of fixed arrays ('${b.fTitle}') are not supported`);
      return ok({ kind: 'counted', itemSize, header: 0 }, 'jagged', dtype, cnt.name);
    }
    if (fixedLen > 1) return ok({ kind: 'fixed', itemSize, perEntry: fixedLen }, 'jagged', dtype);
    return ok({ kind: 'fixed', itemSize, perEntry: 1 }, 'flat', dtype);
  }

  if (b._typename !== 'TBranchElement') return unsupported(`${b._typename} branches are not supported`);
  const coll = c.ancestors.find((a) => a.fType !== undefined && [3, 4, 31, 41].includes(a.fType));
  if (coll)
    return unsupported(
      `members of split collections (${coll.fClassName || 'TClonesArray'} '${coll.fName}') are not supported`,
    );
  if ([3, 4, 31, 41].includes(b.fType ?? 0))
    return unsupported(
      `split collections of objects (${b.fClassName}${b.fClonesName ? `<${b.fClonesName}>` : ''}) are not supported`,
    );
  if (b.fBranches?.arr.some((x) => x))
    return unsupported(
      `objects of class ${b.fClassName} are read through their members (sub-branches), not as a whole`,
      'members',
    );
  if (typeof b.fID !== 'number' || typeof b.fStreamerType !== 'number' || typeof b.fClassName !== 'string') {
    return unsupported('the file lacks the streamer information of TBranchElement', 'streamer');
  }
  if (b.fID < 0) {
    // The whole object of class fClassName, not split.
    const cont = containerLayout(b.fClassName);
    if (cont) return ok(cont.layout, cont.depth === 2 ? 'jagged2' : 'jagged', cont.dtype);
    const str = stringHeader(b.fClassName);
    // Top-level std::string: no header in the files seen; a basket that does not parse so is tried with
    // the 6-byte header of split members (each checked exactly).
    if (str !== undefined)
      return ok(
        {
          kind: 'string',
          header: str,
          ...(str === 0 && normalizeTypeName(b.fClassName) === 'string' ? { eitherHeader: true } : {}),
        },
        'string',
        'uint8',
      );
    return unsupported(
      `objects of type ${b.fClassName} are not supported (only numbers, strings, and std::vector, set or list of numbers or of such containers)`,
    );
  }
  // A member (element fID) of a split object of class fClassName.
  const leaf = leaves[0];
  if (!leaf) return unsupported('branch has no leaf');
  const st = b.fStreamerType;
  if (st === K_STL || st === K_STL + 65) {
    const el = lookup(b.fClassName, b.fClassVersion ?? -1, b.fCheckSum, b.fID);
    if (!el)
      return unsupported(
        `the file lacks the streamer information of class ${b.fClassName}, so member '${b.fName}' cannot be typed`,
        'streamer',
      );
    const cont = containerLayout(el.fTypeName);
    if (cont) return ok(cont.layout, cont.depth === 2 ? 'jagged2' : 'jagged', cont.dtype);
    if (normalizeTypeName(el.fTypeName) === 'string') return ok({ kind: 'string', header: 6 }, 'string', 'uint8');
    return unsupported(
      `members of type ${el.fTypeName} are not supported (only numbers, strings, and std::vector, set or list of numbers or of such containers)`,
    );
  }
  if (st === K_TSTRING) return ok({ kind: 'string', header: 0 }, 'string', 'uint8');
  const base1 =
    st > K_OFFSET_P && st < K_OFFSET_P + 20
      ? st - K_OFFSET_P
      : st > K_OFFSET_L && st < K_OFFSET_L + 20
        ? st - K_OFFSET_L
        : st;
  let packed: Packed | undefined;
  let t = STREAMER_TYPES[base1];
  if (base1 === K_DOUBLE32 || base1 === K_FLOAT16) {
    const el = lookup(b.fClassName, b.fClassVersion ?? -1, b.fCheckSum, b.fID);
    const what = base1 === K_DOUBLE32 ? 'Double32_t' : 'Float16_t';
    if (!el)
      return unsupported(
        `the file lacks the streamer information of class ${b.fClassName}, so the storage of ${what} member '${b.fName}' is unknown`,
        'streamer',
      );
    if (typeof el.fFactor !== 'number' || typeof el.fXmin !== 'number')
      return unsupported(`the range of ${what} member '${b.fName}' could not be decoded`);
    if (el.fFactor > 0 && Number.isFinite(el.fFactor)) {
      packed = { mode: 'factor', factor: el.fFactor, min: el.fXmin };
      t = [base1 === K_DOUBLE32 ? 'float64' : 'float32', 4];
    } else if (el.fFactor !== 0) {
      return unsupported(`${what} member '${b.fName}' has an invalid range factor ${el.fFactor}`);
    } else if (base1 === K_DOUBLE32 && el.fXmin === 0) {
      packed = { mode: 'float' };
      t = ['float32', 4];
    } else {
      const nbits = Math.round(el.fXmin) || 12;
      if (nbits < 2 || nbits > 23) return unsupported(`${what} member '${b.fName}' declares ${nbits} mantissa bits`);
      packed = { mode: 'nbits', nbits };
      t = ['float32', 3];
    }
  }
  if (!t)
    return unsupported(`members of streamer type ${st} (${describeStreamerType(st, lookup, b)}) are not supported`);
  const [dtype, itemSize] = t;
  const pk = packed ? { packed } : {};
  if (st < K_OFFSET_L) {
    if (leaf.fLeafCount || leaf.fLen > 1)
      return unsupported(`member '${b.fName}' is a scalar but its leaf has a length`);
    return ok({ kind: 'fixed', itemSize, perEntry: 1, ...pk }, 'flat', dtype);
  }
  if (st < K_OFFSET_P) {
    const el = lookup(b.fClassName, b.fClassVersion ?? -1, b.fCheckSum, b.fID);
    if (!el)
      return unsupported(
        `the file lacks the streamer information of class ${b.fClassName}, so the shape of array member '${b.fName}' is unknown`,
        'streamer',
      );
    if ((el.fArrayDim ?? 1) > 1)
      return unsupported(
        `multi-dimensional array members ('${b.fName}', ${el.fArrayDim} dimensions) are not supported`,
      );
    const len = leaf.fLen;
    if (!(len >= 1) || el.fArrayLength !== len || leaf.fLeafCount)
      return unsupported(`fixed array member '${b.fName}' has an inconsistent length`);
    return ok({ kind: 'fixed', itemSize, perEntry: len, ...pk }, 'jagged', dtype);
  }
  const cnt = counter(leaf);
  if (cnt.why) return unsupported(cnt.why);
  if (cnt.name === undefined) return unsupported(`pointer member '${b.fName}' has no count leaf`);
  if (leaf.fLen > 1) return unsupported(`variable-length arrays of fixed arrays ('${b.fTitle}') are not supported`);
  return ok({ kind: 'counted', itemSize, header: 1, ...pk }, 'jagged', dtype, cnt.name);
}

/**
 * TLeafD32 (`x/d`, Double32_t) and TLeafF16 (`x/f`, Float16_t). ROOT keeps the storage in the leaf
 * title: without a `[min,max(,nbits)]` range a Double32_t is a 4-byte float and a Float16_t a 12-bit
 * mantissa; with one, `min < max` stores u (4 bytes) for min + u / factor, factor = 2^nbits / (max - min),
 * and `min == max` stores an nbits mantissa.
 */
function describeTruncatedLeaf(
  b: JsBranch,
  leaf: JsLeaf,
  cnt: { name?: string; why?: string },
  ok: (layout: Layout, kind: BranchInfo['kind'], dtype: DType, countBranch?: string) => BranchMeta,
  unsupported: (reason: string) => BranchMeta,
): BranchMeta {
  const double32 = leaf._typename === 'TLeafD32';
  const what = double32 ? 'Double32_t' : 'Float16_t';
  const m = /\[([^[\]]*,[^[\]]*)\]\s*$/.exec(leaf.fTitle ?? '');
  let packed: Packed;
  let dtype: DType = 'float32';
  if (!m) packed = double32 ? { mode: 'float' } : { mode: 'nbits', nbits: 12 };
  else {
    const parts = m[1].split(',');
    const min = parseRangeValue(parts[0]);
    const max = parseRangeValue(parts[1]);
    let nbits = parts.length > 2 ? Number.parseInt(parts[2], 10) : 32;
    if (!Number.isInteger(nbits) || nbits < 2 || nbits > 32) nbits = 32;
    if (parts.length > 3 || min === undefined || max === undefined)
      return unsupported(`cannot parse the ${what} range '${m[0]}' of leaf ${leaf.fName}`);
    if (min < max) {
      packed = { mode: 'factor', factor: (nbits < 32 ? 2 ** nbits : 0xffffffff) / (max - min), min };
      if (double32) dtype = 'float64';
    } else if (nbits < 15 && min === max) {
      packed = { mode: 'nbits', nbits };
    } else if (double32 && min === max && min === 0) {
      packed = { mode: 'float' };
    } else {
      return unsupported(`${what} range '${m[0]}' of leaf ${leaf.fName} is empty`);
    }
  }
  const itemSize = packed.mode === 'nbits' ? 3 : 4;
  const fixedLen = Math.max(1, leaf.fLen);
  if (cnt.why) return unsupported(cnt.why);
  if (cnt.name !== undefined) {
    if (fixedLen > 1) return unsupported(`variable-length arrays of fixed arrays ('${b.fTitle}') are not supported`);
    return ok({ kind: 'counted', itemSize, header: 0, packed }, 'jagged', dtype, cnt.name);
  }
  return ok({ kind: 'fixed', itemSize, perEntry: fixedLen, packed }, fixedLen > 1 ? 'jagged' : 'flat', dtype);
}

/** A range bound as ROOT writes it: a number or pi, 2pi, pi/2, pi/4 (with an optional sign). */
function parseRangeValue(text: string): number | undefined {
  const t = text.trim().replace(/\s+/g, '');
  if (!t.includes('pi')) {
    const v = Number(t);
    return t !== '' && Number.isFinite(v) ? v : undefined;
  }
  const sign = t.startsWith('-') ? -1 : 1;
  const u = t.replace(/^[-+]/, '');
  const table: Record<string, number> = {
    pi: Math.PI,
    '2pi': 2 * Math.PI,
    '2*pi': 2 * Math.PI,
    twopi: 2 * Math.PI,
    'pi/2': Math.PI / 2,
    'pi/4': Math.PI / 4,
  };
  return table[u] === undefined ? undefined : sign * table[u];
}

function describeField(
  c: Candidate,
  field: NonNullable<Candidate['field']>,
  leaves: readonly JsLeaf[],
  ok: (layout: Layout, kind: BranchInfo['kind'], dtype: DType, countBranch?: string) => BranchMeta,
  unsupported: (reason: string) => BranchMeta,
): BranchMeta {
  let recordBytes = 0;
  let offset = 0;
  for (let i = 0; i < leaves.length; i++) {
    const l = leaves[i];
    const t = LEAF_TYPES[l._typename];
    if (l.fLeafCount)
      return unsupported(`leaf lists with variable-length leaves ('${c.branch.fTitle}') are not supported`);
    if (l.fLenType !== t[2])
      return unsupported(`leaf ${l.fName} (${l._typename}) declares ${l.fLenType} bytes per value, expected ${t[2]}`);
    if (i === field.index) offset = recordBytes;
    recordBytes += t[2] * Math.max(1, l.fLen);
  }
  const leaf = field.leaf;
  const t = LEAF_TYPES[leaf._typename];
  const perEntry = Math.max(1, leaf.fLen);
  return ok(
    { kind: 'field', itemSize: t[2], perEntry, recordBytes, offset },
    perEntry > 1 ? 'jagged' : 'flat',
    leaf.fIsUnsigned ? t[1] : t[0],
  );
}

function leafTypeReason(leaf: JsLeaf): string {
  switch (leaf._typename) {
    case 'TLeafC':
      return 'arrays of strings (TLeafC with a count) are not supported';
    case 'TLeafElement':
      return 'objects (TLeafElement) are not supported';
    default:
      return `leaf type ${leaf._typename} is not supported; only bool, (u)int8/16/32/64, float and double`;
  }
}

function describeStreamerType(st: number, lookup: StreamerLookup, b: JsBranch): string {
  const el = lookup(b.fClassName ?? '', b.fClassVersion ?? -1, b.fCheckSum, b.fID ?? -1);
  return el ? `${el.fTypeName} in class ${b.fClassName}` : `member of class ${b.fClassName}`;
}

/**
 * Baskets on disk (slots below fWriteBasket with a seek and a size) and baskets kept in the branch
 * object (any other slot of fBaskets holding a TBasket: recovered baskets and the one being filled),
 * in slot order. Slot k < fWriteBasket covers [fBasketEntry[k], fBasketEntry[k+1]); a kept basket in
 * slot fWriteBasket or beyond starts where the previous basket stopped and holds its fNevBuf entries.
 */
function locateBaskets(b: JsBranch): Pick<BranchMeta, 'baskets' | 'embedded'> {
  const baskets: BasketLocation[] = [];
  const embedded: EmbeddedLocation[] = [];
  const nw = Number.isInteger(b.fWriteBasket) && b.fWriteBasket > 0 ? b.fWriteBasket : 0;
  const kept = b.fBaskets?.arr ?? [];
  let next = 0;
  for (let k = 0; k < Math.max(nw, kept.length); k++) {
    const bytes = b.fBasketBytes?.[k] ?? 0;
    const seek = b.fBasketSeek?.[k] ?? 0;
    const k0 = b.fBasketEntry?.[k];
    const k1 = b.fBasketEntry?.[k + 1];
    if (k < nw && bytes > 0 && seek > 0) {
      if (k0 !== undefined && k1 !== undefined && k1 > k0) {
        baskets.push({ index: k, seek, bytes, entryStart: k0, entryStop: k1 });
        next = k1;
      }
      continue;
    }
    const basket = kept[k];
    if (!basket) continue;
    const entryStart = k <= nw && k0 !== undefined ? k0 : next;
    const entryStop =
      k < nw && k1 !== undefined ? k1 : entryStart + (Number.isInteger(basket.fNevBuf) ? basket.fNevBuf : 0);
    if (entryStop > entryStart) {
      embedded.push({ index: k, basket, entryStart, entryStop });
      next = entryStop;
    }
  }
  return { baskets, embedded };
}
