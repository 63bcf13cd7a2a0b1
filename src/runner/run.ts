/**
 * The runner: dataset JSON + processor file → work items → executor → one merged accumulator.
 *
 * Results are merged in work-item order while at most a small window of items is in flight, so memory
 * holds a few accumulators (not one per chunk). Consecutive items form merge groups (merge-groups.ts):
 * a group's chunk results are summed first, then the sum is added to the total, so the order of every
 * floating-point sum is the same for every executor, worker count and resumed run, and an executor that
 * runs batches (a thread pool) can sum a group where it runs it. Checkpoints store the merged prefix of
 * whole groups.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { accumulate, copyAccumulator, decode, encode } from '../accumulate/index.ts';
import type { WorkItem } from '../dataset/chunking.ts';
import { loadFileset, type Dataset } from '../dataset/fileset.ts';
import { planWork, type SkippedFile } from '../dataset/preprocess.ts';
import { brokenInvariant, RistrettoError, UserCodeError } from '../errors/index.ts';
// Registers the Hist decoder in this copy of Ristretto: results decode into this copy's classes even when
// nothing else here imported them (the processor's bundle registers it in its own copy only).
import '../hist/hist.ts';
import { bundleProcessor, loadBundle } from '../processor/bundle.ts';
import type { Processor } from '../processor/types.ts';
import {
  checkpointPath,
  jobKey,
  readCheckpoint,
  removeCheckpoint,
  resumeMode,
  workKey,
  writeCheckpoint,
  type CarriedMetrics,
} from './checkpoint.ts';
import { describeItem, FileReadError, thrownText } from './errors.ts';
import type { Executor, ExecutorFactory, JobSpec } from './executor.ts';
import { InProcessExecutor } from './in-process.ts';
import { batchGroup, mergeGroups } from './merge-groups.ts';
import type { RunMetrics } from './metrics.ts';
import type { ChunkMetrics } from './process-chunk.ts';

export interface RunOptions {
  /** Dataset JSON path, or datasets already resolved. */
  fileset: string | readonly Dataset[];
  /** Processor module path (.ts or .js). */
  processor: string;
  /**
   * Where chunks run: an executor instance (which the caller closes), a factory the runner calls once the
   * processor is loaded (and closes what it built; see `executorFactory` in executors/), or `'iterative'`,
   * the default: one chunk at a time in this process.
   */
  executor?: 'iterative' | Executor | ExecutorFactory;
  /** Worker count handed to an executor factory (threads: worker threads). */
  workers?: number;
  /** Entries per chunk (default 100000). */
  chunksize?: number;
  /** Cut chunks at cluster/row-group boundaries. */
  align?: boolean;
  /** Process only the first N work items. */
  maxchunks?: number;
  /** Extra attempts for a failed chunk (default 0). Applies to executors the runner creates; an executor instance owns its own retries. */
  retries?: number;
  /** Leave out files that cannot be opened or read (listed in metrics.skippedFiles). */
  skipBadFiles?: boolean;
  /** Tree for dataset entries that name none (default: `Events`, or the file's only tree). */
  treeName?: string;
  /** Output folder: checkpoints and the preprocessing cache live here. Without it there are neither. */
  outDir?: string;
  /** Preprocessing cache file (default `<outDir>/.ristretto-cache/preprocess.json`; `false` disables it). */
  cacheFile?: string | false;
  /** Checkpoint after this many merged chunks (default 20) ... */
  checkpointEvery?: number;
  /** ... or after this many seconds since the last one (default 30), whichever first. `checkpoint: false` disables. */
  checkpointSeconds?: number;
  checkpoint?: boolean;
  /** Continue from the checkpoint in outDir. */
  resume?: boolean;
  /** Files preprocessed at once (default 8). */
  preprocessConcurrency?: number;
  /** Progress and notices. */
  hooks?: RunHooks;
  /** Run the processor's postprocess on the result (default true; watch mode merges raw results first). */
  postprocess?: boolean;
  /** Stops the run: running chunks are abandoned, the merged prefix is checkpointed, RunInterruptedError is thrown. */
  signal?: AbortSignal;
}

