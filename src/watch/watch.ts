/**
 * `run-analysis --watch`: keep running, process files that appear under the dataset's globs (and files
 * that change size or modification time, again from scratch), and merge everything into one total.
 *
 * Each file's raw result (before postprocess) is kept, encoded, in `<out>/.ristretto-watch/state.bin`
 * with the file's size and mtime, written atomically after every file. The total is the merge of the
 * per-file results in a fixed (sorted) order, so it is the same however the files arrived, and a
 * replaced file replaces its contribution instead of adding to it, and a deleted file (or one the
 * dataset JSON no longer lists) takes its contribution out of the total. Ctrl-C stops between or during
 * a file; rerunning with --watch picks up where it stopped.
 *
 * Remote files (http(s):// and other URLs) are read once: the first time they are listed, never
 * re-checked for changes (their contribution goes only when the dataset JSON stops listing them).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { accumulate, decode, encode } from '../accumulate/index.ts';
import { loadFileset, type Dataset, type FileSpec } from '../dataset/fileset.ts';
import { RistrettoError } from '../errors/index.ts';
import { bundleProcessor, loadBundle } from '../processor/bundle.ts';
import type { Processor } from '../processor/types.ts';
import type { RunMetrics } from '../runner/metrics.ts';
import { freshAccumulator, runAnalysis, RunInterruptedError, type RunOptions } from '../runner/run.ts';

/** The watch state cannot be used (written by another processor, or damaged). */
export class WatchStateError extends RistrettoError {}

interface FileEntry {
  size: number;
  mtimeMs: number;
  events: number;
  /** encode() of the file's raw result. */
  result: Uint8Array;
}

interface WatchState {
  processorHash: string;
  files: Record<string, FileEntry>;
}

export interface WatchCycle {
  /** The merged and postprocessed total. */
  accumulator: unknown;
  /** Metrics summed over all files so far. */
  metrics: RunMetrics;
  datasets: readonly Dataset[];
  /** Files processed in this cycle (`dataset: path`). */
  processed: string[];
  /** Files whose contribution left the total in this cycle: deleted, or no longer listed (`dataset: path (N events)`). */
  removed: string[];
  /** Files in the total. */
  files: number;
}

export interface WatchOptions
  extends Omit<RunOptions, 'fileset' | 'resume' | 'checkpoint' | 'outDir' | 'postprocess' | 'cacheFile' | 'maxchunks'> {
  /** Dataset JSON; its globs are expanded again on every poll. */
  datasetFile: string;
  /** Output folder: the watch state lives in `<outDir>/.ristretto-watch/`. */
  outDir: string;
  /** Seconds between polls (default 5). */
  intervalSeconds?: number;
  /** Stops watching (Ctrl-C); a file in progress is dropped and redone next time. */
  signal: AbortSignal;
  /** After each cycle that changed the total (write outputs, update the live view). */
  onCycle(c: WatchCycle): Promise<void> | void;
  /** Notes (files found, files not ready yet, resumed state). */
  onNote?(message: string): void;
}

const keyOf = (d: Dataset, f: FileSpec) => `${d.name}\u0000${f.path}\u0000${f.tree ?? ''}`;
/** `dataset: path` of a state key, for notes. */
const describeKey = (key: string) => key.split('\u0000').slice(0, 2).join(': ');
const isRemote = (path: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(path);

/**
 * Take out of `state` the files that are gone: local files that no longer exist, and (when the dataset
 * JSON could be read) any file it no longer lists. Returns their `dataset: path` descriptions.
 */
async function dropGone(state: WatchState, listed: ReadonlySet<string> | undefined): Promise<string[]> {
  const gone: string[] = [];
  for (const key of Object.keys(state.files)) {
    const path = key.split('\u0000')[1];
    const missing =
      (listed !== undefined && !listed.has(key)) ||
      (!isRemote(path) &&
        !(await stat(path).then(
          () => true,
          () => false,
        )));
    if (!missing) continue;
    gone.push(`${describeKey(key)} (${state.files[key].events} events)`);
    delete state.files[key];
  }
  return gone;
}

async function readState(file: string, hash: string, note: (m: string) => void): Promise<WatchState> {
  if (!existsSync(file)) return { processorHash: hash, files: {} };
  let s: WatchState;
  try {
    s = decode(await readFile(file)) as WatchState;
  } catch (e) {
    throw new WatchStateError(
      `the watch state ${file} cannot be read: ${(e as Error).message}`,
      { file },
      'delete it to process every file again',
    );
  }
  if (s.processorHash !== hash) {
    note(`the processor changed since ${file} was written: processing every file again`);
    return { processorHash: hash, files: {} };
  }
  note(`resuming: ${Object.keys(s.files).length} files already processed`);
  return s;
}

async function writeState(file: string, s: WatchState): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, encode(s));
  await rename(tmp, file);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Watch a dataset until `signal` aborts.
 *
 * @example
 * const stop = new AbortController();
 * process.on('SIGINT', () => stop.abort());
 * await watchAnalysis({
 *   datasetFile: 'datasets.json', processor: 'processor.ts', outDir: 'out', signal: stop.signal,
 *   onCycle: (c) => writeOutputs(c.accumulator, c.metrics, 'out'),
 * });
 */
