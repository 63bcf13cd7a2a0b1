/**
 * What the view page shows, kept apart from HTTP: the histograms of an accumulator (each with a version
 * that changes only when its bins or axes change), the run's progress, optional fit-scan results.
 * Accumulator updates are coalesced: at most one publication per `throttleMs`, listing only the
 * histograms whose contents changed since the last one.
 */
import { isCategory, type Hist } from '../hist/index.ts';
import { splitAccumulator } from '../runner/output.ts';

/** What the page needs to list and draw a histogram (the bins are fetched separately). */
export interface HistInfo {
  /** Key path in the accumulator (`muon/pt`); also the output file name without extension. */
  readonly key: string;
  readonly title: string;
  readonly ndim: number;
  /** Axis kinds, e.g. `['strcategory', 'regular']`. */
  readonly axes: readonly string[];
  /** Index of the first category axis of a 2-D histogram, else -1: such histograms can be overlaid or stacked. */
  readonly categoryAxis: number;
  readonly storage: string;
  /** Sum of the bin values (flow included), for the list. */
  readonly total: number;
  /** Increases whenever the contents change. */
  readonly version: number;
}

/** Progress of one dataset. */
export interface DatasetProgress {
  name: string;
  /** Chunks merged. */
  done: number;
  total: number;
  events: number;
}

/** The run's progress as the page shows it; every field optional so finished outputs can fill what they know. */
export interface ViewProgress {
  /** `running`, `done`, `failed`, `interrupted`, or `finished` (outputs of an earlier run). */
  state: string;
  done?: number;
  total?: number;
  events?: number;
  eventsPerSecond?: number;
  elapsedSeconds?: number;
  retries?: number;
  skipped?: number;
  executor?: string;
  message?: string;
  datasets?: DatasetProgress[];
  /**
   * Per FaaS endpoint, as the executor reports it (see EndpointProgress in executors/faas/executor.ts):
   * name, online, slow, done, started, queued, running (= started + queued), eventsPerSecond, retries,
   * tailCopies, failures.
   */
  endpoints?: Array<Record<string, unknown>>;
  /** FaaS counters (tail retries, duplicates, moved chunks, chunks waiting for an endpoint...). */
  faas?: Record<string, unknown>;
}

/** One line of a `ristretto fit scan --json` output. */
export type ScanResult = Record<string, unknown> & { name: string };

/** A publication: histograms that changed (all of them in the first), the progress, removed keys. */
export interface ViewUpdate {
  readonly hists: readonly HistInfo[];
  readonly removed: readonly string[];
  readonly progress: ViewProgress;
}

export interface ViewStateOptions {
  /** Title of the page (the processor or the output folder). */
  title?: string;
  /** Minimum time between publications, ms (default 1000). */
  throttleMs?: number;
}

/** FNV-1a over a hist's binary parts: cheap next to encoding it, and exact (any bin change shows). */
function fingerprint(h: Hist): string {
  const { header, buffers } = h.toBinaryParts();
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const text = JSON.stringify(header);
  for (let i = 0; i < text.length; i++) a = Math.imul(a ^ text.charCodeAt(i), 0x01000193);
  for (const v of buffers) {
    // whole 32-bit words, then the tail bytes: a second lane with another seed lowers collisions
    const words = new Uint32Array(v.buffer, v.byteOffset, v.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) {
      a = Math.imul(a ^ words[i], 0x01000193);
      b = Math.imul(b ^ words[i], 0x5bd1e995);
    }
    const bytes = new Uint8Array(v.buffer, v.byteOffset + (words.length << 2), v.byteLength & 3);
    for (let i = 0; i < bytes.length; i++) a = Math.imul(a ^ bytes[i], 0x01000193);
    a ^= v.byteLength;
  }
  return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}

function infoOf(key: string, h: Hist, version: number): HistInfo {
  const cat = h.ndim === 2 ? h.axes.findIndex((a) => isCategory(a) || a.kind === 'boolean') : -1;
  const other = cat >= 0 ? h.axes[1 - cat] : undefined;
  const values = h.values({ flow: true });
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return {
    key,
    title: h.label || h.name || key,
    ndim: h.ndim,
    axes: h.axes.map((a) => a.kind),
    // both axes categorical: a plain 2-D table, not an overlay
    categoryAxis: other && !(isCategory(other) || other.kind === 'boolean') ? cat : -1,
    storage: h.storage.kind,
    total,
    version,
  };
}