export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly events: number;
  readonly elapsedSeconds: number;
  /** Chunks taken from a checkpoint (they count in `done` but took no time in this run). */
  readonly resumed: number;
}

export interface RunHooks {
  onPlan?(info: {
    chunks: number;
    files: number;
    skipped: number;
    cacheHits: number;
    opened: number;
    items: readonly WorkItem[];
  }): void;
  onProgress?(p: RunProgress): void;
  onRetry?(item: WorkItem, attempt: number, error: unknown): void;
  onSkip?(item: WorkItem, reason: string): void;
  onCheckpoint?(done: number, total: number): void;
  /**
   * A chunk's result was merged; `accumulator` is the merged total so far (not a copy: read it before
   * the next merge, e.g. the live view snapshots it at most once a second).
   */
  onMerged?(chunk: { item: WorkItem; events: number; accumulator: unknown }): void;
  /** Informational messages (resume state, stale checkpoints). */
  onNote?(message: string): void;
  /**
   * Work that must get the main thread between two chunks an in-process executor runs, beyond one
   * event-loop turn: the live view (`run-analysis --serve`) answers a loading page's requests here, which
   * arrive one round trip after another, before the next chunk holds the thread again. Handed to the
   * executor the runner builds (ExecutorOptions.betweenChunks); an executor given ready-made has its own.
   */
  betweenChunks?(): Promise<void>;
}

export interface RunResult<A = unknown> {
  /** The merged (and postprocessed) accumulator. */
  readonly accumulator: A;
  readonly metrics: RunMetrics;
  readonly items: readonly WorkItem[];
  /** The datasets the run read (with their metadata), in dataset JSON order. */
  readonly datasets: readonly Dataset[];
}

/** Failure while merging a chunk's result into the total (a processor returning inconsistent shapes). */
export class MergeChunkError extends RistrettoError {}

/** The run was stopped through `RunOptions.signal` (Ctrl-C in the CLI); the merged prefix is checkpointed. */
export class RunInterruptedError extends RistrettoError {}

/** The processor's `postprocess` threw; every chunk is merged and, with an output folder, checkpointed. */
export class PostprocessError extends UserCodeError {}

/**
 * `processor.accumulator()` in this module's copy of Ristretto's classes. The processor runs from its
 * bundle, which carries its own copy of them (its Hist is not this thread's Hist), while chunk results
 * and checkpoints are decoded into this copy: one trip through the codec makes the starting total
 * merge with them like any chunk result.
 *
 * @example
 * ```ts
 * let total = freshAccumulator(processor, 'zmumu.ts');
 * total = accumulate(total, decode(result.accumulator));
 * ```
 */
