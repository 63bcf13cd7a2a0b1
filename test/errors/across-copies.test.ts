/**
 * `instanceof` for Ristretto's errors across two copies of the library, as a processor bundle and the
 * runner have: a second copy of src/io/parquet/errors.ts (with its own src/errors/index.ts) is bundled by
 * esbuild and imported beside this one. Family membership (joinErrorFamily) must hold across them too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { EntryRangeError, MissingColumnError, RistrettoError } from '../../src/errors/index.ts';
import { ArrowError } from '../../src/io/arrow/errors.ts';
import { ParquetColumnNotFoundError, ParquetError, ParquetRangeError } from '../../src/io/parquet/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-error-copies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Copy = typeof import('../../src/io/parquet/errors.ts') & typeof import('../../src/errors/index.ts');

async function secondCopy(): Promise<Copy> {
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export * from ${JSON.stringify(resolve('src/io/parquet/errors.ts'))};\nexport * from ${JSON.stringify(resolve('src/errors/index.ts'))};\n`,
  );
  const outfile = join(dir, 'copy.mjs');
  await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile, keepNames: true });
  return (await import(pathToFileURL(outfile).href)) as Copy;
}

describe('errors made by another copy of Ristretto', () => {
  it('are instances of this copy’s classes and families, and of nothing else', async () => {
    const other = await secondCopy();
    expect(other.ParquetColumnNotFoundError).not.toBe(ParquetColumnNotFoundError); // really a second copy
    const missing = new other.ParquetColumnNotFoundError('no column Muon_ptt in f.parquet');
    expect(missing instanceof ParquetColumnNotFoundError).toBe(true);
    expect(missing instanceof ParquetError).toBe(true);
    expect(missing instanceof RistrettoError).toBe(true);
    expect(missing instanceof MissingColumnError).toBe(true); // the family, by its mark
    expect(missing instanceof EntryRangeError).toBe(false);
    expect(missing instanceof ParquetRangeError).toBe(false);
    expect(missing instanceof ArrowError).toBe(false);
    const range = new other.ParquetRangeError('entries [5, 2) are not a range');
    expect(range instanceof EntryRangeError).toBe(true);
    expect(range instanceof MissingColumnError).toBe(false);
    // And the other way round: this copy's error, judged by the other copy's classes.
    expect(new ParquetColumnNotFoundError('x') instanceof other.MissingColumnError).toBe(true);
    expect(new ParquetColumnNotFoundError('x') instanceof other.RistrettoError).toBe(true);
    // A plain error, or one that only borrows a name, is not one of Ristretto's.
    const impostor = Object.assign(new Error('x'), { name: 'ParquetColumnNotFoundError' });
    expect(impostor instanceof ParquetColumnNotFoundError).toBe(false);
    expect(impostor instanceof MissingColumnError).toBe(false);
  });
});
