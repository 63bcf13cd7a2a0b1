/**
 * The class layouts the writer streams (ROOT 6 versions), in one table that serves twice: to write
 * objects member by member (as ROOT's WriteClassBuffer does), and to write the TStreamerInfo record
 * readers use to decode them. Checksums follow TStreamerInfo::GetCheckSum (latest flavour): the same
 * numbers ROOT stores, so ROOT does not warn about a layout mismatch.
 */
import { brokenInvariant, internalError } from '../../errors/index.ts';
import type { WBuffer } from './buffer.ts';

/** ROOT basic type codes (TVirtualStreamerInfo::EReadWrite). */
const BASIC = {
  char: [1, 1, 'char'],
  short: [2, 2, 'short'],
  int: [3, 4, 'int'],
  counter: [6, 4, 'int'],
  float: [5, 4, 'float'],
  double: [8, 8, 'double'],
  uchar: [11, 1, 'unsigned char'],
  ushort: [12, 2, 'unsigned short'],
  uint: [13, 4, 'unsigned int'],
  bits: [15, 4, 'unsigned int'],
  long64: [16, 8, 'Long64_t'],
  ulong64: [17, 8, 'ULong64_t'],
  bool: [18, 1, 'bool'],
} as const;
type Basic = keyof typeof BASIC;

/** One member of a class layout. */
export type Elem =
  | { k: 'base'; name: string }
  | { k: 'basic'; name: string; t: Basic; typeName?: string }
  | { k: 'string'; name: string }
  /** An object member streamed in place (kObject 61 for TObject-derived classes, kAny 62 otherwise). */
  | { k: 'object' | 'any'; name: string; cls: string }
  /** A pointer that is never null, streamed in place (`//->`, kObjectp 63). */
  | { k: 'inline-ptr'; name: string; cls: string }
  /** A pointer streamed with its class tag (kObjectP 64); may be null. */
  | { k: 'ptr'; name: string; cls: string }
  /** A basic array of `count` elements (TStreamerBasicPointer, kOffsetP + type). */
  | { k: 'array'; name: string; t: Basic; count: string; countClass: string };

export interface ClassDef {
  readonly version: number;
  readonly elems: readonly Elem[];
  /** Streamed by hand (TObject, collections, TArrays) rather than member by member. */
  readonly custom?: (b: WBuffer, obj: Record<string, unknown>) => void;
  /** Persistent members ROOT counts in the checksum although its streamer info lists none ([name, type]). */
  readonly checksumOnly?: readonly (readonly [string, string])[];
}

const base = (name: string): Elem => ({ k: 'base', name });
const basic = (name: string, t: Basic, typeName?: string): Elem => ({
  k: 'basic',
  name,
  t,
  ...(typeName ? { typeName } : {}),
});
const str = (name: string): Elem => ({ k: 'string', name });
const obj = (name: string, cls: string): Elem => ({ k: 'object', name, cls });
const any = (name: string, cls: string): Elem => ({ k: 'any', name, cls });
const iptr = (name: string, cls: string): Elem => ({ k: 'inline-ptr', name, cls });
const ptr = (name: string, cls: string): Elem => ({ k: 'ptr', name, cls });
const arr = (name: string, t: Basic, count: string, countClass: string): Elem => ({
  k: 'array',
  name,
  t,
  count,
  countClass,
});

/** TObject's bits as ROOT files carry them (kNotDeleted | kIsOnHeap, as in the files ROOT writes). */
const OBJECT_BITS = 0x03000000;

function writeTObject(b: WBuffer, o: Record<string, unknown>): void {
  b.u16(1)
    .u32(Number(o['fUniqueID'] ?? 0))
    .u32((Number(o['fBits'] ?? 0) | OBJECT_BITS) >>> 0);
}

function itemsOf(o: Record<string, unknown>): unknown[] {
  const a = (o['arr'] ?? []) as unknown[];
  return a;
}

