/**
 * ROOT TTree reader: `openRoot(pathOrUrl)` gives an EventReader over a tree's numeric branches, local or
 * over HTTP: flat, `x[n]` jagged with a count leaf, `x[3]` fixed arrays as jagged, leaf lists (one
 * column `branch_leaf` per leaf), std::vector<number> (jagged), std::vector<std::vector<number>>
 * (kind `jagged2`, a DoublyJagged column) and the numeric members of split objects. Other types are
 * listed by `describe()` with the reason and refused with UnsupportedBranchError when read.
 */
import { RistrettoError } from '../../errors/index.ts';
import type { OpenOptions } from '../reader.ts';
import type { ByteSource, HttpOptions } from '../source.ts';
import { describeBranches, type StreamerLookup } from './branch-meta.ts';
import { RootFileError, TreeNotFoundError } from './errors.ts';
import { openJsrootFile, openRootSource, type JsFile, type JsTree } from './jsroot.ts';
import { RootReader, SHIPPED_TREE, type JaggedOffsetsSource, type ShippedTree } from './root-reader.ts';
import { loadLzma } from './compression.ts';
import { loadXxh64 } from './xxhash64.ts';
import { closestNames } from '../../errors/suggest.ts';
import { isRNTupleKey, openRNTupleAt, type RNTupleReader } from '../rntuple/index.ts';
import type { AnchorKey } from '../rntuple/envelope.ts';

export { RootReader, type JaggedOffsetsSource } from './root-reader.ts';
export * from './errors.ts';

export interface RootOpenOptions extends OpenOptions {
  /** Concurrency, retries and backoff for http(s) URLs. */
  http?: HttpOptions;
  /**
   * Where jagged branches take their per-entry sizes: `basket` (default) uses the byte-offset table
   * each basket carries, so a basket decodes on its own and no count branch is read; `count-branch`
   * reads the count branch (`nJet`) instead. Baskets without an offset table always use the counts.
   */
  jaggedOffsets?: JaggedOffsetsSource;
  /** Emit a process warning when branch names repeat in the tree (default true). */
  warnDuplicates?: boolean;
}

/** Streamer elements of split-object members, from the file's streamer infos (null when missing). */
function streamerLookup(file: JsFile): StreamerLookup {
  return (className, classVersion, checksum, id) => {
    let si = null;
    try {
      si = file.findStreamerInfo(className, classVersion, checksum) ?? file.findStreamerInfo(className, classVersion);
    } catch {
      si = null;
    }
    return si?.fElements?.arr[id] ?? null;
  };
}

const TREE_CLASSES = new Set(['TTree', 'TNtuple', 'TNtupleD']);

/** Names of the TTrees among a file's top-level keys, each once, in key order. */
export function treeNamesOf(keys: readonly { readonly fName: string; readonly fClassName: string }[]): string[] {
  return [...new Set(keys.filter((k) => TREE_CLASSES.has(k.fClassName)).map((k) => k.fName))];
}

/**
 * The tree to read when none is named: `Events` when present, else the file's only tree. Several trees
 * without `Events` (or none at all) throw TreeNotFoundError listing them and naming the CLI flag.
 */
export function defaultTreeName(
  keys: readonly { readonly fName: string; readonly fClassName: string }[],
  path: string,
): string {
  const trees = treeNamesOf(keys);
  if (keys.some((k) => k.fName === 'Events')) return 'Events'; // a TTree or an RNTuple
  if (trees.length === 1) return trees[0];
  const others = [
    ...new Set(
      keys.filter((k) => !TREE_CLASSES.has(k.fClassName) && k.fClassName.includes('RNTuple')).map((k) => k.fName),
    ),
  ];
  const readable = [...new Set(keys.filter(isRNTupleKey).map((k) => k.fName))];
  if (trees.length === 0 && readable.length === 1) return readable[0]; // the file's only RNTuple
  if (trees.length === 0) {
    throw new TreeNotFoundError(
      `${path} holds no TTree${others.length ? ` (RNTuples: ${others.join(', ')})` : ''}`,
      { file: path, available: trees, rntuples: others },
      '`ristretto ls FILE` lists what the file holds',
    );
  }
  throw new TreeNotFoundError(
    `${path} holds ${trees.length} trees and none is named Events: ${trees.join(', ')}`,
    { file: path, available: trees },
    `choose one with --treename, e.g. --treename ${trees[0]}`,
  );
}

/**
 * Open the TTree `opts.treeName` of a local ROOT file or an http(s) URL; without a name, `Events` or
 * else the file's only tree (`defaultTreeName`).
 * With `rntuple: true` (as `openReader` calls it), a name that is an RNTuple (key class `ROOT::RNTuple`)
 * is opened by the RNTuple reader of src/io/rntuple; without it RNTuples are refused (TreeNotFoundError),
 * so callers typed for RootReader get one.
 * Only metadata is read here (header, keys, streamer infos, the TTree object); baskets are read by
 * `read`. Throws RootFileError (cannot open or parse) or TreeNotFoundError (lists the trees present).
 */
