/**
 * Opening any supported file by its extension. Formats register an opener under their extensions; the
 * built-in readers (ROOT, Parquet, Arrow IPC) are registered here, so `openReader` works for all of
 * them without the caller knowing which format it reads.
 */
import { RistrettoError } from '../errors/index.ts';
import { openParquet } from './parquet/index.ts';
import type { EventReader, OpenOptions } from './reader.ts';
import { openRoot } from './root/index.ts';

/** Opens one file (path or URL) as an EventReader. */
export type FormatOpener = (pathOrUrl: string, opts: OpenOptions) => Promise<EventReader>;

/** No reader for the file's extension, or the format's module is unavailable. */
export class UnsupportedFormatError extends RistrettoError {}

const openers = new Map<string, FormatOpener>();

/** Known extensions and whether a reader exists for them (so the error can tell "unknown" from "unavailable"). */
const KNOWN = ['.root', '.parquet', '.arrow', '.feather'];

/** Register (or replace) the opener for an extension such as `.root` (case-insensitive, leading dot optional). */
export function registerFormat(ext: string, opener: FormatOpener): void {
  openers.set(normalizeExt(ext), opener);
}

/** Extensions that currently have an opener. */
export function registeredFormats(): string[] {
  return [...openers.keys()].sort();
}

/** Extension of a path or URL (query string and fragment ignored), lower-case with the dot. */
export function extensionOf(pathOrUrl: string): string {
  const clean = pathOrUrl.replace(/[?#].*$/, '');
  const slash = Math.max(clean.lastIndexOf('/'), clean.lastIndexOf('\\'));
  const base = clean.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** Open a file with the reader registered for its extension. */
export async function openReader(pathOrUrl: string, opts: OpenOptions = {}): Promise<EventReader> {
  const ext = extensionOf(pathOrUrl);
  const opener = openers.get(ext);
  if (!opener) {
    const have = registeredFormats();
    const known = KNOWN.includes(ext);
    throw new UnsupportedFormatError(
      known
        ? `the ${ext} reader is not available in this build (cannot open ${pathOrUrl})`
        : `no reader for ${ext ? `extension ${ext}` : 'a file without extension'}: ${pathOrUrl}`,
      { file: pathOrUrl, extension: ext, available: have },
      `supported extensions: ${have.join(', ') || 'none registered'}`,
    );
  }
  return opener(pathOrUrl, opts);
}

registerFormat('.root', (path, opts) => openRoot(path, { ...opts, rntuple: true })); // TTrees and RNTuples
registerFormat('.parquet', openParquet);
// apache-arrow takes ~0.3–0.7 s to import: load the Arrow reader with the first Arrow file, not with
// every process and sync-read helper thread that opens files.
const openArrow: FormatOpener = async (path, opts) => (await import('./arrow/read.ts')).openArrow(path, opts);
registerFormat('.arrow', openArrow);
registerFormat('.feather', openArrow);

function normalizeExt(ext: string): string {
  const e = ext.toLowerCase();
  return e.startsWith('.') ? e : `.${e}`;
}