function classOf(x: unknown): string {
  const t = (x as { _typename?: unknown })._typename;
  if (typeof t !== 'string') throw internalError('the ROOT writer was given an object without a _typename');
  return t;
}

function writeList(b: WBuffer, o: Record<string, unknown>): void {
  const mark = b.startVersion(5);
  writeTObject(b, o);
  b.tstring(String(o['name'] ?? ''));
  const items = itemsOf(o);
  const opts = (o['opt'] ?? []) as string[];
  b.i32(items.length);
  items.forEach((x, i) => {
    b.objectAny(x as object | null, x ? classOf(x) : '', (bb) =>
      streamObject(bb, classOf(x), x as Record<string, unknown>),
    );
    b.tstring(opts[i] ?? '');
  });
  b.endVersion(mark);
}

function writeObjArray(b: WBuffer, o: Record<string, unknown>): void {
  const mark = b.startVersion(3);
  writeTObject(b, o);
  b.tstring(String(o['name'] ?? ''));
  const items = itemsOf(o);
  b.i32(items.length).i32(0);
  for (const x of items)
    b.objectAny(x as object | null, x ? classOf(x) : '', (bb) =>
      streamObject(bb, classOf(x), x as Record<string, unknown>),
    );
  b.endVersion(mark);
}

/** TArrayD / TArrayI: the length and the values, no version (TArray*::Streamer). */
function writeTArray(kind: 'D' | 'I') {
  return (b: WBuffer, o: Record<string, unknown>): void => {
    const a = (o['fArray'] ?? []) as ArrayLike<number>;
    b.i32(a.length);
    if (kind === 'D') for (let i = 0; i < a.length; i++) b.f64(a[i]);
    else for (let i = 0; i < a.length; i++) b.i32(a[i]);
  };
}

const ATT_LINE = [basic('fLineColor', 'short'), basic('fLineStyle', 'short'), basic('fLineWidth', 'short')];

