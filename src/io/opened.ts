/**
 * What a reader parsed when it opened a file (a Parquet footer), kept in a structured-clone form so that
 * another thread opening the same file version can skip reading and parsing it again: the main thread
 * plans the chunks from the files it opened, and a pool worker's first chunk of a file would otherwise
 * redo that work (a 20 M-event Parquet footer: ~300 kB, 16–20 ms of cold parsing per worker).
 *
 * Keyed by file identity (path + size + mtime, see src/dataset/identity.ts) and tree, so a state is only
 * used for the file version it was read from. Bounded: the oldest states go first past MAX_BYTES.
 */

/** A reader's parsed open state. `format` names the reader that made it; `size` is the file's size. */
export interface OpenedState {
  readonly format: string;
  readonly size: number;
  /** Bytes the state holds (for the bound). */
  readonly bytes: number;
  readonly data: unknown;
}

/** States kept at most, in bytes: a plan of thousands of files keeps the last ones' only. */
const MAX_BYTES = 64 * 1024 * 1024;

const states = new Map<string, OpenedState>();
let held = 0;

const keyOf = (fileId: string, tree: string): string => `${fileId}\u0000${tree}`;

/** Keep `state`, read from the file `fileId` (tree `tree`), for later opens of the same version. */
export function rememberOpened(fileId: string, tree: string, state: OpenedState): void {
  if (!fileId || state.bytes > MAX_BYTES) return;
  const key = keyOf(fileId, tree);
  const old = states.get(key);
  if (old) {
    held -= old.bytes;
    states.delete(key);
  }
  states.set(key, state);
  held += state.bytes;
  for (const [k, s] of states) {
    if (held <= MAX_BYTES) break;
    states.delete(k);
    held -= s.bytes;
  }
}

/** The state kept for (fileId, tree), if any. */
export function openedState(fileId: string, tree: string): OpenedState | undefined {
  return fileId ? states.get(keyOf(fileId, tree)) : undefined;
}

/** Key of (fileId, tree) in a message carrying states (see `rememberOpened`). */
export function openedKey(fileId: string, tree: string): string {
  return keyOf(fileId, tree);
}

/** Keep states received under `openedKey` keys (a worker, from the pool's messages). */
export function rememberAll(received: Readonly<Record<string, OpenedState>>): void {
  for (const [k, s] of Object.entries(received)) {
    const cut = k.lastIndexOf('\u0000');
    rememberOpened(k.slice(0, cut), k.slice(cut + 1), s);
  }
}
