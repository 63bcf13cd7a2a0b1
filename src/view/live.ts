/**
 * `run-analysis --serve`: a ViewState fed by the runner's hooks, served while the run goes on and
 * after it until interrupted. The runner calls `onMerged` after each chunk is merged; the state
 * re-reads the accumulator at most once a second, so a fast run is not slowed by the page.
 */
import type { WorkItem } from '../dataset/chunking.ts';
import type { RunHooks, RunProgress } from '../runner/run.ts';
import { startViewServer, type ViewServer } from './server.ts';
import { ViewState, type DatasetProgress, type ViewProgress } from './state.ts';

/** What the runner reports after merging a chunk (see RunHooks.onMerged). */
export interface MergedChunk {
  readonly item: WorkItem;
  /** Events of this chunk. */
  readonly events: number;
  /** The merged accumulator so far (read between merges; not copied). */
  readonly accumulator: unknown;
}

/** The parts of the FaaS executor the view polls (structural, so the view does not load the executor). */
export interface EndpointSource {
  progress(): ReadonlyArray<object>;
  readonly faas?: object;
}

export interface LiveViewOptions {
  /** `[HOST:]PORT` (default 127.0.0.1, any free port). */
  listen?: string;
  title?: string;
  /** Categories drawn as data points in stacks. */
  data?: readonly string[];
  /** Legend text per dataset (its `metadata.label`). */
  legend?: Readonly<Record<string, string>>;
  /** Publication interval, ms (default 1000). */
  throttleMs?: number;
}

/**
 * The per-endpoint rows and FaaS counters as the page shows them. `waitingForEndpoint`: chunks of the
 * run not yet sent to any endpoint (not done, no copy in flight; approximate while tail copies run).
 *
 * @example
 * const { endpoints, faas } = endpointProgress(executor, { state: 'running', total: 40, done: 12 });
 * // endpoints: [{ name: 'site-a', done: 7, started: 2, queued: 1, retries: 1, ... }, ...]
 * // faas: { waitingForEndpoint: 22, tailRetries: 0, ... }
 */
export function endpointProgress(
  executor: EndpointSource,
  p: Readonly<ViewProgress>,
): Pick<ViewProgress, 'endpoints' | 'faas'> {
  const f = executor.faas as Record<string, unknown> | undefined;
  const endpoints = executor.progress().map((e) => ({ ...e }) as Record<string, unknown>);
  const inFlight = endpoints.reduce((s, e) => s + (typeof e['running'] === 'number' ? e['running'] : 0), 0);
  const waiting =
    p.total !== undefined && p.state === 'running' ? Math.max(0, p.total - (p.done ?? 0) - inFlight) : undefined;
  const counters = f ? Object.fromEntries(Object.entries(f).filter(([, v]) => typeof v === 'number')) : {};
  return { endpoints, faas: { ...(waiting !== undefined ? { waitingForEndpoint: waiting } : {}), ...counters } };
}

/** Hooks the runner calls, plus the merge hook the view needs. */
export type LiveHooks = RunHooks & { onMerged(c: MergedChunk): void; finish?(): void };

/**
 * A live view of one run.
 *
 * @example
 * const view = await LiveView.start({ listen: '8080', title: 'zmumu' });
 * console.error(`live view: ${view.url}`);
 * const result = await runAnalysis({ fileset, processor, hooks: view.hooks(progressReporter()) });
 * view.finished(result.accumulator);
 * await view.untilInterrupted(); // Ctrl-C
 * await view.close();
 */