/** The layouts, by class name. */
export const CLASSES: Record<string, ClassDef> = {
  TObject: { version: 1, elems: [basic('fUniqueID', 'uint'), basic('fBits', 'bits')], custom: writeTObject },
  TNamed: { version: 1, elems: [base('TObject'), str('fName'), str('fTitle')] },
  TObjString: { version: 1, elems: [base('TObject'), str('fString')] },
  TCollection: { version: 3, elems: [base('TObject'), str('fName'), basic('fSize', 'int')] },
  TSeqCollection: { version: 0, elems: [base('TCollection')], checksumOnly: [['fSorted', 'bool']] },
  TList: { version: 5, elems: [base('TSeqCollection')], custom: writeList },
  THashList: { version: 0, elems: [base('TList')], custom: writeList, checksumOnly: [['fTable', 'THashTable*']] },
  TObjArray: {
    version: 3,
    elems: [base('TSeqCollection'), basic('fLowerBound', 'int'), basic('fLast', 'int')],
    custom: writeObjArray,
  },
  TArray: { version: 1, elems: [basic('fN', 'int')] },
  TArrayD: { version: 1, elems: [base('TArray'), arr('fArray', 'double', 'fN', 'TArray')], custom: writeTArray('D') },
  TArrayI: { version: 1, elems: [base('TArray'), arr('fArray', 'int', 'fN', 'TArray')], custom: writeTArray('I') },
  TAttLine: { version: 2, elems: ATT_LINE },
  TAttFill: { version: 2, elems: [basic('fFillColor', 'short'), basic('fFillStyle', 'short')] },
  TAttMarker: {
    version: 2,
    elems: [basic('fMarkerColor', 'short'), basic('fMarkerStyle', 'short'), basic('fMarkerSize', 'float')],
  },
  TAttAxis: {
    version: 4,
    elems: [
      basic('fNdivisions', 'int'),
      basic('fAxisColor', 'short'),
      basic('fLabelColor', 'short'),
      basic('fLabelFont', 'short'),
      basic('fLabelOffset', 'float'),
      basic('fLabelSize', 'float'),
      basic('fTickLength', 'float'),
      basic('fTitleOffset', 'float'),
      basic('fTitleSize', 'float'),
      basic('fTitleColor', 'short'),
      basic('fTitleFont', 'short'),
    ],
  },
  TAxis: {
    version: 10,
    elems: [
      base('TNamed'),
      base('TAttAxis'),
      basic('fNbins', 'int'),
      basic('fXmin', 'double'),
      basic('fXmax', 'double'),
      any('fXbins', 'TArrayD'),
      basic('fFirst', 'int'),
      basic('fLast', 'int'),
      basic('fBits2', 'ushort'),
      basic('fTimeDisplay', 'bool'),
      str('fTimeFormat'),
      ptr('fLabels', 'THashList'),
      ptr('fModLabs', 'TList'),
    ],
  },
  TH1: {
    version: 8,
    elems: [
      base('TNamed'),
      base('TAttLine'),
      base('TAttFill'),
      base('TAttMarker'),
      basic('fNcells', 'int'),
      obj('fXaxis', 'TAxis'),
      obj('fYaxis', 'TAxis'),
      obj('fZaxis', 'TAxis'),
      basic('fBarOffset', 'short'),
      basic('fBarWidth', 'short'),
      basic('fEntries', 'double'),
      basic('fTsumw', 'double'),
      basic('fTsumw2', 'double'),
      basic('fTsumwx', 'double'),
      basic('fTsumwx2', 'double'),
      basic('fMaximum', 'double'),
      basic('fMinimum', 'double'),
      basic('fNormFactor', 'double'),
      any('fContour', 'TArrayD'),
      any('fSumw2', 'TArrayD'),
      str('fOption'),
      iptr('fFunctions', 'TList'),
      basic('fBufferSize', 'int'),
      arr('fBuffer', 'double', 'fBufferSize', 'TH1'),
      basic('fBinStatErrOpt', 'int', 'TH1::EBinErrorOpt'),
      basic('fStatOverflows', 'int', 'TH1::EStatOverflows'),
    ],
  },
  TH1D: { version: 3, elems: [base('TH1'), base('TArrayD')] },
  TH2: {
    version: 5,
    elems: [
      base('TH1'),
      basic('fScalefactor', 'double'),
      basic('fTsumwy', 'double'),
      basic('fTsumwy2', 'double'),
      basic('fTsumwxy', 'double'),
    ],
  },
  TH2D: { version: 4, elems: [base('TH2'), base('TArrayD')] },
  TAtt3D: { version: 1, elems: [] },
  TH3: {
    version: 6,
    elems: [
      base('TH1'),
      base('TAtt3D'),
      ...['fTsumwy', 'fTsumwy2', 'fTsumwxy', 'fTsumwz', 'fTsumwz2', 'fTsumwxz', 'fTsumwyz'].map((n) =>
        basic(n, 'double'),
      ),
    ],
  },
  TH3D: { version: 4, elems: [base('TH3'), base('TArrayD')] },
  'ROOT::TIOFeatures': { version: 1, elems: [basic('fIOBits', 'uchar')] },
  TTree: {
    version: 20,
    elems: [
      base('TNamed'),
      base('TAttLine'),
      base('TAttFill'),
      base('TAttMarker'),
      ...['fEntries', 'fTotBytes', 'fZipBytes', 'fSavedBytes', 'fFlushedBytes'].map((n) => basic(n, 'long64')),
      basic('fWeight', 'double'),
      ...['fTimerInterval', 'fScanField', 'fUpdate', 'fDefaultEntryOffsetLen'].map((n) => basic(n, 'int')),
      basic('fNClusterRange', 'counter'),
      ...['fMaxEntries', 'fMaxEntryLoop', 'fMaxVirtualSize', 'fAutoSave', 'fAutoFlush', 'fEstimate'].map((n) =>
        basic(n, 'long64'),
      ),
      arr('fClusterRangeEnd', 'long64', 'fNClusterRange', 'TTree'),
      arr('fClusterSize', 'long64', 'fNClusterRange', 'TTree'),
      any('fIOFeatures', 'ROOT::TIOFeatures'),
      obj('fBranches', 'TObjArray'),
      obj('fLeaves', 'TObjArray'),
      ptr('fAliases', 'TList'),
      any('fIndexValues', 'TArrayD'),
      any('fIndex', 'TArrayI'),
      ptr('fTreeIndex', 'TVirtualIndex'),
      ptr('fFriends', 'TList'),
      ptr('fUserInfo', 'TList'),
      ptr('fBranchRef', 'TBranchRef'),
    ],
  },
  TBranch: {
    version: 13,
    elems: [
      base('TNamed'),
      base('TAttFill'),
      ...['fCompress', 'fBasketSize', 'fEntryOffsetLen', 'fWriteBasket'].map((n) => basic(n, 'int')),
      basic('fEntryNumber', 'long64'),
      any('fIOFeatures', 'ROOT::TIOFeatures'),
      basic('fOffset', 'int'),
      basic('fMaxBaskets', 'counter'),
      basic('fSplitLevel', 'int'),
      ...['fEntries', 'fFirstEntry', 'fTotBytes', 'fZipBytes'].map((n) => basic(n, 'long64')),
      obj('fBranches', 'TObjArray'),
      obj('fLeaves', 'TObjArray'),
      obj('fBaskets', 'TObjArray'),
      arr('fBasketBytes', 'int', 'fMaxBaskets', 'TBranch'),
      arr('fBasketEntry', 'long64', 'fMaxBaskets', 'TBranch'),
      arr('fBasketSeek', 'long64', 'fMaxBaskets', 'TBranch'),
      str('fFileName'),
    ],
  },
  TLeaf: {
    version: 2,
    elems: [
      base('TNamed'),
      basic('fLen', 'int'),
      basic('fLenType', 'int'),
      basic('fOffset', 'int'),
      basic('fIsRange', 'bool'),
      basic('fIsUnsigned', 'bool'),
      ptr('fLeafCount', 'TLeaf'),
    ],
  },
  TLeafO: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'bool'), basic('fMaximum', 'bool')] },
  TLeafB: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'char'), basic('fMaximum', 'char')] },
  TLeafS: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'short'), basic('fMaximum', 'short')] },
  TLeafI: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'int'), basic('fMaximum', 'int')] },
  TLeafL: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'long64'), basic('fMaximum', 'long64')] },
  TLeafF: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'float'), basic('fMaximum', 'float')] },
  TLeafD: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'double'), basic('fMaximum', 'double')] },
  TLeafC: { version: 1, elems: [base('TLeaf'), basic('fMinimum', 'int'), basic('fMaximum', 'int')] },
};

