/**
 * `ristretto draw` without --bins over a dataset JSON: the range comes from the first chunk of each of
 * the first files, not from the first file alone (a 40-event first file left a third of the entries in
 * the flow bins, outside probe F20); when later chunks still fall outside, the summary warns. Expected
 * ranges and shares come from MET_pt read here straight from the files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { draw, summary } from '../../src/cli/draw.ts';
import { openReader } from '../../src/io/open.ts';
import { sharedPath } from '../shared.ts';

const SMALL = sharedPath('data', 'nano_dimuon.root');
const BIG = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const dir = mkdtempSync(join(tmpdir(), 'ristretto-draw-auto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function metOf(path: string): Promise<number[]> {
  const r = await openReader(path, { treeName: 'Events' });
  try {
    return Array.from((await r.read(['MET_pt'], 0, r.numEntries)).MET_pt as Float32Array);
  } finally {
    await r.close();
  }
}

describe('draw: default bins over a dataset JSON', () => {
  it('span the first chunks of all files, so no entry of either file is in a flow bin', async () => {
    const small = await metOf(SMALL);
    const big = await metOf(BIG);
    // The small file alone spans a narrower range than the big one: the case that went wrong.
    expect(Math.max(...small)).toBeLessThan(Math.max(...big));
    const ds = join(dir, 'two.json');
    writeFileSync(ds, JSON.stringify({ dimuon: [SMALL], singlemu: [BIG] }));
    const r = await draw(ds, 'MET_pt');
    expect(r.autoBins).toBe(true);
    expect(r.sampledFiles).toBe(2);
    expect(r.entries).toBe(small.length + big.length);
    expect(r.underflow + r.overflow).toBe(0);
    const all = [...small, ...big];
    const ax = r.hist.axes[0] as unknown as { edges: ArrayLike<number> };
    expect(ax.edges[0]).toBe(Math.min(...all));
    expect(summary('MET_pt', r)).toContain('(chosen from the range of the first chunk of 2 files;');
    expect(summary('MET_pt', r)).not.toContain('warning');
  });

  it('warn when later chunks put more than 5 % of the entries outside', async () => {
    const met = await metOf(BIG);
    const first = met.slice(0, 100);
    const lo = Math.min(...first);
    const top = Math.max(...first);
    const hi = top + (top - lo) * 1e-3;
    const outside = met.filter((v) => v < lo || v >= hi).length;
    expect(outside / met.length).toBeGreaterThan(0.05);
    const r = await draw(BIG, 'MET_pt', { chunksize: 100 });
    expect(r.sampledFiles).toBe(1);
    expect(r.underflow + r.overflow).toBe(outside);
    const text = summary('MET_pt', r);
    expect(text).toContain('(chosen from the range of the first chunk; pass --bins N,LO,HI to fix them)');
    expect(text).toContain(
      `warning: ${Number(((100 * outside) / met.length).toPrecision(3))} % of the entries are in the under/overflow bins`,
    );
    // Given bins are the user's choice: no warning however many fall outside.
    const given = await draw(BIG, 'MET_pt', { bins: [10, 0, 20] });
    expect(given.overflow).toBeGreaterThan(0.05 * given.entries);
    expect(summary('MET_pt', given)).not.toContain('warning');
  });
});