export class LiveView {
  readonly state: ViewState;
  private datasets = new Map<string, DatasetProgress>();
  private retries = 0;
  private skipped = 0;
  private endpointTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    state: ViewState,
    private readonly server: ViewServer,
    private readonly throttleMs: number,
  ) {
    this.state = state;
  }

  static async start(opts: LiveViewOptions = {}): Promise<LiveView> {
    const state = new ViewState({ title: opts.title, throttleMs: opts.throttleMs });
    state.legend = { ...opts.legend };
    const server = await startViewServer(state, { listen: opts.listen, data: opts.data });
    return new LiveView(state, server, opts.throttleMs ?? 1000);
  }

  get url(): string {
    return this.server.url;
  }

  /** Wrap the reporter's hooks: everything still goes to `base`, and the view learns it too. */
  hooks<H extends RunHooks>(base: H, executor?: EndpointSource): H & LiveHooks {
    const state = this.state;
    if (executor) {
      // Per-endpoint rows: read at every publication, and once per throttle interval on their own, so
      // the rows move while no chunk merges (all slots busy with long chunks); sent only when changed.
      let last = '';
      const poll = () => {
        const p = endpointProgress(executor, state.progress);
        const text = JSON.stringify(p);
        if (text === last) return;
        last = text;
        state.setProgress(p);
      };
      state.beforePublish = poll;
      if (this.endpointTimer) clearInterval(this.endpointTimer);
      this.endpointTimer = setInterval(poll, this.throttleMs);
      this.endpointTimer.unref();
    }
    const wrapped: LiveHooks = {
      ...base,
      onPlan: (info) => {
        base.onPlan?.(info);
        const items = (info as { items?: readonly WorkItem[] }).items;
        if (items) {
          this.datasets.clear();
          for (const it of items) {
            const d = this.datasets.get(it.dataset) ?? { name: it.dataset, done: 0, total: 0, events: 0 };
            d.total++;
            this.datasets.set(it.dataset, d);
          }
        }
        state.setProgress({ state: 'running', total: info.chunks, done: 0, datasets: [...this.datasets.values()] });
      },
      onProgress: (p: RunProgress) => {
        base.onProgress?.(p);
        const fresh = p.elapsedSeconds > 0 ? p.events / p.elapsedSeconds : 0;
        state.setProgress({
          done: p.done,
          total: p.total,
          events: p.events,
          elapsedSeconds: p.elapsedSeconds,
          eventsPerSecond: fresh,
        });
      },
      onRetry: (item, attempt, error) => {
        base.onRetry?.(item, attempt, error);
        state.setProgress({ retries: ++this.retries });
      },
      onSkip: (item, reason) => {
        base.onSkip?.(item, reason);
        state.setProgress({ skipped: ++this.skipped });
      },
      // In-process runs (the iterative executor) hold the main thread for a whole chunk: between chunks the
      // view answers a loading page completely instead of one request per chunk (see ViewServer.settle).
      betweenChunks: async () => {
        await base.betweenChunks?.();
        if (!this.closed) await this.server.settle();
      },
      onMerged: (c: MergedChunk) => {
        (base as Partial<LiveHooks>).onMerged?.(c);
        const d = this.datasets.get(c.item.dataset);
        if (d) {
          d.done++;
          d.events += c.events;
          state.setProgress({ datasets: [...this.datasets.values()] });
        }
        state.setAccumulator(c.accumulator);
      },
    };
    return Object.assign(Object.create(Object.getPrototypeOf(base) as object) as H, base, wrapped);
  }

  /** The run ended: show the final (postprocessed) accumulator now. */
  finished(accumulator: unknown, message = 'run finished', state = 'done'): void {
    this.state.setAccumulator(accumulator);
    this.state.setProgress({ state, message });
    this.state.flush();
  }

  /** The run failed or was interrupted: the page keeps the last merged state and says why. */
  failed(error: unknown, interrupted = false): void {
    this.state.setProgress({
      state: interrupted ? 'interrupted' : 'failed',
      message: error instanceof Error ? error.message : String(error),
    });
    this.state.flush();
  }

  /** Resolves on the next SIGINT or SIGTERM (Ctrl-C). */
  untilInterrupted(): Promise<NodeJS.Signals> {
    return new Promise((resolve) => {
      const on = (sig: NodeJS.Signals) => {
        process.off('SIGINT', on).off('SIGTERM', on);
        resolve(sig);
      };
      process.on('SIGINT', on).on('SIGTERM', on);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.endpointTimer) clearInterval(this.endpointTimer);
    this.state.close();
    await this.server.close();
  }
}
