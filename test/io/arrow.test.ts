/**
 * Arrow IPC round trips: columns read from the real Parquet files (and hand-made ones) are written and
 * read back exactly, with the read arrays being views into the file buffer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC, tableFromArrays } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ArrowColumnNotFoundError,
  ArrowFileWriter,
  ArrowRangeError,
  openArrow,
  writeArrowIPC,
} from '../../src/io/arrow/index.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import type { Column, DType } from '../../src/io/reader.ts';
import { columnEvents as events } from '../helpers/columns.ts';
import { tempDir } from '../helpers/files.ts';
import { sharedPath } from '../shared.ts';

const dir = tempDir('arrow');

function isJagged(c: Column): c is { offsets: Int32Array; content: Float32Array } {
  return !ArrayBuffer.isView(c);
}

describe('Arrow IPC', () => {
  it('round-trips every branch of the flat NanoAOD Parquet file exactly, dtypes included', async () => {
    const pq = await openParquet(sharedPath('data', 'Run2012B_SingleMu-1000.parquet'));
    const infos = pq.branches();
    const cols = await pq.read(
      infos.map((b) => b.name),
      0,
      pq.numEntries,
    );
    const dtypes: Record<string, DType> = Object.fromEntries(infos.map((b) => [b.name, b.dtype]));
    const path = join(dir, 'flat.arrow');
    await writeArrowIPC(cols, path, { dtypes });
    const r = await openArrow(path);
    expect(r.numEntries).toBe(1000);
    expect(r.branches().map((b) => [b.name, b.kind, b.dtype, b.countBranch])).toEqual(
      infos.map((b) => [b.name, b.kind, b.dtype, b.countBranch]),
    );
    const back = await r.read(
      infos.map((b) => b.name),
      0,
      1000,
    );
    for (const b of infos) {
      expect(events(back[b.name]), b.name).toEqual(events(cols[b.name]));
      const want = isJagged(cols[b.name]) ? (cols[b.name] as { content: object }).content : cols[b.name];
      const got = isJagged(back[b.name]) ? (back[b.name] as { content: object }).content : back[b.name];
      expect(got.constructor, b.name).toBe(want.constructor);
    }
    await pq.close();
  });

  it('reads are views into one file buffer, including sub-ranges', async () => {
    const path = join(dir, 'views.arrow');
    const pt = Float32Array.from({ length: 20 }, (_, i) => i * 1.5);
    const offsets = Int32Array.from([0, 3, 3, 8, 20]);
    await writeArrowIPC(
      {
        Jet_pt: { offsets, content: pt },
        nJet: Int32Array.from([3, 0, 5, 12]),
        MET_pt: Float32Array.from([1, 2, 3, 4]),
      },
      path,
    );
    const fileSize = readFileSync(path).length;
    const r = await openArrow(path);
    const all = await r.read(['Jet_pt', 'MET_pt', 'nJet'], 0, 4);
    const jet = all.Jet_pt as { offsets: Int32Array; content: Float32Array };
    const met = all.MET_pt as Float32Array;
    const buffer = jet.content.buffer;
    expect(buffer.byteLength).toBeGreaterThanOrEqual(fileSize);
    expect(jet.offsets.buffer).toBe(buffer);
    expect(met.buffer).toBe(buffer);
    expect(Array.from(jet.offsets)).toEqual([0, 3, 3, 8, 20]);
    expect(Array.from(jet.content)).toEqual(Array.from(pt));
    // a window: content and flat values stay views; offsets are rebased to start at 0 (a small copy)
    const part = (await r.read(['Jet_pt', 'MET_pt'], 1, 3)) as Record<string, Column>;
    const pj = part.Jet_pt as { offsets: Int32Array; content: Float32Array };
    expect(pj.content.buffer).toBe(buffer);
    expect(events(pj)).toEqual([[], [4.5, 6, 7.5, 9, 10.5]]);
    expect((part.MET_pt as Float32Array).buffer).toBe(buffer);
    expect(Array.from(part.MET_pt as Float32Array)).toEqual([2, 3]);
  });

  it('writer reuses the very typed arrays it is given (zero-copy batches)', async () => {
    const { recordBatchOf, arrowSchemaOf } = await import('../../src/io/arrow/write.ts');
    const content = new Float32Array([1, 2, 3]);
    const offsets = new Int32Array([0, 1, 3]);
    const cols = { Jet_pt: { offsets, content }, MET_pt: new Float64Array([5, 6]) };
    const batch = recordBatchOf(arrowSchemaOf(cols), cols, 'mem');
    const list = batch.data.children[0];
    expect(list.valueOffsets).toBe(offsets);
    expect(list.children[0].values).toBe(content);
    expect(batch.data.children[1].values).toBe(cols.MET_pt);
  });

  it('several chunks become record batches; ranges spanning them are stitched', async () => {
    const path = join(dir, 'batches.arrow');
    const w = new ArrowFileWriter(path, { flag: 'bool' });
    const all: number[][] = [];
    const flags: number[] = [];
    for (let chunk = 0; chunk < 3; chunk++) {
      const counts = [1, 0, 2, 3].map((c) => (c + chunk) % 4);
      const offsets = new Int32Array(counts.length + 1);
      counts.forEach((c, i) => (offsets[i + 1] = offsets[i] + c));
      const content = Float32Array.from({ length: offsets[counts.length] }, (_, i) => chunk * 100 + i);
      for (let i = 0; i < counts.length; i++) all.push(Array.from(content.subarray(offsets[i], offsets[i + 1])));
      const flag = Uint8Array.from(counts.map((c) => (c > 1 ? 1 : 0)));
      flags.push(...flag);
      w.write({ Mu_pt: { offsets, content }, flag });
    }
    await w.close();
    const r = await openArrow(path);
    expect(r.boundaries()).toEqual([0, 4, 8, 12]);
    expect(r.branches().find((b) => b.name === 'flag')!.dtype).toBe('bool');
    const c = await r.read(['Mu_pt', 'flag'], 2, 11);
    expect(events(c.Mu_pt)).toEqual(all.slice(2, 11));
    expect(Array.from(c.flag as Uint8Array)).toEqual(flags.slice(2, 11));
    await expect(r.read(['Mu_pt'], 0, 13)).rejects.toBeInstanceOf(ArrowRangeError);
    const e = await r.read(['Mu_PT'], 0, 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArrowColumnNotFoundError);
    expect((e as ArrowColumnNotFoundError).context.closest).toContain('Mu_pt');
  });

  it('reads Arrow files from other writers (int64 and bool converted, lists kept)', async () => {
    const path = join(dir, 'foreign.arrow');
    const t = tableFromArrays({ event: BigInt64Array.from([5n, 7n, 9n]), x: new Float64Array([0.5, 1.5, 2.5]) });
    writeFileSync(path, tableToIPC(t, 'file'));
    const r = await openArrow(path);
    expect(r.branches().map((b) => [b.name, b.dtype])).toEqual([
      ['event', 'int64'],
      ['x', 'float64'],
    ]);
    const c = await r.read(['event', 'x'], 1, 3);
    expect(Array.from(c.event as Float64Array)).toEqual([7, 9]);
    expect(c.event).toBeInstanceOf(Float64Array);
    expect(tableFromIPC(readFileSync(path)).numRows).toBe(3);
  });
});
