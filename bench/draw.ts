/**
 * ADL queries 1–4 as `ristretto draw` expressions vs the ADL processors (processors/adl) through runAnalysis
 * (iterative executor, same chunk size), interleaved A/B per repetition; checks that both fill the same counts.
 *
 *   npx tsx bench/draw.ts [--file bench/data/adl-2M.parquet] [--reps 3] [--chunksize 200000]
 */
import { resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { draw } from '../src/cli/draw.ts';
import type { Hist } from '../src/hist/hist.ts';
import { runAnalysis } from '../src/runner/run.ts';
import { adlFile, benchArgs, int, text } from './lib.ts';

const a = benchArgs('ADL queries 1–4 as `ristretto draw` expressions vs the ADL processors, A/B.', {
  file: text('nested-layout ADL Parquet file (default bench/data/adl-2M.parquet)', undefined, '<file>'),
  reps: int('repetitions', 3, 1),
  chunksize: int('events per chunk', 200_000, 1),
});
const file = adlFile(a.file);
const { reps, chunksize } = a;

const QUERIES = [
  { q: 'query-1', expr: 'MET_pt', bins: [100, 0, 2000] },
  { q: 'query-2', expr: 'Jet_pt', bins: [100, 15, 60] },
  { q: 'query-3', expr: 'Jet_pt[abs(Jet_eta) < 1]', bins: [100, 15, 60] },
  { q: 'query-4', expr: 'MET_pt', cut: 'count(Jet_pt > 40) >= 2', bins: [100, 0, 2000] },
] as const;

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(
  `file ${file}, chunksize ${chunksize}, reps ${reps}, ${cpus().length} cores ${cpus()[0]?.model}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('| query | expression | draw (s, median) | processor (s, median) | entries |');
console.log('| --- | --- | --- | --- | --- |');
for (const { q, expr, bins, ...rest } of QUERIES) {
  const cut = 'cut' in rest ? rest.cut : undefined;
  const td: number[] = [];
  const tp: number[] = [];
  let entries = 0;
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    const d = await draw(file, expr, { cut, bins: [...bins], chunksize });
    td.push((performance.now() - t) / 1000);
    t = performance.now();
    const p = await runAnalysis<Record<string, Hist>>({
      fileset: [{ name: 'd', files: [{ path: file, tree: 'Events' }], metadata: {} }],
      processor: resolve('processors', 'adl', `${q}.ts`),
      executor: 'iterative',
      chunksize,
      cacheFile: false,
    });
    tp.push((performance.now() - t) / 1000);
    const dv = Array.from(d.hist.values({ flow: true }));
    const pv = Array.from(p.accumulator[q].values({ flow: true }));
    if (dv.join() !== pv.join()) throw new Error(`${q}: draw and processor histograms differ`);
    entries = d.entries;
  }
  console.log(
    `| ${q} | \`${expr}\`${cut ? ` --cut \`${cut}\`` : ''} | ${median(td).toFixed(2)} (${td.map((x) => x.toFixed(2)).join(', ')}) | ${median(tp).toFixed(2)} (${tp.map((x) => x.toFixed(2)).join(', ')}) | ${entries} |`,
  );
}
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
