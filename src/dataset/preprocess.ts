/**
 * Preprocessing: learn each file's entry count and cluster boundaries (cached on disk by file
 * identity) and turn datasets into ordered work items. Files are opened with bounded concurrency; with
 * `maxchunks`, only as many files as needed are looked at.
 */
import PQueue from 'p-queue';
import { nameOnce, RistrettoError } from '../errors/index.ts';
import { closestNames } from '../errors/suggest.ts';
import { openReader } from '../io/open.ts';
import { rememberOpened } from '../io/opened.ts';
import type { EventReader, OpenOptions } from '../io/reader.ts';
import { PreprocessCache } from './cache.ts';
import { chunkFile, type ChunkOptions, type FileInfo, type WorkItem } from './chunking.ts';
import type { Dataset, FileSpec } from './fileset.ts';
import { fileIdentity } from './identity.ts';

/** A file left out of the run with `--skipbadfiles`, and why. */
export interface SkippedFile {
  readonly dataset: string;
  readonly file: string;
  readonly tree: string;
  /** The reader's message. */
  readonly reason: string;
  /** `preprocess`: could not be opened at all; `process`: some chunks failed to read. */
  readonly stage: 'preprocess' | 'process';
  /** For stage `process`: the entry ranges that were not processed. */
  readonly entries?: ReadonlyArray<readonly [number, number]>;
}

/** A file could not be preprocessed (and `skipBadFiles` is off). */
export class PreprocessError extends RistrettoError {}

export interface PlanOptions extends ChunkOptions {
  /** Stop after this many work items (and look only at the files needed for them). */
  maxchunks?: number;
  /** Files opened at once (default 8). */
  concurrency?: number;
  /** JSON cache of entry counts; undefined disables the on-disk cache. */
  cacheFile?: string;
  /** Leave out files that cannot be opened instead of failing. */
  skipBadFiles?: boolean;
  /** Opener (default: `openReader`, dispatching by extension). */
  open?: (pathOrUrl: string, opts: OpenOptions) => Promise<EventReader>;
}

export interface Plan {
  readonly items: WorkItem[];
  readonly files: FileInfo[];
  readonly skipped: SkippedFile[];
  /** Files whose entry counts came from the cache / were opened. */
  readonly cacheHits: number;
  readonly opened: number;
}

interface Job {
  readonly dataset: string;
  readonly path: string;
  /** Absent: the reader's default (Events, or the file's only tree); FileInfo.tree gets the one it took. */
  readonly tree?: string;
  readonly treeFrom?: FileSpec['treeFrom'];
}

/** The tree of a job for messages and SkippedFile records. */
function treeLabel(j: Job): string {
  return j.tree ?? '(default)';
}