export function freshAccumulator<A>(processor: Processor<A>, source: string): A {
  let initial: A;
  try {
    initial = processor.accumulator();
  } catch (e) {
    throw new UserCodeError(
      `accumulator() of ${source} threw: ${thrownText(e)}`,
      { file: source },
      'fix accumulator() in the processor',
      { cause: e },
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = encode(initial);
  } catch (e) {
    throw new MergeChunkError(
      `the accumulator() of ${source} cannot be encoded: ${(e as Error).message}`,
      { file: source },
      'accumulator() must return what process() returns: histograms, numbers, typed arrays, columns, Maps, Sets, plain objects',
      { cause: e },
    );
  }
  return decode(bytes) as A;
}

/** Run a processor over a dataset. */
export async function runAnalysis<A = unknown>(opts: RunOptions): Promise<RunResult<A>> {
  const t0 = performance.now();
  const hooks = opts.hooks ?? {};
  if (typeof opts.executor === 'string' && opts.executor !== 'iterative')
    throw new RistrettoError(
      `runAnalysis takes an executor object or factory, not the name "${opts.executor}"`,
      { executor: opts.executor },
      "pass executorFactory('threads') from ristretto's executors (or an executor instance); only 'iterative' is built in",
    );
  const datasets =
    typeof opts.fileset === 'string' ? await loadFileset(opts.fileset, { treeName: opts.treeName }) : opts.fileset;
  // The executor is built first, so that a thread pool starts its workers (~0.3–0.5 CPU-s each to load the
  // runtime) right away; the processor is bundled and loaded while the files' footers are read, and the
  // bundle goes to the workers as soon as it exists: none of these waits for another.
  // This thread runs the same plain-JS bundle the workers load: no TypeScript loader is needed here.
  const given = opts.executor ?? 'iterative';
  const ownExecutor = typeof given !== 'object';
  const context = {
    workers: opts.workers,
    retries: opts.retries,
    onRetry: hooks.onRetry,
    betweenChunks: hooks.betweenChunks?.bind(hooks),
  };
  const built: Executor =
    typeof given === 'object' ? given : typeof given === 'function' ? given(context) : new InProcessExecutor(context);
  built.prestart?.();
  const loading = bundleProcessor(opts.processor).then(async (bundle) => {
    built.preload?.(bundle);
    const processor = (await loadBundle(bundle)) as Processor<A>;
    return { bundle, processor };
  });
  const tPre = performance.now();
  const cacheFile =
    opts.cacheFile === false
      ? undefined
      : (opts.cacheFile ?? (opts.outDir ? join(opts.outDir, '.ristretto-cache', 'preprocess.json') : undefined));
  const planning = planWork(datasets, {
    chunksize: opts.chunksize,
    align: opts.align,
    maxchunks: opts.maxchunks,
    skipBadFiles: opts.skipBadFiles,
    cacheFile,
    concurrency: opts.preprocessConcurrency,
  }).then((p) => ({ plan: p, seconds: (performance.now() - tPre) / 1000 }));
  const [loaded, planned] = await Promise.allSettled([loading, planning]);
  // Until the chunk loop's own cleanup takes over, a failure must not leave an executor we built running.
  const abandon = async (e: unknown): Promise<never> => {
    if (ownExecutor) await built.close().catch(() => undefined);
    throw e;
  };
  // A processor that does not load is reported first, as when the two ran one after the other.
  if (loaded.status === 'rejected') return abandon(loaded.reason);
  const { bundle, processor } = loaded.value;
  if (planned.status === 'rejected') return abandon(planned.reason);
  const { plan, seconds: preprocessSeconds } = planned.value;
  const items = plan.items;
  hooks.onPlan?.({
    chunks: items.length,
    files: plan.files.length,
    skipped: plan.skipped.length,
    cacheHits: plan.cacheHits,
    opened: plan.opened,
    items,
  });

  const metadata = Object.fromEntries(datasets.map((d) => [d.name, d.metadata]));
  const key = jobKey(bundle.hash, items, metadata);
  const work = workKey(items, metadata);
  // Checkpoints name the processor version whose process() ran their chunks: this one, unless a resumed
  // complete checkpoint of an earlier version only gets postprocessed (see resumeMode).
  let chunksKey = key;
  const ckptFile = opts.outDir && opts.checkpoint !== false ? checkpointPath(opts.outDir) : undefined;
  let acc: A;
  let done = 0;
  let carried: CarriedMetrics = {
    events: 0,
    bytesRead: 0,
    columns: [],
    processSeconds: 0,
    chunkSeconds: [],
    retries: 0,
    skipped: [],
  };
  const prior = ckptFile && opts.resume ? await readCheckpoint(ckptFile).catch(abandon) : undefined;
  if (!opts.resume && ckptFile && existsSync(ckptFile))
    hooks.onNote?.(
      `starting over; the unfinished run's checkpoint in ${opts.outDir} will be replaced (--resume continues it instead)`,
    );
  if (opts.resume && !ckptFile)
    hooks.onNote?.('--resume needs an output folder with a checkpoint; starting from the beginning');
  else if (opts.resume && !prior) hooks.onNote?.(`no checkpoint in ${opts.outDir}; starting from the beginning`);
  if (prior) {
    let mode: 'continue' | 'postprocess';
    try {
      mode = resumeMode(prior.header, { jobKey: key, workKey: work }, opts.outDir ?? ckptFile ?? '');
    } catch (e) {
      return abandon(e);
    }
    acc = prior.accumulator as A;
    done = prior.header.done;
    carried = prior.header.metrics;
    if (mode === 'postprocess') {
      chunksKey = prior.header.jobKey;
      hooks.onNote?.(
        `resuming: all ${done} chunks were merged by an earlier version of ${opts.processor}; ${processor.postprocess ? 'only postprocess() runs now' : 'no chunk runs again'} — if you changed process() or accumulator(), rerun without --resume`,
      );
    } else hooks.onNote?.(`resuming: ${done} of ${items.length} chunks already done`);
  } else {
    try {
      acc = freshAccumulator(processor, opts.processor);
    } catch (e) {
      return abandon(e);
    }
  }
  const resumed = done;

  const executor: Executor = built;
  const retriesBefore = executor.stats.retries;

  // Running totals (carried over from the checkpoint when resuming).
  let events = carried.events;
  let bytesRead = carried.bytesRead;
  let processSeconds = carried.processSeconds;
  const chunkSeconds = [...carried.chunkSeconds];
  const columns = new Set(carried.columns);
  const skippedByFile = new Map<string, SkippedFile>();
  for (const s of carried.skipped)
    if (s.stage === 'process')
      skippedByFile.set(`${s.dataset}\u0000${s.file}\u0000${s.tree}`, { ...s, entries: [...(s.entries ?? [])] });
  let chunks = chunkSeconds.length;

  const snapshotMetrics = (): CarriedMetrics => ({
    events,
    bytesRead,
    columns: [...columns].sort(),
    processSeconds,
    chunkSeconds: [...chunkSeconds],
    retries: carried.retries + executor.stats.retries - retriesBefore,
    skipped: [...skippedByFile.values()],
  });

  // Columns to read up front: those a resumed run's checkpoint lists as read, then what processors used.
  const needed = new Set(columns);
  let job: JobSpec = { processor: bundle, metadata, prefetch: [...needed] };
  const badFiles = new Map<string, string>();
  const fileKey = (it: WorkItem) => `${it.dataset}\u0000${it.file}\u0000${it.tree}`;
  // With --skipbadfiles a file counts all or nothing, so results do not depend on where (or on which
  // executor) a damaged file failed: the merged state is saved when a file's first chunk is merged
  // and restored if a later chunk of that file is skipped. A file's chunks are consecutive items.
  interface FileStart {
    key: string;
    done: number;
    acc: A;
    events: number;
    bytesRead: number;
    processSeconds: number;
    chunks: number;
    chunkSeconds: number;
    /** Chunks of this file merged so far. */
    merged: WorkItem[];
  }
  let fileStart: FileStart | undefined;
  const startsFile = (i: number) => i === 0 || fileKey(items[i]) !== fileKey(items[i - 1]);
  const endsFile = (i: number) => i === items.length - 1 || fileKey(items[i]) !== fileKey(items[i + 1]);

  /** Results of one unit: its items' accumulators summed in order (encoded), and each item's metrics. */
  type Outcome =
    | { kind: 'ok'; accumulator: Uint8Array; metrics: readonly ChunkMetrics[] }
    | { kind: 'skip'; reason: string }
    | { kind: 'fatal' };
  let fail!: (e: unknown) => void;
  const fatal = new Promise<never>((_, reject) => (fail = reject));
  fatal.catch(() => undefined);
  const interrupt = () =>
    fail(
      new RunInterruptedError(
        `interrupted after ${done} of ${items.length} chunks`,
        { done, total: items.length },
        ckptFile
          ? 'rerun the same command with --resume to continue'
          : 'rerun to start over (give an output folder to keep checkpoints)',
      ),
    );
  if (opts.signal?.aborted) interrupt();
  opts.signal?.addEventListener('abort', interrupt, { once: true });
  /**
   * What is handed out at once: a whole merge group to an executor that runs batches, else one item (the
   * group's sum is then built here as its items come back).
   */
  interface Unit {
    readonly first: number;
    readonly end: number;
    readonly groupStart: number;
    readonly groupEnd: number;
  }
  const batching = typeof executor.submitBatch === 'function';
  const units: Unit[] = [];
  for (const [a, b] of mergeGroups(items, done)) {
    if (batching && batchGroup(a, b, items.length, executor.concurrency))
      units.push({ first: a, end: b, groupStart: a, groupEnd: b });
    else for (let i = a; i < b; i++) units.push({ first: i, end: i + 1, groupStart: a, groupEnd: b });
  }
  const submit = (u: Unit): Promise<Outcome> => {
    const first = items[u.first];
    const bad = badFiles.get(fileKey(first));
    if (bad !== undefined) return Promise.resolve({ kind: 'skip', reason: bad });
    const running =
      u.end - u.first > 1 && executor.submitBatch
        ? executor.submitBatch(items.slice(u.first, u.end), job)
        : executor.submit(first, job).then((r) => ({ accumulator: r.accumulator, metrics: [r.metrics] }));
    return running.then(
      (r): Outcome => ({ kind: 'ok', accumulator: r.accumulator, metrics: r.metrics }),
      (e): Outcome => {
        if (e instanceof FileReadError && opts.skipBadFiles) {
          if (!badFiles.has(fileKey(first))) badFiles.set(fileKey(first), e.readerMessage);
          return { kind: 'skip', reason: e.readerMessage };
        }
        fail(e);
        return { kind: 'fatal' };
      },
    );
  };

  /** Back to the state before the current file's first chunk (its merged chunks are dropped). */
  const rollback = (f: FileStart): void => {
    // a copy: `accumulate` adds into its first argument, and the snapshot may be needed again
    acc = copyAccumulator(f.acc);
    events = f.events;
    bytesRead = f.bytesRead;
    processSeconds = f.processSeconds;
    chunks = f.chunks;
    chunkSeconds.length = f.chunkSeconds;
    done = f.done;
  };

  // Checkpoints: an encoded snapshot is taken between merges; writes are serialized.
  const every = opts.checkpointEvery ?? 20;
  const everyMs = (opts.checkpointSeconds ?? 30) * 1000;
  let lastCkptDone = done;
  let lastCkptAt = performance.now();
  let writing: Promise<void> = Promise.resolve();
  const checkpoint = (force = false): void => {
    if (!ckptFile || done === lastCkptDone) return;
    // Under --skipbadfiles a checkpoint holds whole files only: mid-file, save the state before it.
    if (opts.skipBadFiles && fileStart && done > fileStart.done && done < items.length && !startsFile(done)) {
      if (!force) return;
      rollback(fileStart);
    }
    if (!force && done - lastCkptDone < every && performance.now() - lastCkptAt < everyMs) return;
    const header = { jobKey: chunksKey, workKey: work, done, total: items.length, metrics: snapshotMetrics() };
    const bytes = encode(acc);
    lastCkptDone = done;
    lastCkptAt = performance.now();
    const d = done;
    writing = writing
      .then(() => writeCheckpoint(ckptFile, header, bytes))
      .then(() => hooks.onCheckpoint?.(d, items.length));
  };

  const window = Math.max(2, executor.window ?? executor.concurrency * 2);
  const inflight = new Map<number, Promise<Outcome>>();
  let next = 0;
  /** The sum of the current group's results so far (merged into `acc` when the group is complete). */
  let partial: A | undefined;
  /**
   * Metrics of the items summed into `partial`: counted when the group joins the total, so a checkpoint
   * (always at a group boundary) never counts items a resumed run will process again.
   */
  let pending: Array<{ item: WorkItem; m: ChunkMetrics }> = [];
  const pendingEvents = () => pending.reduce((n, p) => n + p.m.events, 0);
  /** Items whose results are in (merged, or summed into `partial`): what progress shows. */
  let seen = done;
  const mergeError = (e: unknown, first: WorkItem, last: WorkItem): MergeChunkError =>
    new MergeChunkError(
      `cannot merge the result of ${first === last ? describeItem(first) : `${describeItem(first)} to entry ${last.entryStop}`}: ${(e as Error).message}`,
      { dataset: first.dataset, file: first.file, entryStart: first.entryStart, entryStop: last.entryStop },
      'process() must return the same shape as accumulator()',
      { cause: e },
    );
  const progress = () =>
    hooks.onProgress?.({
      done: seen,
      total: items.length,
      events: events + pendingEvents(),
      elapsedSeconds: (performance.now() - t0) / 1000,
      resumed,
    });
  progress();
  try {
    for (let u = 0; u < units.length; u++) {
      while (next < units.length && next < u + window) {
        inflight.set(next, submit(units[next]));
        next++;
        // Everything is handed out: an executor of our own may wind down as its workers fall idle.
        if (next === units.length && ownExecutor) executor.drain?.();
      }
      let out = await Promise.race([
        inflight.get(u) ?? brokenInvariant(`unit ${u} of the run was never submitted`),
        fatal,
      ]);
      inflight.delete(u);
      const unit = units[u];
      const it = items[unit.first];
      const last = items[unit.end - 1];
      if (opts.skipBadFiles && startsFile(unit.first)) {
        fileStart = {
          key: fileKey(it),
          done,
          acc: copyAccumulator(acc),
          events,
          bytesRead,
          processSeconds,
          chunks,
          chunkSeconds: chunkSeconds.length,
          merged: [],
        };
      }
      // A later part of a file that already failed is not merged: under --skipbadfiles the file counts
      // all or nothing, whichever of its chunks came back first.
      const badReason = out.kind === 'ok' && opts.skipBadFiles ? badFiles.get(fileKey(it)) : undefined;
      if (badReason !== undefined) out = { kind: 'skip', reason: badReason };
      if (out.kind === 'ok') {
        try {
          const sum = decode(out.accumulator) as A;
          partial = unit.first === unit.groupStart || partial === undefined ? sum : accumulate(partial, sum);
        } catch (e) {
          throw mergeError(e, it, last);
        }
        for (let k = 0; k < out.metrics.length; k++) {
          const m = out.metrics[k];
          pending.push({ item: items[unit.first + k], m });
          for (const c of m.columnsRead) columns.add(c);
          // Later chunks prefetch what the processor used (columnsRead also holds a count column read only
          // for a collection's lengths before its fields were loaded, see ColumnStore.getStructural).
          let grew = false;
          for (const c of m.columnsAccessed ?? m.columnsRead) if (!needed.has(c)) needed.add(c), (grew = true);
          if (grew) job = { ...job, prefetch: [...needed] };
        }
      } else if (out.kind === 'skip') {
        const k = fileKey(it);
        let s = skippedByFile.get(k);
        if (!s)
          skippedByFile.set(
            k,
            (s = {
              dataset: it.dataset,
              file: it.file,
              tree: it.tree,
              reason: out.reason,
              stage: 'process',
              entries: [],
            }),
          );
        const entries = s.entries as Array<readonly [number, number]>;
        // Chunks of this file merged (or summed) before the failure are taken back out: the file contributes nothing.
        partial = undefined;
        for (const { item } of pending) {
          entries.push([item.entryStart, item.entryStop]);
          hooks.onSkip?.(item, out.reason);
        }
        pending = [];
        if (fileStart?.key === k && fileStart.merged.length) {
          const merged = fileStart.merged;
          rollback(fileStart);
          fileStart.merged = [];
          for (const m of merged) {
            entries.push([m.entryStart, m.entryStop]);
            hooks.onSkip?.(m, out.reason);
          }
        }
        for (let i = unit.first; i < unit.end; i++) {
          entries.push([items[i].entryStart, items[i].entryStop]);
          hooks.onSkip?.(items[i], out.reason);
        }
        entries.sort((a, b) => a[0] - b[0]);
      }
      seen = unit.end;
      if (unit.end === unit.groupEnd) {
        // The group is complete: its sum joins the total (a skipped file's group left nothing to add).
        if (partial !== undefined) {
          try {
            acc = accumulate(acc, partial);
          } catch (e) {
            throw mergeError(e, items[unit.groupStart], last);
          }
          partial = undefined;
          for (const { item, m } of pending) {
            fileStart?.merged.push(item);
            events += m.events;
            bytesRead += m.bytesRead;
            processSeconds += m.seconds;
            chunkSeconds.push(m.seconds);
            chunks++;
          }
          pending = [];
          for (let i = unit.groupStart; i < unit.groupEnd; i++) {
            const item = items[i];
            hooks.onMerged?.({ item, events: item.entryStop - item.entryStart, accumulator: acc });
          }
        }
        done = unit.groupEnd;
      }
      if (endsFile(unit.end - 1)) fileStart = undefined;
      progress();
      if (done === unit.end) checkpoint();
    }
  } catch (e) {
    opts.signal?.removeEventListener('abort', interrupt);
    // A caller's executor may serve later runs: leave it alone (in-flight results are just dropped).
    if (ownExecutor) executor.cancel();
    checkpoint(true); // keep what was merged so far: fix the cause and --resume
    await writing.catch(() => undefined);
    if (ownExecutor) await executor.close().catch(() => undefined);
    throw e;
  }
  opts.signal?.removeEventListener('abort', interrupt);
  await writing;
  // Workers tear down their heaps on their own threads (~0.1 s each): meanwhile this one postprocesses.
  const closing = ownExecutor ? executor.close() : undefined;
  closing?.catch(() => undefined); // awaited below; a postprocess failure must not leave it unhandled
  // postprocess may change the total in place before it throws: keep the merged state to checkpoint then.
  const merged =
    ckptFile && processor.postprocess && opts.postprocess !== false
      ? {
          header: { jobKey: chunksKey, workKey: work, done, total: items.length, metrics: snapshotMetrics() },
          bytes: encode(acc),
        }
      : undefined;
  try {
    const post = opts.postprocess === false ? undefined : await processor.postprocess?.(acc);
    if (post !== undefined) acc = post as A;
    if (ckptFile) await removeCheckpoint(ckptFile);
  } catch (e) {
    await closing?.catch(() => undefined); // the postprocess error is the one to report
    // Every chunk is merged and kept: a fixed postprocess needs no chunk run again.
    if (merged && ckptFile) await writeCheckpoint(ckptFile, merged.header, merged.bytes);
    throw new PostprocessError(
      `postprocess() of ${opts.processor === undefined ? 'the processor' : String(opts.processor)} failed after all ${items.length} chunks were merged: ${thrownText(e)}`,
      { chunks: items.length },
      merged && ckptFile
        ? 'fix postprocess, then rerun the same command with --resume: the merged result is kept and no chunk runs again'
        : 'fix postprocess',
      { cause: e },
    );
  }
  await closing;

  const wallSeconds = (performance.now() - t0) / 1000;
  const final = snapshotMetrics();
  const metrics: RunMetrics = {
    events,
    chunks,
    chunksTotal: items.length,
    resumedChunks: resumed,
    bytesRead,
    columns: final.columns,
    processSeconds,
    chunkSeconds,
    wallSeconds,
    eventsPerSecond: wallSeconds > 0 ? (events - carried.events) / wallSeconds : 0,
    retries: final.retries,
    skippedFiles: [...plan.skipped, ...final.skipped],
    executor: executor.name,
    workers: executor.concurrency,
    files: plan.files.length,
    preprocess: { cacheHits: plan.cacheHits, opened: plan.opened, seconds: preprocessSeconds },
  };
  return { accumulator: acc, metrics, items, datasets };
}
