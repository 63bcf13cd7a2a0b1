/**
 * Progress output: a redrawn bar on a TTY (chunks, events/s, ETA), plain lines otherwise (about every
 * 10% or 10 s), so logs of batch jobs stay readable.
 */
import type { WorkItem } from '../dataset/chunking.ts';
import { describeItem } from './errors.ts';
import { count, duration, si } from './format.ts';
import type { RunHooks, RunProgress } from './run.ts';

export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force TTY or plain mode (default: the stream's isTTY). */
  tty?: boolean;
  /** No progress lines at all (notes and warnings still print). */
  quiet?: boolean;
}

export interface ProgressReporter extends RunHooks {
  /** Clear the bar before other output and at the end. */
  finish(): void;
}

export function progressReporter(opts: ProgressOptions = {}): ProgressReporter {
  const out = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(out.isTTY);
  let drawn = false;
  let lastDraw = 0;
  const skippedFiles = new Set<string>();
  let lastPlainAt = 0;
  let lastPlainFrac = -1;

  const clear = () => {
    if (drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const line = (msg: string) => {
    clear();
    out.write(`${msg}\n`);
  };

  let baseEvents: number | undefined; // events already in the checkpoint when resuming
  const stats = (p: RunProgress) => {
    baseEvents ??= p.done === p.resumed ? p.events : 0;
    const fresh = p.done - p.resumed;
    const rate = p.elapsedSeconds > 0 ? (p.events - baseEvents) / p.elapsedSeconds : 0;
    const eta = fresh > 0 ? ((p.total - p.done) * p.elapsedSeconds) / fresh : NaN;
    return { rate, eta };
  };

  return {
    onPlan(info) {
      if (opts.quiet) return;
      const extra = [
        info.cacheHits ? `${info.cacheHits} from cache` : '',
        info.skipped ? `${info.skipped} skipped` : '',
      ]
        .filter(Boolean)
        .join(', ');
      line(`${info.chunks} chunks from ${info.files} files${extra ? ` (${extra})` : ''}`);
    },
    onProgress(p) {
      if (opts.quiet) return;
      const { rate, eta } = stats(p);
      const now = performance.now();
      if (tty) {
        if (now - lastDraw < 100 && p.done < p.total) return;
        lastDraw = now;
        const width = 24;
        const filled = p.total ? Math.round((p.done / p.total) * width) : width;
        const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
        const text = `[${bar}] ${p.done}/${p.total} chunks  ${si(p.events)} ev  ${si(rate)} ev/s  ETA ${p.done >= p.total ? '0 s' : duration(eta)}`;
        out.write(`\r\x1b[2K${text.slice(0, (out.columns ?? 120) - 1)}`);
        drawn = true;
      } else {
        const frac = p.total ? p.done / p.total : 1;
        if (p.done === p.resumed && p.done < p.total) return; // nothing new to report yet
        if (p.done < p.total && frac - lastPlainFrac < 0.1 && now - lastPlainAt < 10_000) return;
        lastPlainFrac = frac;
        lastPlainAt = now;
        line(
          `progress: ${p.done}/${p.total} chunks, ${count(p.events)} events, ${si(rate)} events/s${p.done < p.total ? `, ETA ${duration(eta)}` : ''}`,
        );
      }
    },
    onRetry(item: WorkItem, attempt: number, error: unknown) {
      const m = error instanceof Error ? error.message : String(error);
      // chunk errors name their chunk already
      line(
        m.includes(describeItem(item)) ? `retry ${attempt}: ${m}` : `retry ${attempt} of ${describeItem(item)}: ${m}`,
      );
    },
    onSkip(item: WorkItem, reason: string) {
      // one line per file: its chunks all go together (the summary lists the file with its entry ranges)
      const key = `${item.dataset}\u0000${item.file}`;
      if (skippedFiles.has(key)) return;
      skippedFiles.add(key);
      line(`skipping file ${item.file} (dataset ${item.dataset}): ${reason}`);
    },
    onNote(message: string) {
      line(message);
    },
    finish: clear,
  };
}
