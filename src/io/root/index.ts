/**
 * ROOT TTree reader: `openRoot(pathOrUrl)` gives an EventReader over a tree's numeric branches, local or
 * over HTTP: flat, `x[n]` jagged with a count leaf, `x[3]` fixed arrays as jagged, leaf lists (one
 * column `branch_leaf` per leaf), std::vector<number> (jagged), std::vector<std::vector<number>>
 * (kind `jagged2`, a DoublyJagged column) and the numeric members of split objects. Other types are
 * listed by `describe()` with the reason and refused with UnsupportedBranchError when read.
 */
import { RistrettoError } from '../../errors/index.ts';
import type { OpenOptions } from '../reader.ts';
import { openSource, type ByteSource, type HttpOptions } from '../source.ts';
import { describeBranches, type StreamerLookup } from './branch-meta.ts';
import { RootFileError, TreeNotFoundError } from './errors.ts';
import { openJsrootFile, type JsFile, type JsTree } from './jsroot.ts';
import { RootReader, type JaggedOffsetsSource } from './root-reader.ts';
import { closestNames } from '../../errors/suggest.ts';

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

/**
 * Open the TTree `opts.treeName` (default `Events`) of a local ROOT file or an http(s) URL.
 * Only metadata is read here (header, keys, streamer infos, the TTree object); baskets are read by
 * `read`. Throws RootFileError (cannot open or parse) or TreeNotFoundError (lists the trees present).
 */
export async function openRoot(pathOrUrl: string, opts: RootOpenOptions = {}): Promise<RootReader> {
  const treeName = opts.treeName ?? 'Events';
  let src: ByteSource;
  try {
    src = await openSource(pathOrUrl, opts.http);
  } catch (e) {
    throw new RootFileError(`cannot open ROOT file ${pathOrUrl}: ${(e as Error).message}`, { file: pathOrUrl, tree: treeName }, undefined, { cause: e });
  }
  try {
    const file = await openStructure(src, pathOrUrl);
    const tree = await readTree(file, pathOrUrl, treeName);
    const reader = new RootReader(src, file, treeName, tree.fEntries, describeBranches(tree, streamerLookup(file)), opts.jaggedOffsets ?? 'basket');
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

async function openStructure(src: ByteSource, path: string): Promise<JsFile> {
  try {
    return await openJsrootFile(src);
  } catch (e) {
    if (e instanceof RistrettoError) throw new RootFileError(`cannot read ROOT file ${path}: ${e.message}`, { file: path }, undefined, { cause: e });
    throw new RootFileError(
      `${path} is not a readable ROOT file: ${(e as Error).message}`,
      { file: path },
      'check that it is a complete ROOT file (truncated or damaged files fail here)',
      { cause: e },
    );
  }
}

async function readTree(file: JsFile, path: string, treeName: string): Promise<JsTree> {
  const trees = [...new Set(file.fKeys.filter((k) => TREE_CLASSES.has(k.fClassName)).map((k) => k.fName))];
  const key = file.fKeys.find((k) => k.fName === treeName);
  if (!key && !treeName.includes('/')) {
    const near = closestNames(treeName, trees);
    throw new TreeNotFoundError(
      `no tree '${treeName}' in ${path}; trees present: ${trees.length ? trees.join(', ') : '(none)'}`,
      { file: path, tree: treeName, available: trees },
      near.length ? `pass treeName: '${near[0]}'` : 'this file holds no TTree',
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
    if (e instanceof RistrettoError) throw new RootFileError(`cannot read tree '${treeName}' from ${path}: ${e.message}`, { file: path, tree: treeName }, undefined, { cause: e });
    throw new RootFileError(`cannot read tree '${treeName}' from ${path}: ${(e as Error).message}`, { file: path, tree: treeName }, 'the file may be damaged', { cause: e });
  }
  const tree = obj as JsTree | null;
  if (!tree || !TREE_CLASSES.has(tree._typename) || !Number.isFinite(tree.fEntries) || !tree.fBranches?.arr) {
    throw new RootFileError(`'${treeName}' in ${path} did not decode as a TTree`, { file: path, tree: treeName }, 'the file may be damaged');
  }
  return tree;
}