/**
 * The view's model. Feed it accumulators (`setAccumulator`) and progress (`setProgress`); listeners
 * get coalesced `ViewUpdate`s.
 *
 * @example
 * const state = new ViewState({ title: 'zmumu' });
 * state.subscribe((u) => console.log(u.hists.map((h) => h.key)));
 * state.setAccumulator({ mass: someHist }); // published within a second
 */
export class ViewState {
  readonly title: string;
  private readonly throttleMs: number;
  private hists = new Map<string, { hist: Hist; fp: string; info: HistInfo }>();
  private acc: unknown;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPublish = -Infinity;
  private progressValue: ViewProgress = { state: 'running' };
  private progressDirty = false;
  private listeners = new Set<(u: ViewUpdate) => void>();
  private versionCounter = 0;
  /** Fit-scan results shown in a table. */
  scans: Array<{ file: string; results: ScanResult[] }> = [];
  /** Notes for the page (files that could not be read...). */
  notes: string[] = [];
  /**
   * Datasets that are collision data (drawn as points over stacks), as the outputs tell
   * (`datasets.meta.json`); a server's own `data` option overrides it.
   */
  data: string[] = [];
  /** Legend text per dataset (its `metadata.label`), as the outputs or the dataset JSON tell. */
  legend: Record<string, string> = {};
  /** Called before each publication, e.g. to poll the FaaS executor's per-endpoint counters. */
  beforePublish: (() => void) | undefined;

  constructor(opts: ViewStateOptions = {}) {
    this.title = opts.title ?? 'Ristretto';
    this.throttleMs = opts.throttleMs ?? 1000;
  }

  /** A new accumulator state (the same object mutated, or a new one); published within the throttle interval. */
  setAccumulator(acc: unknown): void {
    this.acc = acc;
    this.dirty = true;
    this.schedule();
  }

  /** Merge progress fields; published within the throttle interval. */
  setProgress(p: Partial<ViewProgress>): void {
    this.progressValue = { ...this.progressValue, ...p };
    this.progressDirty = true;
    this.schedule();
  }

  get progress(): ViewProgress {
    return this.progressValue;
  }

  /** Publish now (end of a run: the last state must not wait for the throttle). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.publish();
  }

  subscribe(fn: (u: ViewUpdate) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Everything, as the first message of a new page. */
  snapshot(): ViewUpdate {
    this.sync();
    return { hists: [...this.hists.values()].map((e) => e.info), removed: [], progress: this.progressValue };
  }

  /** The current histogram under a key. */
  hist(key: string): Hist | undefined {
    this.sync();
    return this.hists.get(key)?.hist;
  }

  /** Stop the timer (the server closes). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastPublish + this.throttleMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publish();
    }, wait);
    this.timer.unref();
  }

  /** Re-read the accumulator: returns the entries whose contents changed and the keys that disappeared. */
  private refresh(): { changed: HistInfo[]; removed: string[] } {
    this.dirty = false;
    const { hists } = splitAccumulator(this.acc);
    const changed: HistInfo[] = [];
    for (const [key, h] of hists) {
      const fp = fingerprint(h);
      const old = this.hists.get(key);
      if (old && old.fp === fp) {
        old.hist = h;
        continue;
      }
      const info = infoOf(key, h, ++this.versionCounter);
      this.hists.set(key, { hist: h, fp, info });
      changed.push(info);
    }
    const removed = [...this.hists.keys()].filter((k) => !hists.has(k));
    for (const k of removed) this.hists.delete(k);
    return { changed, removed };
  }

  private publish(): void {
    this.lastPublish = performance.now();
    this.beforePublish?.();
    this.sync();
    const all = [...this.pending.values()];
    const removed = [...this.pendingRemoved];
    this.pending.clear();
    this.pendingRemoved.clear();
    if (!all.length && !removed.length && !this.progressDirty) return;
    this.progressDirty = false;
    const u: ViewUpdate = { hists: all, removed, progress: this.progressValue };
    for (const fn of this.listeners) fn(u);
  }

  /** Re-read a dirty accumulator; changes wait in `pending` for the next publication. */
  private sync(): void {
    if (!this.dirty) return;
    const { changed, removed } = this.refresh();
    for (const c of changed) {
      this.pending.set(c.key, c);
      this.pendingRemoved.delete(c.key);
    }
    for (const k of removed) {
      this.pending.delete(k);
      this.pendingRemoved.add(k);
    }
  }

  /** Changes found since the last publication (by it, or by `snapshot()`/`hist()` in between). */
  private pending = new Map<string, HistInfo>();
  private pendingRemoved = new Set<string>();
}
