/**
 * Redraw a scaling study's plots from its summary JSON, without running it again:
 *
 *   npx tsx bench/scaling/replot.ts bench/scaling/results/full-summary-12.json bench/scaling/results/full-
 *
 * writes <prefix>strong.{svg,png} and <prefix>weak.{svg,png} (log-log, dashed ideal lines).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { benchArgs, text, usageFail } from '../lib.ts';
import { seriesSVG, svgPNG, type Series } from './plot.ts';

interface Stat {
  mean: number;
  sd: number;
}
type Row = Record<string, unknown> & { workers: number; concurrent: number; idealSeconds?: number };

const { summary: file, prefix } = benchArgs(
  "Redraw a scaling study's plots from its summary JSON, without running it again.",
  {},
  {
    summary: text('the summary JSON of a study', undefined, '<file>'),
    prefix: text('start of the output file names', ''),
  },
);
if (!file) usageFail('give the summary JSON: npx tsx bench/scaling/replot.ts SUMMARY.json [OUTPUT-PREFIX]');
const s = JSON.parse(readFileSync(file, 'utf8')) as {
  config: { name: string; executors: string[]; weak?: { workersPerAnalysis: number } };
  strong?: Row[];
  weak?: Row[];
};
const executors = s.config.executors;

function series(rows: Row[], x: (r: Row) => number, suffix: (r: Row) => string): Series[] {
  const by = new Map<string, { x: number[]; y: number[]; ey: number[] }>();
  for (const r of rows)
    for (const e of executors) {
      const st = r[e] as Stat | undefined;
      if (!st) continue;
      const key = `${e}${suffix(r)}`;
      const l = by.get(key) ?? { x: [], y: [], ey: [] };
      l.x.push(x(r));
      l.y.push(st.mean);
      l.ey.push(st.sd);
      by.set(key, l);
    }
  return [...by].map(([label, l]) => ({ label, ...l }));
}

async function write(name: string, svg: string): Promise<void> {
  writeFileSync(`${prefix}${name}.svg`, svg);
  writeFileSync(`${prefix}${name}.png`, await svgPNG(svg));
}

if (s.strong?.length) {
  const many = new Set(s.strong.map((r) => r.concurrent)).size > 1;
  const lines = series(
    s.strong,
    (r) => r.workers,
    (r) => (many ? `, ${r.concurrent} analyses` : ''),
  );
  const ideal = s.strong.filter((r) => r.concurrent === 1 && typeof r.idealSeconds === 'number');
  if (ideal.length)
    lines.push({
      label: 'ideal',
      x: ideal.map((r) => r.workers),
      y: ideal.map((r) => r.idealSeconds!),
      ey: ideal.map(() => 0),
    });
  await write(
    'strong',
    await seriesSVG(lines, {
      title: `Strong scaling (${s.config.name})`,
      xTitle: 'workers',
      yTitle: 'makespan [s]',
      ideal: 'strong',
    }),
  );
}
if (s.weak?.length) {
  const w = s.config.weak?.workersPerAnalysis ?? 1;
  await write(
    'weak',
    await seriesSVG(
      series(
        s.weak,
        (r) => r.concurrent,
        () => '',
      ),
      {
        title: `Weak scaling, ${w} workers per analysis (${s.config.name})`,
        xTitle: 'concurrent analyses',
        yTitle: 'makespan [s]',
        ideal: 'weak',
      },
    ),
  );
}