/** Counted-array titles (`[fN] ...`) enter the checksum; ROOT's member comments do too for these. */
function titleOf(e: Elem): string {
  return e.k === 'array' ? `[${e.count}]` : '';
}

const checksums = new Map<string, number>();

/** The TStreamerInfo checksum of a class of the table (TStreamerInfo::GetCheckSum, latest flavour). */
export function checksumOf(cls: string): number {
  const cached = checksums.get(cls);
  if (cached !== undefined) return cached;
  const def = CLASSES[cls];
  if (!def) throw internalError(`the ROOT writer has no layout for class ${cls}`, { cls });
  let id = 0;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) id = (id * 3 + s.charCodeAt(i)) >>> 0;
  };
  mix(cls);
  for (const e of def.elems) {
    if (e.k !== 'base') continue;
    mix(e.name);
    id = (id * 3 + checksumOf(e.name)) >>> 0;
  }
  for (const e of def.elems) {
    if (e.k === 'base') continue;
    const d = describe(e);
    // an int member whose type is not a basic type is an enum
    if (d.type === 3 && d.typeName !== 'int') id = (id * 3 + 1) >>> 0;
    mix(e.name);
    mix(d.typeName);
    const t = titleOf(e);
    const left = t.indexOf('[');
    if (left === 0) mix(t.slice(1, t.indexOf(']')));
  }
  for (const [name, type] of def.checksumOnly ?? []) {
    mix(name);
    mix(type);
  }
  checksums.set(cls, id);
  return id;
}

