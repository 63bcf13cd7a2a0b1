/**
 * RNTuple reader (binary format 1.x, ROOT 6.34+): `openRNTuple(pathOrUrl)` gives an EventReader over
 * an RNTuple stored in a ROOT file, local or over HTTP, with NanoAOD-flat branch names. `openRoot`
 * (src/io/root) hands RNTuple keys to `openRNTupleAt`, so `.root` files holding an RNTuple open
 * through the usual `openReader`.
 *
 * Modules: xxh3 (checksums), envelope (anchor, envelopes, frames, locators), schema (header, footer),
 * pages (page lists, clusters), columns (page decoding), fields (fields to branches), reader.
 */
import type { OpenOptions } from '../reader.ts';
import type { HttpOptions } from '../source.ts';
import { RootFileError, TreeNotFoundError } from '../root/errors.ts';
import { openJsrootFile, openRootSource } from '../root/jsroot.ts';
import type { AnchorKey } from './envelope.ts';
import { openRNTupleAt, type RNTupleReader } from './reader.ts';

export { RNTupleReader, openRNTupleAt } from './reader.ts';
export * from './errors.ts';
export { xxh3 } from './xxh3.ts';

/** The class name of an RNTuple anchor key. */
export const RNTUPLE_CLASS = 'ROOT::RNTuple';

export function isRNTupleKey(k: { readonly fClassName: string }): boolean {
  return k.fClassName === RNTUPLE_CLASS;
}

export interface RNTupleOpenOptions extends OpenOptions {
  http?: HttpOptions;
}

/**
 * Open the RNTuple `opts.treeName` (default: `Events`, else the file's only RNTuple). Reads the key
 * list, the anchor, header, footer and page lists; throws TreeNotFoundError listing the RNTuples
 * present, RNTupleFormatError/RNTupleChecksumError on damage, RNTupleUnsupportedError for unknown
 * feature flags or format epochs.
 */
export async function openRNTuple(pathOrUrl: string, opts: RNTupleOpenOptions = {}): Promise<RNTupleReader> {
  const src = await openRootSource(pathOrUrl, opts.http, opts.treeName);
  try {
    let keys: readonly AnchorKey[];
    try {
      keys = (await openJsrootFile(src)).fKeys as unknown as readonly AnchorKey[];
    } catch (e) {
      throw new RootFileError(
        `${pathOrUrl} is not a readable ROOT file: ${(e as Error).message}`,
        { file: pathOrUrl },
        'check that it is a complete ROOT file',
        { cause: e },
      );
    }
    const names = [...new Set(keys.filter(isRNTupleKey).map((k) => k.fName))];
    const name = opts.treeName || (names.includes('Events') ? 'Events' : names.length === 1 ? names[0] : undefined);
    const key = name === undefined ? undefined : keys.find((k) => k.fName === name && isRNTupleKey(k));
    if (!key) {
      throw new TreeNotFoundError(
        name === undefined
          ? `${pathOrUrl} holds ${names.length} RNTuples and none is named Events: ${names.join(', ') || '(none)'}`
          : `no RNTuple '${name}' in ${pathOrUrl}; RNTuples present: ${names.join(', ') || '(none)'}`,
        { file: pathOrUrl, tree: name, available: names },
        names.length
          ? `choose one with --treename, e.g. --treename ${names[0]}`
          : '`ristretto ls FILE` lists what the file holds',
      );
    }
    return await openRNTupleAt(src, key);
  } catch (e) {
    await src.close();
    throw e;
  }
}
