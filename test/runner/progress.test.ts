import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/runner/progress.ts';
import { formatSummary } from '../../src/runner/summary.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';

function sink(isTTY: boolean) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    }),
    { isTTY, columns: 200 },
  );
  return { stream, text: () => text };
}

describe('progress and summary', () => {
  it('redraws one line on a TTY and prints plain lines otherwise', () => {
    const tty = sink(true);
    const r = progressReporter({ stream: tty.stream });
    r.onProgress!({ done: 5, total: 10, events: 50_000, elapsedSeconds: 2, resumed: 0 });
    r.finish();
    expect(tty.text()).toMatch(
      /^\r\x1b\[2K\[#{12}\.{12}\] 5\/10 chunks {2}50\.0 k ev {2}25\.0 k ev\/s {2}ETA 2\.00 s\r\x1b\[2K$/,
    );

    const plain = sink(false);
    const p = progressReporter({ stream: plain.stream });
    p.onProgress!({ done: 0, total: 4, events: 0, elapsedSeconds: 0, resumed: 0 });
    p.onProgress!({ done: 4, total: 4, events: 1234, elapsedSeconds: 1, resumed: 0 });
    expect(plain.text()).toBe('progress: 4/4 chunks, 1,234 events, 1.23 k events/s\n');
  });

  it('lists skipped files with their reason in the summary', () => {
    const m: RunMetrics = {
      events: 1000,
      chunks: 2,
      chunksTotal: 3,
      resumedChunks: 1,
      bytesRead: 2_500_000,
      columns: ['MET_pt'],
      processSeconds: 1,
      chunkSeconds: [0.25, 0.75],
      wallSeconds: 2,
      eventsPerSecond: 500,
      retries: 1,
      executor: 'threads',
      workers: 2,
      files: 2,
      preprocess: { cacheHits: 1, opened: 1, seconds: 0.1 },
      skippedFiles: [{ dataset: 'd', file: '/x/bad.root', tree: 'Events', reason: 'truncated', stage: 'preprocess' }],
    };
    const s = formatSummary(m, { outDir: 'out', histograms: 2, files: 4 });
    expect(s).toContain('threads (2 workers)');
    expect(s).toContain('2 of 3 (1 from checkpoint)');
    expect(s).toContain('2.50 MB');
    expect(s).toContain('mean 0.50 s, max 0.75 s');
    expect(s).toContain('- /x/bad.root (d, preprocess): truncated');
  });
});
