import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hist, Regular } from '../../src/hist/index.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';
import { parseFormats, splitAccumulator, writeOutputs } from '../../src/runner/output.ts';
import { tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const metrics = { events: 3, chunks: 1 } as unknown as RunMetrics;

function h1(values: number[]): Hist {
  return new Hist(new Regular(4, 0, 4, { name: 'x' })).fill(Float64Array.from(values));
}

describe('outputs', () => {
  it('writes one UHI file per histogram (nested keys as folders), other leaves to accumulator.json', async () => {
    const acc = {
      met: h1([0.5, 1.5, 1.5, 9]),
      byDataset: new Map<string, unknown>([['DY/50', { pt: h1([-1, 2]), n: 2 }]]),
      cutflow: { all: 10, pass: 3 },
      tags: new Set(['a']),
      arr: Float32Array.of(1.5, 2),
      h3: new Hist(new Regular(2, 0, 1), new Regular(2, 0, 1), new Regular(2, 0, 1)),
    };
    const { hists, rest } = splitAccumulator(acc);
    expect([...hists.keys()]).toEqual(['met', 'byDataset/DY_50/pt', 'h3']);
    expect(rest).toEqual({
      byDataset: { 'DY/50': { n: 2 } },
      cutflow: { all: 10, pass: 3 },
      tags: ['a'],
      arr: [1.5, 2],
    });

    const out = join(dir, 'o1');
    const w = await writeOutputs(acc, metrics, out, parseFormats('json,root-json,svg'));
    expect(w.files.sort()).toEqual(
      [
        'accumulator.json',
        'byDataset/DY_50/pt.json',
        'byDataset/DY_50/pt.root.json',
        'byDataset/DY_50/pt.svg',
        'h3.json',
        'h3.root.json',
        'met.json',
        'met.root.json',
        'met.svg',
        'metrics.json',
      ].sort(),
    );
    expect(w.warnings).toEqual([expect.stringMatching(/^h3: no svg output: .*3 axes/)]);
    const doc = JSON.parse(await readFile(join(out, 'met.json'), 'utf8'));
    expect(Object.keys(doc)).toEqual(['met']); // a UHI document: name → histogram
    const met = doc.met;
    // underflow, 4 bins, overflow: 0.5 → bin 0, 1.5 ×2 → bin 1, 9 → overflow.
    expect(met.storage.values).toEqual([0, 1, 2, 0, 0, 1]);
    expect(met.axes[0]).toMatchObject({
      type: 'regular',
      lower: 0,
      upper: 4,
      bins: 4,
      underflow: true,
      overflow: true,
    });
    const root = JSON.parse(await readFile(join(out, 'met.root.json'), 'utf8'));
    expect(root._typename).toBe('TH1D');
    expect(root.fArray).toEqual([0, 1, 2, 0, 0, 1]);
    expect(await readFile(join(out, 'met.svg'), 'utf8')).toMatch(/^<svg/);
    expect(JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'))).toEqual(metrics);
  });

  it('names a histogram at the top level "histogram" and skips accumulator.json when nothing else is left', async () => {
    const out = join(dir, 'o2');
    const w = await writeOutputs(h1([1]), metrics, out);
    expect(w.files.sort()).toEqual(['histogram.json', 'metrics.json']);
  });

  it('rejects unknown formats with the list of known ones', () => {
    expect(() => parseFormats('json,eps')).toThrow(
      /unknown output format "eps".*choose from: json, root-json, root, svg, png/,
    );
  });

  it('refuses pdf with the advice draw gives: svg, then rsvg-convert', () => {
    expect(() => parseFormats('json,pdf')).toThrow(
      '--format pdf: PDF is not written (no PDF renderer is bundled) — use --format svg (vector, for slides) and convert each figure, e.g. rsvg-convert -f pdf out/mass.svg > out/mass.pdf; or --format png',
    );
  });
});
