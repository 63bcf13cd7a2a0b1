/**
 * A ROOT tree's branch and basket tables parsed in one thread reused by another (src/io/opened.ts): the
 * reader's `openedState()`, structured-cloned as a worker message clones it, opens the same file without
 * reading its metadata again and reads the same columns as a plain open, on real files of every codec
 * and layout of the corpus; a state of another file or tree is ignored.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpenedState } from '../../../src/io/opened.ts';
import type { Column } from '../../../src/io/reader.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { sharedPath } from '../../shared.ts';

const FILES = [
  ...['zlib', 'lz4', 'zstd', 'lzma', 'uncompressed'].map((c) => sharedPath('data', `uproot-HZZ-${c}.root`)),
  sharedPath('data', 'Run2012B_SingleMu_10000.root'),
  ...readdirSync(sharedPath('data', 'root-corpus')).map((f) => sharedPath('data', 'root-corpus', f)),
];

async function readAll(
  path: string,
  treeName: string,
  opened?: OpenedState,
): Promise<{ cols: Record<string, Column>; atOpen: number }> {
  const r = await openRoot(
    path,
    opened ? { treeName, opened, warnDuplicates: false } : { treeName, warnDuplicates: false },
  );
  try {
    const atOpen = r.bytesRead;
    const names = r.branches().map((b) => b.name);
    return { cols: await r.read(names, 0, r.numEntries), atOpen };
  } finally {
    await r.close();
  }
}

async function stateOf(path: string): Promise<{ tree: string; state: OpenedState | undefined }> {
  const r = await openRoot(path, { warnDuplicates: false });
  try {
    const s = r.openedState();
    return { tree: r.treeName, state: s && structuredClone(s) };
  } finally {
    await r.close();
  }
}

describe('ROOT tree tables shipped to another opener', () => {
  for (const path of FILES) {
    it(path.slice(path.lastIndexOf('/') + 1), async () => {
      const { tree, state } = await stateOf(path);
      expect(state).toBeDefined();
      if (!state) return;
      const plain = await readAll(path, tree);
      const shipped = await readAll(path, tree, state);
      expect(plain.atOpen).toBeGreaterThan(0); // opening read the file's keys and tree
      expect(shipped.atOpen).toBe(0);
      expect(shipped.cols).toEqual(plain.cols);
    });
  }

  it("another file's tables are ignored: the file's own metadata is read", async () => {
    const lz4 = sharedPath('data', 'uproot-HZZ-lz4.root');
    const { state } = await stateOf(sharedPath('data', 'uproot-HZZ-zlib.root'));
    const plain = await readAll(lz4, 'events');
    const withOther = await readAll(lz4, 'events', state);
    expect(withOther.atOpen).toBeGreaterThan(0);
    expect(withOther.cols).toEqual(plain.cols);
  });
});
