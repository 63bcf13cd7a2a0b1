/**
 * A Parquet reader loads its decompressors at its first read, not at open: a thread that opens a ZSTD
 * file only for its entry counts (the main thread of a threads run) never compiles libzstd. Its own
 * file, so that libzstd is not loaded yet by another test of the same module graph.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openParquet } from '../../src/io/parquet/index.ts';
import { sharedPath } from '../shared.ts';

const ZSTD_FILE = sharedPath('data', 'nano_dy.parquet'); // every column chunk ZSTD-compressed

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Parquet decompressors load at the first read', () => {
  it('opening a ZSTD file compiles no wasm; its first read does, and decodes', async () => {
    const compile = vi.spyOn(WebAssembly, 'compile');
    const opener = await openParquet(ZSTD_FILE);
    const state = opener.openedState?.();
    await opener.close();
    if (!state) throw new Error('a Parquet reader gives its opened state');
    // As a pool worker opens it: from the footer the main thread shipped.
    const reader = await openParquet(ZSTD_FILE, { opened: structuredClone(state) });
    expect(compile).not.toHaveBeenCalled();
    try {
      const name = reader.branches().find((b) => b.kind === 'flat')?.name;
      if (!name) throw new Error(`${ZSTD_FILE} has no flat branch`);
      const cols = await reader.read([name], 0, reader.numEntries);
      expect(compile).toHaveBeenCalledTimes(1);
      expect((cols[name] as ArrayLike<number>).length).toBe(reader.numEntries);
    } finally {
      await reader.close();
    }
  });
});