/** ", tree Events" (or ", default tree") for a ROOT file; nothing for Parquet and Arrow, which have no trees. */
function treePart(j: Job): string {
  if (!/\.root$/i.test(j.path.replace(/[?#].*$/, ''))) return '';
  return j.tree === undefined ? ', default tree' : `, tree ${j.tree}`;
}

const SKIP_HINT = 'pass --skipbadfiles to leave unreadable files out (they are listed in the summary)';

/**
 * Why a file did not open, and one piece of advice: the reader's own hint joined with --skipbadfiles,
 * except for a tree name that is not in the file, where leaving the file out is the wrong advice and
 * --treename does not apply when the dataset JSON names the tree: the fix is in the JSON.
 */
function openFailure(j: Job, e: unknown): { what: string; hint: string } {
  if (!(e instanceof RistrettoError))
    return { what: String(e instanceof Error ? e.message : e), hint: `fix or remove the file, or ${SKIP_HINT}` };
  const what = e.hint && e.message.endsWith(` — ${e.hint}`) ? e.message.slice(0, -` — ${e.hint}`.length) : e.message;
  const present = e.context.available;
  if (e.name === 'TreeNotFoundError' && j.treeFrom && j.tree !== undefined && Array.isArray(present)) {
    const near = closestNames(j.tree, present as string[]);
    const where = `${j.treeFrom.json} at ${j.treeFrom.key}`;
    return {
      what,
      hint: near.length
        ? `fix the tree name in ${where}, e.g. "${near[0]}" (--treename applies only to datasets that name no tree)`
        : `this file holds no tree: fix the file or the tree name in ${where}`,
    };
  }
  if (e.name === 'TreeNotFoundError' && e.hint) return { what, hint: e.hint };
  return { what, hint: e.hint ? `${e.hint}, or ${SKIP_HINT}` : `fix or remove the file, or ${SKIP_HINT}` };
}

/** Preprocess the datasets' files and cut them into work items in (dataset, file, entry) order. */
export async function planWork(datasets: readonly Dataset[], opts: PlanOptions = {}): Promise<Plan> {
  const maxchunks = opts.maxchunks ?? Infinity;
  const open = opts.open ?? openReader;
  const cache = await PreprocessCache.load(opts.cacheFile);
  const jobs: Job[] = datasets.flatMap((d) =>
    d.files.map((f) => ({ dataset: d.name, path: f.path, tree: f.tree, treeFrom: f.treeFrom })),
  );
  const results: Array<FileInfo | { error: unknown } | undefined> = new Array(jobs.length);
  let cacheHits = 0;
  let opened = 0;

  const one = async (j: Job): Promise<FileInfo> => {
    const fileId = await fileIdentity(j.path);
    const hit = cache.get(fileId, j.tree ?? '');
    const hitTree = j.tree ?? hit?.tree;
    if (hit && hitTree !== undefined) {
      cacheHits++;
      return { path: j.path, tree: hitTree, fileId, numEntries: hit.numEntries, boundaries: hit.boundaries };
    }
    opened++;
    const reader = await open(j.path, j.tree === undefined ? {} : { treeName: j.tree });
    try {
      // Without a tree name the reader chose one (Events, or the only tree): later opens name it.
      const info = {
        path: j.path,
        tree: j.tree ?? reader.treeName,
        fileId,
        numEntries: reader.numEntries,
        boundaries: [...reader.boundaries()],
      };
      cache.set(fileId, j.tree ?? '', info);
      // What the reader parsed goes to whoever opens this file version next (a pool worker, src/io/opened.ts).
      const opened = reader.openedState?.();
      if (opened) rememberOpened(fileId, info.tree, opened);
      return info;
    } finally {
      await reader.close().catch(() => undefined);
    }
  };

  // Items available from the finished prefix of files; decides whether more files are needed.
  const prefixItems = (): number => {
    let n = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r === undefined) break;
      if (!('error' in r)) n += chunkFile(jobs[i].dataset, r, opts).length;
      if (n >= maxchunks) break;
    }
    return n;
  };

  const queue = new PQueue({ concurrency: Math.max(1, opts.concurrency ?? 8) });
  let failed = false;
  const task = (i: number) => async () => {
    if (failed) return; // fail fast: leave the rest unopened
    try {
      results[i] = await one(jobs[i]);
    } catch (error) {
      results[i] = { error };
      if (!opts.skipBadFiles) failed = true;
    }
  };
  if (!Number.isFinite(maxchunks)) {
    for (let i = 0; i < jobs.length; i++) void queue.add(task(i));
  } else {
    // Every non-empty file gives at least one chunk, so never have more files open than chunks still missing.
    for (let next = 0; next < jobs.length && !failed; ) {
      const need = maxchunks - prefixItems();
      if (need <= 0) break;
      if (queue.pending + queue.size >= Math.min(need, queue.concurrency)) {
        await new Promise<void>((r) => queue.once('next', () => r()));
        continue;
      }
      void queue.add(task(next++));
    }
  }
  await queue.onIdle();
  await cache.save().catch(() => undefined); // a read-only cache location must not fail the run

  const items: WorkItem[] = [];
  const files: FileInfo[] = [];
  const skipped: SkippedFile[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const r = results[i];
    const j = jobs[i];
    if (r === undefined) continue;
    if ('error' in r) {
      const msg = r.error instanceof Error ? r.error.message : String(r.error);
      if (!opts.skipBadFiles) {
        const { what, hint } = openFailure(j, r.error);
        throw new PreprocessError(
          `cannot open ${j.path} (dataset ${j.dataset}${treePart(j)}): ${nameOnce(j.path, what)}`,
          { dataset: j.dataset, file: j.path, tree: j.tree },
          hint,
          { cause: r.error },
        );
      }
      skipped.push({ dataset: j.dataset, file: j.path, tree: treeLabel(j), reason: msg, stage: 'preprocess' });
      continue;
    }
    files.push(r);
    for (const it of chunkFile(j.dataset, r, opts)) {
      if (items.length >= maxchunks) break;
      items.push(it);
    }
  }
  return { items, files, skipped, cacheHits, opened };
}