interface ElemInfo {
  readonly streamerClass: string;
  readonly type: number;
  readonly size: number;
  readonly typeName: string;
}

function describe(e: Elem): ElemInfo {
  switch (e.k) {
    case 'base':
      return {
        streamerClass: 'TStreamerBase',
        type: e.name === 'TObject' ? 66 : e.name === 'TNamed' ? 67 : 0,
        size: 0,
        typeName: 'BASE',
      };
    case 'basic': {
      const [type, size, name] = BASIC[e.t];
      return { streamerClass: 'TStreamerBasicType', type, size, typeName: e.typeName ?? name };
    }
    case 'string':
      return { streamerClass: 'TStreamerString', type: 65, size: 24, typeName: 'TString' };
    case 'object':
      return { streamerClass: 'TStreamerObject', type: 61, size: 64, typeName: e.cls };
    case 'any':
      return { streamerClass: 'TStreamerObjectAny', type: 62, size: 24, typeName: e.cls };
    case 'inline-ptr':
      return { streamerClass: 'TStreamerObjectPointer', type: 63, size: 8, typeName: `${e.cls}*` };
    case 'ptr':
      return { streamerClass: 'TStreamerObjectPointer', type: 64, size: 8, typeName: `${e.cls}*` };
    case 'array': {
      const [type, size, name] = BASIC[e.t];
      return { streamerClass: 'TStreamerBasicPointer', type: 40 + type, size, typeName: `${name}*` };
    }
  }
}

function writeBasicValue(b: WBuffer, t: Basic, v: number): void {
  switch (t) {
    case 'char':
      b.i8(v);
      break;
    case 'uchar':
    case 'bool':
      b.u8(v);
      break;
    case 'short':
      b.i16(v);
      break;
    case 'ushort':
      b.u16(v);
      break;
    case 'int':
    case 'counter':
      b.i32(v);
      break;
    case 'uint':
    case 'bits':
      b.u32(v);
      break;
    case 'long64':
    case 'ulong64':
      b.i64(v);
      break;
    case 'float':
      b.f32(v);
      break;
    case 'double':
      b.f64(v);
      break;
  }
}

/**
 * Stream `o` as an object of class `cls` (its version header and members, or its custom streamer).
 * Members are read from `o` by their ROOT names (`fName`, `fXaxis`, ...); missing numbers are 0.
 */
export function streamObject(b: WBuffer, cls: string, o: Record<string, unknown>): void {
  const def = CLASSES[cls];
  if (!def) throw internalError(`the ROOT writer has no layout for class ${cls}`, { cls });
  if (def.custom) {
    def.custom(b, o);
    return;
  }
  const mark = b.startVersion(def.version);
  for (const e of def.elems) {
    switch (e.k) {
      case 'base':
        streamObject(b, e.name, o);
        break;
      case 'basic':
        writeBasicValue(b, e.t, Number(o[e.name] ?? 0));
        break;
      case 'string':
        b.tstring(String(o[e.name] ?? ''));
        break;
      case 'object':
      case 'any':
      case 'inline-ptr':
        streamObject(b, e.cls, memberObject(o[e.name], e.cls));
        break;
      case 'ptr': {
        const x = o[e.name] as Record<string, unknown> | null | undefined;
        const cls = x ? ((x['_typename'] as string | undefined) ?? e.cls) : e.cls;
        b.objectAny(x ?? null, cls, (bb) => {
          if (x) streamObject(bb, cls, x); // called for an object only
        });
        break;
      }
      case 'array': {
        const a = (o[e.name] ?? []) as ArrayLike<number>;
        const n = Number(o[e.count] ?? 0);
        if (n === 0) {
          b.u8(0);
          break;
        }
        if (a.length < n)
          throw internalError(`${cls}::${e.name} holds ${a.length} values, ${e.count} says ${n}`, { cls });
        b.u8(1);
        for (let i = 0; i < n; i++) writeBasicValue(b, e.t, a[i]);
        break;
      }
    }
  }
  b.endVersion(mark);
}

