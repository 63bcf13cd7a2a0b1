/**
 * Converter: Parquet → Arrow → Parquet round trips, ROOT → Parquet, output read by DuckDB with sums
 * checked against a naive loop over hyparquet's public row API, and the `convert` CLI command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Command } from 'commander';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import { openArrow } from '../../src/io/arrow/index.ts';
import { chunkEdges, convert, ConvertError, registerConvertCommand } from '../../src/io/convert.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import type { EventReader } from '../../src/io/reader.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { columnEvents as events } from '../helpers/columns.ts';
import { tempDir } from '../helpers/files.ts';
import { sharedPath } from '../shared.ts';

const FLAT = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const NESTED = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const dir = tempDir('convert');

async function sameEvents(
  a: EventReader,
  b: EventReader,
  names: readonly string[],
  start: number,
  stop: number,
  offset = 0,
): Promise<string[]> {
  const x = await a.read(names, start, stop);
  const y = await b.read(names, start - offset, stop - offset);
  return names.filter((n) => JSON.stringify(events(x[n])) !== JSON.stringify(events(y[n])));
}

async function duck(sql: string): Promise<unknown[][]> {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows() as unknown[][];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

describe('convert', () => {
  it('Parquet → Arrow → Parquet equals the source, every branch and dtype', async () => {
    for (const src of [FLAT, NESTED]) {
      const a = await openParquet(src);
      const arrowPath = join(dir, 'rt.arrow');
      const pqPath = join(dir, 'rt.parquet');
      const r1 = await convert(a, arrowPath, { chunkSize: 300 });
      expect(r1.chunks).toBe(4);
      const b = await openArrow(arrowPath);
      expect(b.boundaries()).toEqual([0, 300, 600, 900, 1000]);
      await convert(b, pqPath);
      const c = await openParquet(pqPath);
      const names = a.branches().map((x) => x.name);
      expect(
        c
          .branches()
          .map((x) => [x.name, x.kind, x.dtype, x.countBranch])
          .sort(),
      ).toEqual(
        a
          .branches()
          .map((x) => [x.name, x.kind, x.dtype, x.countBranch])
          .sort(),
      );
      expect(await sameEvents(a, c, names, 0, 1000)).toEqual([]);
      await a.close();
      await b.close();
      await c.close();
    }
  });

  it('DuckDB reads the Parquet output; its sums match a naive loop over the source rows', async () => {
    const out = join(dir, 'duck.parquet');
    const r = await openParquet(FLAT);
    const res = await convert(r, out, {
      branches: ['Jet_pt', 'MET_pt', 'HLT_IsoMu24', 'event'],
      entryStart: 100,
      entryStop: 600,
      chunkSize: 128,
    });
    expect(res.branches).toEqual(['nJet', 'Jet_pt', 'MET_pt', 'HLT_IsoMu24', 'event']);
    await r.close();

    const b = readFileSync(FLAT);
    const rows = (await parquetReadObjects({
      file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
      compressors,
      rowStart: 100,
      rowEnd: 600,
    })) as Record<string, unknown>[];
    let nJet = 0;
    let jetPt = 0;
    let met = 0;
    let trig = 0;
    let evt = 0;
    for (const row of rows) {
      const pts = row.Jet_pt as number[];
      nJet += pts.length;
      for (const p of pts) jetPt += p;
      met += row.MET_pt as number;
      trig += row.HLT_IsoMu24 ? 1 : 0;
      evt += Number(row.event as bigint);
    }
    const [[count, sumN, sumLen, sumPt, sumMet, sumTrig, sumEvt]] = (await duck(
      `select count(*), sum(nJet), sum(len(Jet_pt)), sum(list_sum(Jet_pt)), sum(MET_pt), sum(HLT_IsoMu24::int), sum(event) from read_parquet('${out}')`,
    )) as [[bigint, bigint, bigint, number, number, bigint, bigint]];
    expect(Number(count)).toBe(500);
    expect(Number(sumN)).toBe(nJet);
    expect(Number(sumLen)).toBe(nJet);
    expect(Number(sumPt)).toBeCloseTo(jetPt, 6);
    expect(Number(sumMet)).toBeCloseTo(met, 6);
    expect(Number(sumTrig)).toBe(trig);
    expect(Number(sumEvt)).toBe(evt);
    const types = await duck(`select column_name, column_type from (describe select * from read_parquet('${out}'))`);
    expect(types).toEqual([
      ['nJet', 'BIGINT'],
      ['Jet_pt', 'FLOAT[]'],
      ['MET_pt', 'FLOAT'],
      ['HLT_IsoMu24', 'BOOLEAN'],
      ['event', 'BIGINT'],
    ]);
  });

  it('ROOT → Parquet: 4,000 events in row groups equal the ROOT file', async () => {
    const root = await openRoot(ROOT);
    const out = join(dir, 'root.parquet');
    const res = await convert(root, out, { chunkSize: 1500, entryStop: 4000 });
    const pq = await openParquet(out);
    expect(pq.numEntries).toBe(4000);
    expect(pq.boundaries()).toEqual([0, 1500, 3000, 4000]);
    expect(chunkEdges(root.boundaries(), 0, 4000, 1500)).toEqual([0, 1500, 3000, 4000]);
    expect(res.chunks).toBe(pq.boundaries().length - 1);
    expect(pq.branches().map((b) => [b.name, b.kind, b.dtype, b.countBranch])).toEqual(
      root.branches().map((b) => [b.name, b.kind, b.dtype, b.countBranch]),
    );
    expect(
      await sameEvents(
        root,
        pq,
        root.branches().map((b) => b.name),
        0,
        4000,
      ),
    ).toEqual([]);
    await root.close();
    await pq.close();
  });

  it('chunk edges follow reader boundaries and the target size', () => {
    expect(chunkEdges([0, 100, 200, 300], 0, 300, 150)).toEqual([0, 100, 200, 300]);
    expect(chunkEdges([0, 100, 200, 300], 0, 300, 250)).toEqual([0, 200, 300]);
    expect(chunkEdges([0, 1000], 0, 1000, 300)).toEqual([0, 300, 600, 900, 1000]);
    expect(chunkEdges([0, 100, 200, 300], 50, 250, 100)).toEqual([50, 100, 200, 250]);
    expect(chunkEdges([0, 10], 5, 5, 100)).toEqual([5]);
  });

  it('rejects unknown formats, bad ranges and unknown branches without leaving output', async () => {
    const r = await openParquet(FLAT);
    await expect(convert(r, join(dir, 'x.csv'))).rejects.toBeInstanceOf(ConvertError);
    await expect(convert(r, join(dir, 'x.parquet'), { entryStart: 10, entryStop: 5 })).rejects.toBeInstanceOf(
      ConvertError,
    );
    const e = await convert(r, join(dir, 'y.parquet'), { branches: ['Jet_pT'] }).catch((x: unknown) => x);
    expect((e as Error).message).toContain('Jet_pt');
    expect(existsSync(join(dir, 'y.parquet'))).toBe(false);
    await r.close();
  });
});

describe('ristretto convert', () => {
  const program = () => {
    const p = new Command('ristretto').exitOverride();
    registerConvertCommand(p, (path, opts) =>
      path.endsWith('.root') ? openRoot(path, opts) : openParquet(path, opts),
    );
    return p;
  };

  it('writes the selected branches and entries, format from the extension', async () => {
    const out = join(dir, 'cli.feather');
    await program().parseAsync(
      ['convert', ROOT, out, '--branches', 'Muon_pt,MET_pt', '--entries', '10:20', '--treename', 'Events'],
      { from: 'user' },
    );
    const a = await openArrow(out);
    expect(a.numEntries).toBe(10);
    expect(a.branches().map((b) => b.name)).toEqual(['nMuon', 'Muon_pt', 'MET_pt']);
    const root = await openRoot(ROOT);
    expect(await sameEvents(root, a, ['nMuon', 'Muon_pt', 'MET_pt'], 10, 20, 10)).toEqual([]);
    await root.close();
  });

  it('reports a malformed --entries as a ConvertError', async () => {
    await expect(
      program().parseAsync(['convert', FLAT, join(dir, 'bad.parquet'), '--entries', '10-20'], { from: 'user' }),
    ).rejects.toBeInstanceOf(ConvertError);
  });
});
