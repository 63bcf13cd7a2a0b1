/**
 * bench/make-adl-dataset.ts, the input of the 20 M-event benchmarks: one copy of the real Run2012B events
 * written in the flat (NanoAOD-style, ZSTD) and nested (snappy) layouts must hold exactly the source ROOT
 * file's values, be cut into the asked row groups, and be readable by DuckDB as well as by Ristretto.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Jagged, NumericArray } from '../../src/columnar/types.ts';
import { openReader } from '../../src/io/open.ts';
import type { Column } from '../../src/io/reader.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const SCRIPT = resolve(repoRoot, 'bench', 'make-adl-dataset.ts');
const BRANCHES = [
  'MET_pt',
  'MET_phi',
  'nJet',
  'Jet_pt',
  'Jet_eta',
  'Jet_btag',
  'nMuon',
  'Muon_mass',
  'Muon_charge',
  'nElectron',
  'Electron_phi',
  'Electron_charge',
];

const make = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: repoRoot, encoding: 'utf8' });

/** Values of a column as plain numbers (content for jagged), and offsets rebased to 0. */
function numbers(c: Column): { values: number[]; offsets?: number[] } {
  if ('offsets' in c) {
    const j = c as Jagged;
    return {
      values: Array.from(j.content as NumericArray, Number),
      offsets: Array.from(j.offsets, (o) => o - j.offsets[0]),
    };
  }
  return { values: Array.from(c as NumericArray, Number) };
}

describe('bench/make-adl-dataset.ts', () => {
  let dir: string;
  let flat: string;
  let nested: string;
  const source = sharedPath('data', 'Run2012B_SingleMu_10000.root');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ristretto-make-adl-'));
    flat = join(dir, 'flat-zstd.parquet');
    nested = join(dir, 'nested-snappy.parquet');
    // One copy = the source events unjittered; 4,000-event row groups → 3 groups for 10,000 events.
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        SCRIPT,
        '--copies',
        '1',
        '--rowgroup',
        '4000',
        '--layout',
        'flat',
        '--codec',
        'ZSTD',
        '--out',
        flat,
      ],
      { cwd: repoRoot, stdio: 'pipe' },
    );
    execFileSync(
      process.execPath,
      ['--import', 'tsx', SCRIPT, '--copies', '1', '--rowgroup', '4000', '--codec', 'SNAPPY', '--out', nested],
      { cwd: repoRoot, stdio: 'pipe' },
    );
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the source ROOT values, in both layouts', async () => {
    const src = await openReader(source);
    const want = await src.read(BRANCHES, 0, src.numEntries);
    await src.close();
    for (const file of [flat, nested]) {
      const r = await openReader(file);
      expect(r.numEntries).toBe(10_000);
      const got = await r.read(BRANCHES, 0, r.numEntries);
      await r.close();
      for (const b of BRANCHES) {
        // Float32 on both sides (the source branches are Float_t), so equality is exact.
        expect(numbers(got[b]), `${b} of ${file}`).toEqual(numbers(want[b]));
      }
    }
  }, 120_000);

  it('lays the flat file out NanoAOD-style with ZSTD pages in row groups of the asked size', async () => {
    const md = await parquetMetadataAsync(await asyncBufferFromFile(flat));
    const byName = new Map(md.schema.map((s) => [s.name, s]));
    expect(byName.get('nJet')?.type).toBe('INT64');
    expect(byName.get('Jet_pt')?.converted_type).toBe('LIST');
    expect(byName.has('MET')).toBe(false);
    expect(md.row_groups.map((g) => Number(g.num_rows))).toEqual([4000, 4000, 2000]);
    expect(new Set(md.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)))).toEqual(new Set(['ZSTD']));
  });

  it('is read by DuckDB: same event and jet counts as the source', async () => {
    const src = await openReader(source);
    const nJet = (await src.read(['nJet'], 0, src.numEntries)).nJet as NumericArray;
    await src.close();
    let jets = 0;
    for (let i = 0; i < nJet.length; i++) jets += Number(nJet[i]);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = (
      await conn.runAndReadAll(`SELECT count(*), sum(nJet), sum(len(Jet_pt)) FROM read_parquet('${flat}')`)
    ).getRows();
    const nestedRows = (
      await conn.runAndReadAll(`SELECT count(*), sum(len(Jet)) FROM read_parquet('${nested}')`)
    ).getRows();
    conn.closeSync();
    expect(rows[0].map(Number)).toEqual([10_000, jets, jets]);
    expect(nestedRows[0].map(Number)).toEqual([10_000, jets]);
  }, 60_000);

  it('refuses a bad codec level with a message naming the option', () => {
    const r = make(['--copies', '1', '--codec', 'ZSTD:0', '--out', join(dir, 'never.parquet')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--codec: a codec level is ZSTD:1 … ZSTD:22, got "ZSTD:0"');
    const l = make(['--copies', '1', '--layout', 'wide', '--out', join(dir, 'never.parquet')]);
    expect(l.status).toBe(2);
    expect(l.stderr).toContain('--layout must be one of nested, flat, got "wide"');
  }, 180_000);
});
