/**
 * `convert` never damages its input and never leaves a partial output: OUT = IN under any spelling
 * (./, //, a symlink, a hard link) is refused before anything is opened or written; the output is
 * written to a temporary file and renamed at the end, so a failure keeps an existing OUT intact.
 */
import { copyFileSync, existsSync, linkSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { convert, ConvertError, isSameFile, registerConvertCommand } from '../../src/io/convert.ts';
import type { EventReader } from '../../src/io/reader.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { columnEvents } from '../helpers/columns.ts';
import { caught } from '../helpers/caught.ts';
import { tempDir } from '../helpers/files.ts';
import { sharedDir } from '../shared.ts';

const SMALL = join(sharedDir, 'data', 'root-corpus', 'uproot-small-dy-withoffsets.root');
const haveShared = existsSync(SMALL);
if (!haveShared) console.warn(`SKIPPED: convert safety tests on a real file need ${SMALL} (../shared is missing)`);

const dir = tempDir('convert-safety');

/** A reader over an in-memory column that fails on its second chunk. */
function failingReader(path: string): EventReader {
  let calls = 0;
  return {
    path,
    treeName: 't',
    numEntries: 10,
    bytesRead: 0,
    branches: () => [{ name: 'x', kind: 'flat', dtype: 'float64' }],
    boundaries: () => [0, 5, 10],
    read: async (_names, a, b) => {
      if (++calls === 2) throw new Error('disk on fire');
      return { x: Float64Array.from({ length: b - a }, (_, i) => a + i) };
    },
    close: async () => {},
  };
}

describe('same input and output', () => {
  it('isSameFile sees through ./, //, symlinks and hard links', () => {
    const f = join(dir, 'a.bin');
    writeFileSync(f, 'x');
    symlinkSync(f, join(dir, 'a-sym.bin'));
    linkSync(f, join(dir, 'a-hard.bin'));
    expect(isSameFile(f, join(dir, '.', 'a.bin'))).toBe(true);
    expect(isSameFile(f, `${dir}//a.bin`)).toBe(true);
    expect(isSameFile(f, join(dir, 'a-sym.bin'))).toBe(true);
    expect(isSameFile(f, join(dir, 'a-hard.bin'))).toBe(true);
    expect(isSameFile(f, join(dir, 'other.bin'))).toBe(false);
  });

  it.skipIf(!haveShared)('convert(reader, its own path) refuses and leaves the file byte-identical', async () => {
    const input = join(dir, 'in.root');
    copyFileSync(SMALL, input);
    const before = readFileSync(input);
    symlinkSync(input, join(dir, 'in-link.parquet'));
    const reader = await openRoot(input, { treeName: 'tree' });
    try {
      for (const out of [input, join(dir, '.', 'in.root'), join(dir, 'in-link.parquet')]) {
        const e = await caught(convert(reader, out, { format: 'parquet' }));
        expect(e, out).toBeInstanceOf(ConvertError);
        expect(e.message).toMatch(/is the input file/);
      }
    } finally {
      await reader.close();
    }
    expect(Buffer.compare(readFileSync(input), before)).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('the CLI refuses before opening the input', async () => {
    const input = join(dir, 'cli.parquet');
    writeFileSync(input, 'not touched');
    let opened = 0;
    const program = new Command().exitOverride();
    registerConvertCommand(program, async () => {
      opened++;
      return failingReader(input);
    });
    const e = await caught(program.parseAsync(['node', 'ristretto', 'convert', input, join(dir, '.', 'cli.parquet')]));
    expect(e).toBeInstanceOf(ConvertError);
    expect(opened).toBe(0);
    expect(readFileSync(input, 'utf8')).toBe('not touched');
  });
});

describe('temporary output, renamed at the end', () => {
  it('a failure part-way keeps an existing output intact and leaves no partial file', async () => {
    const out = join(dir, 'keep.parquet');
    writeFileSync(out, 'previous conversion');
    const e = await caught(convert(failingReader(join(dir, 'virtual.root')), out, { chunkSize: 5 }));
    expect(e.message).toMatch(/disk on fire/);
    expect(readFileSync(out, 'utf8')).toBe('previous conversion');
    expect(readdirSync(dir).filter((f) => f.includes('keep.parquet') && f !== 'keep.parquet')).toEqual([]);
  });

  it.skipIf(!haveShared)('a successful conversion leaves only the output', async () => {
    const out = join(dir, 'ok.arrow');
    const reader = await openRoot(SMALL, { treeName: 'tree' });
    try {
      const res = await convert(reader, out);
      expect(res.entries).toBe(501);
    } finally {
      await reader.close();
    }
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('ok.arrow'))).toEqual(['ok.arrow']);
  });
});

describe.skipIf(!haveShared)('ROOT files beyond NanoAOD', () => {
  it('a split event tree converts: bracketed names taken literally, vectors as lists, strings kept', async () => {
    const src = join(sharedDir, 'data', 'root-corpus', 'uproot-small-evnt-tree-fullsplit.root');
    const out = join(dir, 'evnt.parquet');
    const reader = await openRoot(src, { treeName: 'tree' });
    try {
      const res = await convert(reader, out);
      expect(res.skipped).toBeUndefined();
      expect(res.branches).toEqual(expect.arrayContaining(['Beg', 'Str', 'StdStr', 'End']));
      const toRoot = await convert(reader, join(dir, 'evnt.root'));
      expect(toRoot.skipped).toBeUndefined();
      expect(toRoot.branches).toEqual(res.branches);
      const rootBack = await openRoot(join(dir, 'evnt.root'));
      try {
        const names = ['ArrayI16[10]', 'P3.Py', 'StlVecF32', 'Str'];
        const want = await reader.read(names, 0, 100);
        const got = await rootBack.read(names, 0, 100);
        for (const n of names) expect(columnEvents(got[n]), n).toEqual(columnEvents(want[n]));
      } finally {
        await rootBack.close();
      }
      expect(res.branches).toContain('ArrayI16[10]');
      const back = await openParquet(out);
      try {
        const names = ['I32', 'P3.Py', 'StlVecF32', 'SliceU64', 'ArrayF64[10]'];
        const want = await reader.read(names, 0, 100);
        const got = await back.read(names, 0, 100);
        for (const n of names) expect(columnEvents(got[n]), n).toEqual(columnEvents(want[n]));
      } finally {
        await back.close();
      }
    } finally {
      await reader.close();
    }
  });
});