export async function watchAnalysis(opts: WatchOptions): Promise<void> {
  const note = opts.onNote ?? (() => undefined);
  // The bundle, as in runAnalysis: plain JS, so the CLI needs no TypeScript loader.
  const bundle = await bundleProcessor(opts.processor);
  const { hash } = bundle;
  const processor = (await loadBundle(bundle)) as Processor<unknown>;
  const stateFile = join(opts.outDir, '.ristretto-watch', 'state.bin');
  const state = await readState(stateFile, hash, note);
  const notReady = new Map<string, string>(); // key → "size:mtime" last refused, to note it once
  let lastMetrics: RunMetrics | undefined;
  let lastDatasets: Dataset[] = [];
  let first = true;
  const { datasetFile, outDir: _o, intervalSeconds, signal, onCycle, onNote: _n, ...runOpts } = opts;
  while (!signal.aborted) {
    let datasets: Dataset[] | undefined;
    try {
      datasets = await loadFileset(datasetFile, { treeName: opts.treeName });
      lastDatasets = datasets;
    } catch (e) {
      // a glob that matches nothing yet is normal while waiting for the first files (or after the
      // last one was deleted: deleted files still leave the total, below)
      if (first) note(`waiting for files: ${(e as Error).message}`);
    }
    const listed = datasets ? new Set(datasets.flatMap((d) => d.files.map((f) => keyOf(d, f)))) : undefined;
    const gone = await dropGone(state, listed);
    if (gone.length) {
      await writeState(stateFile, state);
      for (const g of gone) note(`${g} is gone: its contribution is removed from the total`);
    }
    const processed: string[] = [];
    const todo: Array<{ d: Dataset; f: FileSpec; key: string; size: number; mtimeMs: number }> = [];
    for (const d of datasets ?? [])
      for (const f of d.files) {
        const key = keyOf(d, f);
        if (isRemote(f.path)) {
          // read once: a URL has no cheap size and mtime to compare
          if (!state.files[key] && !notReady.has(key)) todo.push({ d, f, key, size: -1, mtimeMs: -1 });
          continue;
        }
        const st = await stat(f.path).catch(() => undefined);
        if (!st) continue;
        const old = state.files[key];
        if (old && old.size === st.size && old.mtimeMs === st.mtimeMs) continue;
        if (notReady.get(key) === `${st.size}:${st.mtimeMs}`) continue;
        todo.push({ d, f, key, size: st.size, mtimeMs: st.mtimeMs });
      }
    for (const t of todo.sort((a, b) => (a.key < b.key ? -1 : 1))) {
      if (signal.aborted) break;
      let r;
      try {
        r = await runAnalysis({
          ...runOpts,
          fileset: [{ ...t.d, files: [t.f] }],
          postprocess: false,
          checkpoint: false,
          cacheFile: false,
          signal,
        });
      } catch (e) {
        if (e instanceof RunInterruptedError) break;
        // a file still being copied fails to open or read: try again once it changes
        notReady.set(t.key, `${t.size}:${t.mtimeMs}`);
        note(
          `${t.d.name}: ${t.f.path} not processed (${(e as Error).message.split('\n')[0]}); ${isRemote(t.f.path) ? 'retried when --watch is started again' : 'retried when it changes'}`,
        );
        continue;
      }
      state.files[t.key] = {
        size: t.size,
        mtimeMs: t.mtimeMs,
        events: r.metrics.events,
        result: encode(r.accumulator),
      };
      await writeState(stateFile, state);
      lastMetrics = r.metrics;
      processed.push(`${t.d.name}: ${t.f.path}`);
    }
    if (processed.length || gone.length || (first && Object.keys(state.files).length)) {
      // the total from the stored results, in key order: independent of arrival order
      let total = freshAccumulator(processor, opts.processor);
      let events = 0;
      for (const k of Object.keys(state.files).sort()) {
        total = accumulate(total, decode(state.files[k].result));
        events += state.files[k].events;
      }
      const post = await processor.postprocess?.(total);
      if (post !== undefined) total = post;
      const n = Object.keys(state.files).length;
      const metrics = { ...(lastMetrics ?? ({} as RunMetrics)), events, files: n } as RunMetrics;
      await onCycle({ accumulator: total, metrics, datasets: lastDatasets, processed, removed: gone, files: n });
    }
    first = false;
    if (!signal.aborted) await sleep((intervalSeconds ?? 5) * 1000, signal);
  }
}