export async function openRoot(pathOrUrl: string, opts?: RootOpenOptions & { rntuple?: false }): Promise<RootReader>;
export async function openRoot(
  pathOrUrl: string,
  opts: RootOpenOptions & { rntuple: boolean },
): Promise<RootReader | RNTupleReader>;
export async function openRoot(
  pathOrUrl: string,
  opts: RootOpenOptions & { rntuple?: boolean } = {},
): Promise<RootReader | RNTupleReader> {
  const src = await openRootSource(pathOrUrl, opts.http, opts.treeName);
  try {
    const shipped = shippedTree(opts, src);
    if (shipped) {
      // Another thread parsed this file version's tree (src/io/opened.ts): no jsroot, no metadata reads.
      await Promise.all([loadXxh64(), src.readSync ? loadLzma() : undefined]);
      const { treeName, numEntries, metas } = shipped;
      return new RootReader(src, undefined, treeName, numEntries, metas, opts.jaggedOffsets ?? 'basket');
    }
    const file = await openStructure(src, pathOrUrl);
    const treeName = opts.treeName || defaultTreeName(file.fKeys, pathOrUrl);
    // An RNTuple (ROOT 6.34+, key class ROOT::RNTuple) is read by src/io/rntuple, not through jsroot.
    const rkey = opts.rntuple ? file.fKeys.find((k) => k.fName === treeName && isRNTupleKey(k)) : undefined;
    if (rkey) return await openRNTupleAt(src, rkey as unknown as AnchorKey);
    const tree = await readTree(file, pathOrUrl, treeName);
    // A local or root:// file reads synchronously too (RootReader.readSync), and XZ baskets then need the LZMA
    // decoder already loaded: a ~2 ms import, once per thread. LZ4 checksums use the wasm XXH64 once loaded.
    await Promise.all([loadXxh64(), src.readSync ? loadLzma() : undefined]);
    const reader = new RootReader(
      src,
      file,
      treeName,
      tree.fEntries,
      describeBranches(tree, streamerLookup(file)),
      opts.jaggedOffsets ?? 'basket',
    );
    const dups = reader.duplicateNames();
    if (dups.length && opts.warnDuplicates !== false) {
      process.emitWarning(
        `tree '${treeName}' of ${pathOrUrl} has ${dups.length} branch name${dups.length === 1 ? '' : 's'} used more than once (${dups.slice(0, 5).join(', ')}${dups.length > 5 ? ', ...' : ''}); reading the first branch of each name, like ROOT's TTree::GetBranch`,
        { code: 'RISTRETTO_DUPLICATE_BRANCH' },
      );
    }
    return reader;
  } catch (e) {
    await src.close();
    throw e;
  }
}

/** `opts.opened` when it is this tree's tables from a file of this size (see RootReader.openedState). */
function shippedTree(opts: RootOpenOptions, src: ByteSource): ShippedTree | undefined {
  const o = opts.opened;
  if (o?.format !== SHIPPED_TREE || o.size !== src.size) return undefined;
  const tree = o.data as ShippedTree;
  return opts.treeName === tree.treeName ? tree : undefined;
}

async function openStructure(src: ByteSource, path: string): Promise<JsFile> {
  try {
    return await openJsrootFile(src);
  } catch (e) {
    // one wording with `ristretto ls` (src/io/ls.ts): what failed, and the check to make
    const why = e instanceof RistrettoError ? e.message.replace(`${path}: `, '') : (e as Error).message;
    throw new RootFileError(
      `${path} is not a readable ROOT file: ${why}`,
      { file: path },
      'check that it is a complete ROOT file',
      { cause: e },
    );
  }
}

async function readTree(file: JsFile, path: string, treeName: string): Promise<JsTree> {
  const trees = treeNamesOf(file.fKeys);
  const key = file.fKeys.find((k) => k.fName === treeName);
  if (!key && !treeName.includes('/')) {
    const near = closestNames(treeName, trees);
    throw new TreeNotFoundError(
      `no tree '${treeName}' in ${path}; trees present: ${trees.length ? trees.join(', ') : '(none)'}`,
      { file: path, tree: treeName, available: trees },
      near.length ? `choose one with --treename, e.g. --treename ${near[0]}` : 'this file holds no TTree',
    );
  }
  if (key && !TREE_CLASSES.has(key.fClassName)) {
    throw new TreeNotFoundError(
      `'${treeName}' in ${path} is a ${key.fClassName}, not a TTree; trees present: ${trees.length ? trees.join(', ') : '(none)'}`,
      { file: path, tree: treeName, available: trees, className: key.fClassName },
      key.fClassName.includes('RNTuple') ? 'RNTuples are not supported by the ROOT TTree reader' : undefined,
    );
  }
  let obj: unknown;
  try {
    obj = await file.readObject(treeName);
  } catch (e) {
    if (e instanceof RistrettoError)
      throw new RootFileError(
        `cannot read tree '${treeName}' from ${path}: ${e.message}`,
        { file: path, tree: treeName },
        undefined,
        { cause: e },
      );
    throw new RootFileError(
      `cannot read tree '${treeName}' from ${path}: ${(e as Error).message}`,
      { file: path, tree: treeName },
      'the file may be damaged',
      { cause: e },
    );
  }
  const tree = obj as JsTree | null;
  if (!tree || !TREE_CLASSES.has(tree._typename) || !Number.isFinite(tree.fEntries) || !tree.fBranches?.arr) {
    throw new RootFileError(
      `'${treeName}' in ${path} did not decode as a TTree`,
      { file: path, tree: treeName },
      'the file may be damaged',
    );
  }
  return tree;
}
