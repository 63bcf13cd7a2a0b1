/**
 * Cross-format check: the first 1,000 events of the ROOT file equal the Parquet files made from it
 * (flat and nested layouts), branch by branch, values exact. Dtypes may differ only for integers the
 * Parquet writer widened (ROOT uint32 counts → Parquet int64).
 */
import { describe, expect, it } from 'vitest';
import { openParquet } from '../../src/io/parquet/index.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { columnEvents as events } from '../helpers/columns.ts';
import { sharedPath } from '../shared.ts';

const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

describe('ROOT vs Parquet (Run2012B_SingleMu, first 1000 events)', () => {
  for (const file of ['Run2012B_SingleMu-1000.parquet', 'Run2012B_SingleMu-restructured-1000.parquet']) {
    it(`${file}: every common branch equals the ROOT file`, async () => {
      const root = await openRoot(sharedPath('data', 'Run2012B_SingleMu_10000.root'));
      const pq = await openParquet(sharedPath('data', file));
      const rootInfo = new Map(root.branches().map((b) => [b.name, b]));
      const common = pq.branches().filter((b) => rootInfo.has(b.name));
      expect(common.length).toBe(pq.branches().length);
      const names = common.map((b) => b.name);
      const a = await root.read(names, 0, 1000);
      const b = await pq.read(names, 0, 1000);
      const bad: string[] = [];
      for (const info of common) {
        const r = rootInfo.get(info.name)!;
        expect(info.kind, info.name).toBe(r.kind);
        if (info.dtype !== r.dtype)
          expect(INTEGER.has(info.dtype) && INTEGER.has(r.dtype), `${info.name}: ${info.dtype} vs ${r.dtype}`).toBe(
            true,
          );
        const x = events(a[info.name]);
        const y = events(b[info.name]);
        if (JSON.stringify(x) !== JSON.stringify(y)) bad.push(info.name);
      }
      expect(bad).toEqual([]);
      await root.close();
      await pq.close();
    });
  }
});