/** A member value as the object its class streamer expects (TArrays may be given as plain arrays). */
function memberObject(v: unknown, cls: string): Record<string, unknown> {
  if (cls.startsWith('TArray') && (Array.isArray(v) || ArrayBuffer.isView(v) || v === undefined || v === null))
    return { fArray: v ?? [] };
  return (v ?? {}) as Record<string, unknown>;
}

/** `classes` plus every class their layouts use (bases and members), in dependency-last order. */
export function withDependencies(classes: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (c: string) => {
    if (seen.has(c) || !CLASSES[c]) return;
    seen.add(c);
    out.push(c);
    for (const e of CLASSES[c].elems) {
      if (e.k === 'base') visit(e.name);
      else if ('cls' in e) visit(e.cls);
    }
  };
  classes.forEach(visit);
  return out;
}

function writeElement(b: WBuffer, owner: string, e: Elem): void {
  const d = describe(e);
  const version =
    {
      TStreamerBase: 3,
      TStreamerBasicType: 2,
      TStreamerString: 2,
      TStreamerObject: 2,
      TStreamerObjectAny: 2,
      TStreamerObjectPointer: 2,
      TStreamerBasicPointer: 2,
    }[d.streamerClass] ?? brokenInvariant(`no streamer version for ${d.streamerClass}`);
  b.objectAny({}, d.streamerClass, (bb) => {
    const outer = bb.startVersion(version);
    const inner = bb.startVersion(4); // TStreamerElement
    streamObject(bb, 'TNamed', { fName: e.name, fTitle: titleOf(e) });
    bb.i32(d.type).i32(d.size).i32(0).i32(0);
    // fMaxIndex[5]; a base element keeps its base class checksum in slot 1, as ROOT does
    bb.i32(0)
      .u32(e.k === 'base' ? checksumOf(e.name) : 0)
      .i32(0)
      .i32(0)
      .i32(0);
    bb.tstring(d.typeName);
    bb.endVersion(inner);
    if (e.k === 'base') bb.i32(CLASSES[e.name].version);
    if (e.k === 'array') bb.i32(CLASSES[owner].version).tstring(e.count).tstring(e.countClass);
    bb.endVersion(outer);
  });
}

/**
 * The object of the StreamerInfo key: a TList of one TStreamerInfo per class (and its dependencies),
 * streamed into `b` (whose tag offset is the key length).
 */
export function writeStreamerInfoList(b: WBuffer, classes: readonly string[]): void {
  const all = withDependencies(classes);
  const mark = b.startVersion(5);
  writeTObject(b, {});
  b.tstring('');
  b.i32(all.length);
  for (const cls of all) {
    b.objectAny({}, 'TStreamerInfo', (bb) => {
      const m = bb.startVersion(9);
      streamObject(bb, 'TNamed', { fName: cls, fTitle: '' });
      bb.u32(checksumOf(cls)).u32(CLASSES[cls].version);
      bb.objectAny({}, 'TObjArray', (ob) => {
        const am = ob.startVersion(3);
        writeTObject(ob, {});
        ob.tstring('');
        const elems = CLASSES[cls].elems;
        ob.i32(elems.length).i32(0);
        for (const e of elems) writeElement(ob, cls, e);
        ob.endVersion(am);
      });
      bb.endVersion(m);
    });
    b.tstring('');
  }
  b.endVersion(mark);
}
