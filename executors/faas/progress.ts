/**
 * Progress of a FaaS run: on a TTY, the runner's bar plus one redrawn line per endpoint (chunks running
 * and done, events/s, slow or offline); elsewhere the runner's plain lines are kept as they are and the
 * per-endpoint table is printed once at the end.
 */
import type { ProgressReporter } from '../../src/runner/progress.ts';
import { count, duration, si } from '../../src/runner/format.ts';
import type { RunProgress } from '../../src/runner/run.ts';
import type { EndpointProgress, FaasExecutor } from './executor.ts';

export interface FaasProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  tty?: boolean;
  quiet?: boolean;
}

/**
 * One line per endpoint: chunks started and queued there, done, events/s, and the retries, tail copies
 * and failures it caused when there were any.
 *
 * @example
 * endpointLines(executor.progress());
 * // ['  site-a    2 running    1 queued     14 done  1.23 M ev/s', '  site-b    0 running    0 queued      3 done  300 k ev/s  1 retry  offline']
 */
export function endpointLines(eps: readonly EndpointProgress[]): string[] {
  const w = Math.max(...eps.map((e) => e.name.length));
  const plural = (n: number, one: string, many: string) => (n ? `  ${count(n)} ${n === 1 ? one : many}` : '');
  return eps.map((e) => {
    const state = !e.online ? '  offline' : e.slow ? '  slow' : '';
    const extra =
      plural(e.retries, 'retry', 'retries') +
      plural(e.tailCopies, 'tail copy', 'tail copies') +
      plural(e.failures, 'failure', 'failures');
    return `  ${e.name.padEnd(w)}  ${String(e.started).padStart(3)} running  ${String(e.queued).padStart(3)} queued  ${String(e.done).padStart(5)} done  ${si(e.eventsPerSecond)} ev/s${extra}${state}`;
  });
}

/** Wrap the runner's reporter so it also shows per-endpoint progress. */
export function faasProgress(
  base: ProgressReporter,
  executor: FaasExecutor,
  opts: FaasProgressOptions = {},
): ProgressReporter {
  const out = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(out.isTTY);
  if (opts.quiet || !tty) return base;
  let drawn = 0;
  let lastDraw = 0;
  const clear = () => {
    if (!drawn) return;
    out.write('\r\x1b[2K');
    for (let i = 1; i < drawn; i++) out.write('\x1b[1A\x1b[2K');
    drawn = 0;
  };
  const draw = (p: RunProgress) => {
    const now = performance.now();
    if (now - lastDraw < 100 && p.done < p.total) return;
    lastDraw = now;
    const fresh = p.done - p.resumed;
    const rate = p.elapsedSeconds > 0 ? p.events / p.elapsedSeconds : 0;
    const eta = fresh > 0 ? ((p.total - p.done) * p.elapsedSeconds) / fresh : NaN;
    const width = 24;
    const filled = p.total ? Math.round((p.done / p.total) * width) : width;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} chunks  ${si(p.events)} ev  ${si(rate)} ev/s  ETA ${p.done >= p.total ? '0 s' : duration(eta)}`;
    const cols = (out.columns ?? 120) - 1;
    const lines = [bar, ...endpointLines(executor.progress())].map((l) => l.slice(0, cols));
    clear();
    out.write(lines.join('\n'));
    drawn = lines.length;
  };
  const around =
    <A extends unknown[]>(fn: ((...a: A) => void) | undefined) =>
    (...a: A) => {
      clear();
      fn?.(...a);
    };
  return {
    onPlan: around(base.onPlan?.bind(base)),
    onProgress: draw,
    onRetry: around(base.onRetry?.bind(base)),
    onSkip: around(base.onSkip?.bind(base)),
    onCheckpoint: base.onCheckpoint?.bind(base),
    onNote: around(base.onNote?.bind(base)),
    finish() {
      clear();
      base.finish();
    },
  };
}

/** The end-of-run note: chunks per endpoint and what tail retry and fault tolerance did. */
export function faasSummary(executor: FaasExecutor): string {
  const f = executor.faas;
  const parts = [
    `${count(f.tailRetries)} tail retries`,
    `${count(f.duplicatesDiscarded)} late duplicates discarded`,
    `${count(f.moved)} chunks moved`,
  ];
  if (f.stagedResults) parts.push(`${count(f.stagedResults)} results staged out`);
  return ['faas endpoints:', ...endpointLines(executor.progress()), `  ${parts.join(', ')}`].join('\n');
}
