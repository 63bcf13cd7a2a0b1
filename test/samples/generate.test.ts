import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Jagged } from '../../src/columnar/types.ts';
import { openReader } from '../../src/io/open.ts';
import { generateSample } from '../../samples/generate.ts';
import { generateEvents } from '../../samples/synth.ts';

const dir = await mkdtemp(join(tmpdir(), 'ristretto-sample-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('synthetic sample', () => {
  it('is deterministic: the same seed writes byte-identical files, another seed does not', async () => {
    await generateSample({ events: 3000, seed: 7, out: join(dir, 'a'), formats: ['parquet'], chunk: 1000 });
    await generateSample({ events: 3000, seed: 7, out: join(dir, 'b'), formats: ['parquet'], chunk: 1000 });
    await generateSample({ events: 3000, seed: 8, out: join(dir, 'c'), formats: ['parquet'], chunk: 1000 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => readFile(join(dir, `${n}.parquet`))));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('has a Z peak: most opposite-sign leading dimuon masses fall in 81-101 GeV', () => {
    const cols = generateEvents(20000, { seed: 3 });
    const pt = cols.Muon_pt as Jagged,
      eta = cols.Muon_eta as Jagged,
      phi = cols.Muon_phi as Jagged,
      q = cols.Muon_charge as Jagged;
    let inWindow = 0,
      pairs = 0;
    for (let i = 0; i < 20000; i++) {
      const a = pt.offsets[i];
      if (pt.offsets[i + 1] - a < 2 || q.content[a] === q.content[a + 1]) continue;
      const m = Math.sqrt(
        2 *
          pt.content[a] *
          pt.content[a + 1] *
          (Math.cosh(eta.content[a] - eta.content[a + 1]) - Math.cos(phi.content[a] - phi.content[a + 1])),
      );
      pairs++;
      if (m > 81 && m < 101) inWindow++;
    }
    expect(pairs).toBeGreaterThan(8000);
    expect(inWindow / pairs).toBeGreaterThan(0.5);
  });

  it('writes Parquet that DuckDB and Ristretto read back as generated, and Arrow with the same columns', async () => {
    const out = join(dir, 'rt');
    await generateSample({ events: 2500, seed: 11, out, formats: ['parquet', 'arrow'], chunk: 1000 });
    // The generator is the truth: regenerate the same chunks and sum them here.
    let n = 0,
      sumPt = 0,
      sumEvent = 0,
      nMuon = 0;
    for (let first = 0; first < 2500; first += 1000) {
      const c = generateEvents(Math.min(1000, 2500 - first), { seed: 11, firstEvent: first });
      const pt = c.Muon_pt as Jagged;
      for (const v of pt.content) sumPt += v;
      for (const v of c.event as Float64Array) sumEvent += v;
      nMuon += pt.content.length;
      n += (c.MET_pt as Float32Array).length;
    }
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (
      await db.runAndReadAll(
        `select count(*)::double, sum(list_sum(Muon_pt))::double, sum(event)::double, sum(nMuon)::double from '${out}.parquet'`,
      )
    ).getRows();
    expect(rows[0][0]).toBe(n);
    expect(rows[0][1]).toBeCloseTo(sumPt, 2);
    expect(rows[0][2]).toBe(sumEvent);
    expect(rows[0][3]).toBe(nMuon);
    for (const ext of ['parquet', 'arrow']) {
      const r = await openReader(`${out}.${ext}`);
      expect(r.numEntries).toBe(n);
      const got = (await r.read(['Muon_pt'], 0, n)).Muon_pt as Jagged;
      let s = 0;
      for (const v of got.content) s += v;
      expect(s).toBeCloseTo(sumPt, 2);
      await r.close();
    }
  });
});
