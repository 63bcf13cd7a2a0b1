import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkRanges } from '../../src/dataset/chunking.ts';
import { DatasetError, loadFileset } from '../../src/dataset/fileset.ts';
import { glob } from '../../src/dataset/glob.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-ds-'));
  await mkdir(join(dir, 'data', 'sub'), { recursive: true });
  for (const f of ['data/a1.root', 'data/a2.root', 'data/b.parquet', 'data/sub/c.root', 'data/sub/d.txt'])
    await writeFile(join(dir, f), '');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function fileset(value: unknown, treeName?: string) {
  const p = join(dir, `ds-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(p, typeof value === 'string' ? value : JSON.stringify(value));
  return loadFileset(p, { treeName });
}

async function errorOf(value: unknown): Promise<DatasetError> {
  try {
    await fileset(value);
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('the same file twice', () => {
  it('in one dataset is refused under any spelling: ./, //, a symlink, a hard link', async () => {
    // Links live in their own folder, so the glob tests below see the data folder unchanged.
    const { symlink, link } = await import('node:fs/promises');
    await mkdir(join(dir, 'links'), { recursive: true });
    await symlink(join(dir, 'data', 'a1.root'), join(dir, 'links', 'a1-link.root')).catch(() => undefined);
    await link(join(dir, 'data', 'a1.root'), join(dir, 'links', 'a1-hard.root')).catch(() => undefined);
    for (const second of [
      'data/./a1.root',
      'data//a1.root',
      'links/a1-link.root',
      'links/a1-hard.root',
      join(dir, 'data', 'sub', '..', 'a1.root'),
    ]) {
      const e = await errorOf({ A: ['data/a1.root', second] });
      expect(e.message).toContain('same file as A[0]');
      expect(e.message).toContain('counted twice');
    }
    const inOne = await errorOf({ A: { files: { 'data/a1.root': 'Events', 'links/a1-link.root': 'Events' } } });
    expect(inOne.message).toMatch(
      /"A\.files\["links\/a1-link\.root"\]" is the same file as A\.files\["data\/a1\.root"\]/,
    );
    // Two datasets may share a file: their results stay apart.
    expect((await fileset({ A: ['data/a1.root'], B: ['links/a1-link.root'] })).map((d) => d.files.length)).toEqual([
      1, 1,
    ]);
  });
});

describe('glob', () => {
  it('returns hidden files and symlinked files, each file once however many paths reach it', async () => {
    const { symlink } = await import('node:fs/promises');
    const root = await mkdtemp(join(tmpdir(), 'ristretto-glob-'));
    try {
      await mkdir(join(root, 'd', 'real'), { recursive: true });
      await writeFile(join(root, 'd', 'real', 'x.root'), '');
      await writeFile(join(root, 'd', '.hidden.root'), '');
      await symlink(join(root, 'd', 'real', 'x.root'), join(root, 'd', 'x-link.root'));
      await mkdir(join(root, 'elsewhere'));
      await writeFile(join(root, 'elsewhere', 'y.root'), '');
      await symlink(join(root, 'elsewhere', 'y.root'), join(root, 'd', 'y-link.root')); // a link out of the tree
      await symlink(join(root, 'd'), join(root, 'd', 'real', 'loop')); // a cycle for a naive walker
      // x-link.root and everything under loop/ are files already listed: reading them again would
      // count their events twice
      expect(await glob('d/**/*.root', root)).toEqual([
        join(root, 'd', '.hidden.root'),
        join(root, 'd', 'real', 'x.root'),
        join(root, 'd', 'y-link.root'),
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('expands braces, *, ? and **', async () => {
    expect(await glob('data/{a1,sub/{c,d}}.root', dir)).toEqual([
      join(dir, 'data/a1.root'),
      join(dir, 'data/sub/c.root'),
    ]);
    expect(await glob(join(dir, 'data', '*.parquet'))).toEqual([join(dir, 'data/b.parquet')]); // absolute pattern
    expect(await glob('nothing/*.root', dir)).toEqual([]);
    expect(await glob('data/a?.root', dir)).toEqual([join(dir, 'data/a1.root'), join(dir, 'data/a2.root')]);
    expect(await glob('data/**/*.root', dir)).toEqual([
      join(dir, 'data/a1.root'),
      join(dir, 'data/a2.root'),
      join(dir, 'data/sub/c.root'),
    ]);
    expect(await glob('data/*.{parquet,txt}', dir)).toEqual([join(dir, 'data/b.parquet')]);
    expect(await glob('data/[!a]*', dir)).toEqual([join(dir, 'data/b.parquet')]);
  });
});

describe('dataset JSON', () => {
  it('accepts the list form with the default tree and resolves relative paths against the JSON file', async () => {
    const ds = await fileset({ mc: ['data/a1.root', 'https://example.org/x.root'] }, 'events');
    expect(ds).toEqual([
      {
        name: 'mc',
        metadata: {},
        files: [
          { path: join(dir, 'data/a1.root'), tree: 'events' },
          { path: 'https://example.org/x.root', tree: 'events' },
        ],
      },
    ]);
  });

  it('accepts the files-object form with metadata, treename and coffea object_path', async () => {
    const ds = await fileset({
      a: { files: { 'data/a1.root': 'Events', 'data/a2.root': { object_path: 'T' } }, metadata: { xsec: 2.5 } },
      b: { files: ['data/sub/*.root'], treename: 'tree' },
    });
    // Each file also says where its tree was named, for the message when the file has no such tree.
    const json = expect.stringMatching(/ds-\w+\.json$/);
    expect(ds[0]).toEqual({
      name: 'a',
      metadata: { xsec: 2.5 },
      files: [
        { path: join(dir, 'data/a1.root'), tree: 'Events', treeFrom: { json, key: 'a.files' } },
        { path: join(dir, 'data/a2.root'), tree: 'T', treeFrom: { json, key: 'a.files' } },
      ],
    });
    expect(ds[1]).toEqual({
      name: 'b',
      metadata: {},
      files: [{ path: join(dir, 'data/sub/c.root'), tree: 'tree', treeFrom: { json, key: 'b.treename' } }],
    });
  });

  it('names the bad key and the expected shape', async () => {
    let e = await errorOf('{"a": [');
    expect(e.message).toMatch(/not valid JSON: line 1, column 8: Unexpected end of input/);
    // A hand-edited file with a trailing comma: the line and column of the offending brace.
    e = await errorOf('{\n  "zmm": ["a.root"],\n}\n');
    expect(e.message).toMatch(/not valid JSON: line 3, column 1: Expected double-quoted property name/);
    e = await errorOf(['x']);
    expect(e.message).toMatch(/top level must be an object/);
    e = await errorOf({ zmm: 'file.root' });
    expect(e.message).toMatch(/"zmm" must be a list of files or an object with "files", got string "file.root"/);
    expect(e.message).toMatch(/expected \{"<dataset>": \["file", \.\.\.\]\}/);
    e = await errorOf({ zmm: { files: { 'a.root': 3 } } });
    expect(e.message).toMatch(/"zmm\.files\["a\.root"\]" must map to a tree name/);
    e = await errorOf({ zmm: { files: ['a.root', 7] } });
    expect(e.message).toMatch(/"zmm\.files\[1\]" must be a file path/);
    expect(e.context.key).toBe('zmm.files[1]');
    e = await errorOf({ zmm: { file: ['a.root'] } });
    expect(e.message).toMatch(/"zmm\.file" is not a known key/);
    e = await errorOf({ zmm: { files: ['nothing*.root'] } });
    expect(e.message).toMatch(/matched no files/);
    e = await errorOf({ zmm: [] });
    expect(e.message).toMatch(/"zmm" lists no files/);
    e = await errorOf({ zmm: { files: ['data/a1.root'], metadata: [1] } });
    expect(e.message).toMatch(/"zmm\.metadata" must be an object/);
  });
});

describe('chunking', () => {
  it('cuts a file into nearly equal chunks covering every entry once', () => {
    expect(chunkRanges({ numEntries: 10, boundaries: [0, 10] }, { chunksize: 4 })).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(chunkRanges({ numEntries: 10_000, boundaries: [] }, { chunksize: 100_000 })).toEqual([[0, 10_000]]);
    expect(chunkRanges({ numEntries: 0, boundaries: [0] }, { chunksize: 5 })).toEqual([]);
  });

  it('aligns to cluster boundaries when asked', () => {
    const b = [0, 3, 6, 9, 20, 22];
    expect(chunkRanges({ numEntries: 22, boundaries: b }, { chunksize: 7, align: true })).toEqual([
      [0, 6],
      [6, 9],
      [9, 20],
      [20, 22],
    ]);
  });
});
