/**
 * A Parquet footer decoded in one thread reused by another (src/io/opened.ts): the reader's
 * `openedState()`, structured-cloned as a worker message clones it, opens the same file without reading
 * the footer again and reads the same columns; a state of another size (another file, or the file
 * changed since) is ignored. The registry keeps states per file version and tree, within its bound.
 */
import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/io/reader.ts';
import { openedKey, openedState, rememberAll, rememberOpened, type OpenedState } from '../../src/io/opened.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { sharedPath } from '../shared.ts';

const A = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const B = sharedPath('data', 'nano_dimuon.parquet');

async function readAll(path: string, opened?: OpenedState): Promise<{ cols: Record<string, Column>; atOpen: number }> {
  const r = await openParquet(path, opened ? { opened } : {});
  try {
    const atOpen = r.bytesRead ?? -1;
    const names = r.branches().map((b) => b.name);
    return { cols: await r.read(names, 0, r.numEntries), atOpen };
  } finally {
    await r.close();
  }
}

async function stateOf(path: string): Promise<OpenedState> {
  const r = await openParquet(path);
  try {
    const s = r.openedState?.();
    if (!s) throw new Error('a Parquet reader gives its opened state');
    return structuredClone(s);
  } finally {
    await r.close();
  }
}

describe('Parquet footers shipped to another opener', () => {
  it('the shipped footer opens the file without reading it again; columns as a plain open', async () => {
    const plain = await readAll(A);
    const shipped = await readAll(A, await stateOf(A));
    expect(plain.atOpen).toBeGreaterThan(0); // the footer was read from the file
    expect(shipped.atOpen).toBe(0);
    expect(Object.keys(shipped.cols).length).toBeGreaterThan(10);
    expect(shipped.cols).toEqual(plain.cols);
  });

  it("another size's state is ignored: the file's own footer is read", async () => {
    const plain = await readAll(B);
    const withA = await readAll(B, await stateOf(A));
    expect(withA.atOpen).toBeGreaterThan(0);
    expect(withA.cols).toEqual(plain.cols);
  });

  it('the registry keeps states by file version and tree, as a message carries them', () => {
    const s: OpenedState = { format: 'test', size: 1, bytes: 10, data: { n: 1 } };
    rememberAll({ [openedKey('f00d', 'Events')]: s });
    expect(openedState('f00d', 'Events')).toEqual(s);
    expect(openedState('f00d', 'Other')).toBeUndefined();
    expect(openedState('beef', 'Events')).toBeUndefined();
    // Past the bound (64 MiB) the oldest go first.
    const big = (n: number): OpenedState => ({ format: 'test', size: n, bytes: 40 * 1024 * 1024, data: n });
    rememberOpened('a1', 'T', big(1));
    rememberOpened('a2', 'T', big(2));
    expect(openedState('a1', 'T')).toBeUndefined();
    expect(openedState('f00d', 'Events')).toBeUndefined();
    expect(openedState('a2', 'T')?.size).toBe(2);
  });
});
