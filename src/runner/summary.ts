/** The table printed at the end of a run. */
import { bytes, count, duration, si } from './format.ts';
import type { RunMetrics } from './metrics.ts';

export interface SummaryOutputs {
  readonly outDir: string;
  readonly histograms: number;
  readonly files: number;
}

export function formatSummary(m: RunMetrics, outputs?: SummaryOutputs): string {
  const rows: Array<[string, string]> = [];
  rows.push(['executor', m.executor === 'iterative' ? 'iterative' : `${m.executor} (${m.workers} workers)`]);
  rows.push([
    'chunks',
    `${count(m.chunks)} of ${count(m.chunksTotal)}${m.resumedChunks ? ` (${count(m.resumedChunks)} from checkpoint)` : ''}`,
  ]);
  rows.push([
    'files',
    `${count(m.files)}${m.preprocess.cacheHits ? ` (${m.preprocess.cacheHits} entry counts from cache)` : ''}`,
  ]);
  rows.push(['events', count(m.events)]);
  rows.push(['bytes read', bytes(m.bytesRead)]);
  rows.push(['columns', `${m.columns.length}${m.columns.length ? ` (${abbreviate(m.columns, 6)})` : ''}`]);
  rows.push(['wall time', duration(m.wallSeconds)]);
  const times = m.chunkSeconds;
  const max = times.reduce((a, b) => Math.max(a, b), 0);
  rows.push([
    'process time',
    `${duration(m.processSeconds)} summed over chunks${times.length ? ` (mean ${duration(m.processSeconds / times.length)}, max ${duration(max)})` : ''}`,
  ]);
  rows.push(['throughput', `${si(m.eventsPerSecond)} events/s`]);
  if (m.retries) rows.push(['retries', count(m.retries)]);
  rows.push(['skipped files', String(m.skippedFiles.length)]);
  if (outputs)
    rows.push([
      'output',
      `${outputs.outDir} (${plural(outputs.histograms, 'histogram')}, ${plural(outputs.files, 'file')})`,
    ]);
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  for (const s of m.skippedFiles) {
    const where = s.entries?.length ? ` entries ${s.entries.map(([a, b]) => `[${a}, ${b})`).join(' ')}` : '';
    lines.push(`    - ${s.file} (${s.dataset}, ${s.stage}${where}): ${s.reason}`);
  }
  return lines.join('\n');
}

function abbreviate(names: readonly string[], n: number): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')}, ...`;
}

/** `1 histogram`, `3 histograms`. */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
