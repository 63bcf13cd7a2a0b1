/**
 * The FaaS executor: one analysis across several endpoints of a Ristretto FaaS service.
 *
 * - One generic function (executors/faas/function.ts) runs every chunk; the processor bundle is shipped
 *   to each endpoint once (a `stage` task, content-addressed) and workers keep it loaded by hash.
 * - Chunks go to the endpoint with the most free share of its advertised capacity, weighted by its
 *   observed speed. We keep at most capacity + `ahead` tasks in flight per endpoint. Each chunk is
 *   submitted with its candidate endpoints (alternates) and a tail policy; the service decides the
 *   rest: it starts a chunk on whichever candidate frees a slot first, has an agent give back unstarted
 *   chunks when another endpoint idles, and copies stragglers into idle slots (the first result wins;
 *   the others are cancelled there). Here we only account results: one outcome per chunk, with the
 *   endpoint that produced it and the endpoints that got tail copies.
 * - An endpoint reported offline (past a grace period), or observed much slower than the others, gets
 *   no new work; chunks of an endpoint gone offline are resubmitted elsewhere.
 * - Large results are staged out by the worker and fetched, checked and deleted here.
 * - A merge group the runner hands out whole (`submitBatch`) is one task: the endpoint's worker runs its
 *   items in order and sums them there (src/runner/process-batch.ts), so a group of 16 chunks wakes the
 *   client, service and agent once instead of 16 times. Everything above (alternates, tail copies,
 *   moves, reruns after a lost endpoint) applies to the batch as a whole.
 *
 * The placement constants and their measurements live in src/faas/scheduling.ts, the tail copies in
 * src/faas/service/scheduler.ts.
 *
 * It implements the same `Executor` contract as the local executors, so the runner's ordered streaming
 * merge, checkpoints, --resume, --retries and --skipbadfiles work unchanged.
 */
import { randomUUID } from 'node:crypto';
import {
  FaasClient,
  FaasRequestError,
  TaskFailedError,
  type EndpointInfo,
  type TailPolicy,
  type TaskOutcome,
} from '../../src/faas/client/index.ts';
import { brokenInvariant } from '../../src/errors/index.ts';
import { closestNames } from '../../src/errors/suggest.ts';
import type { ProcessorBundle } from '../../src/processor/bundle.ts';
import { isLocalPath, matchesTag, splitSelectors } from '../../src/faas/capabilities.ts';
import { outsidePolicy, pickFastest, slowerThan } from '../../src/faas/endpoint-policy.ts';
import { CancelledError, fromChunkFailure, WorkerLostError } from '../../src/runner/errors.ts';
import type { BatchResult } from '../../src/runner/process-batch.ts';
import { BaseExecutor, type ChunkMetrics, type ChunkResult, type JobSpec, type WorkItem } from '../base.ts';
import { TaskChannel } from './channel.ts';
import {
  EndpointNotFoundError,
  EndpointSelectorError,
  EndpointSetupError,
  FaasExecutorError,
  NoEndpointOnlineError,
} from './errors.ts';
import { CHUNK_FUNCTION_NAME, CHUNK_FUNCTION_SOURCE } from './function.ts';
import { resolveFaasOptions, type FaasExecutorOptions, type ResolvedFaasOptions } from './options.ts';
import { mapPath, mappingFor } from './paths.ts';
import { pickSite, Site, updateSlowness } from './sites.ts';
import { cleanupRun, deleteStaged, fetchStaged, isHttpLocation, openRun } from './stageout.ts';
import {
  type BatchArgs,
  CHUNK_WIRE_VERSION,
  type ChunkArgs,
  type ReplyMetrics,
  type StageOutTarget,
  type TaskReply,
} from './wire.ts';

export type { FaasExecutorOptions } from './options.ts';

/** Counters of the FaaS executor, written to metrics.json under `faas`. */
export interface FaasStats {
  /** Merge groups run as one task each (`submitBatch`; a --retries rerun counts again), and their chunks. */
  batches: number;
  batchedChunks: number;
  /** Tail copies the service started for our stragglers (each on an alternate with an idle slot). */
  tailRetries: number;
  /** Results of losing copies that arrived after the winner and were dropped unmerged. */
  duplicatesDiscarded: number;
  /** Losing runs of a chunk (the original or a tail copy) cancelled by the service or by us. */
  duplicatesCancelled: number;
  /** Chunks resubmitted elsewhere because their endpoint went offline or lost the task. */
  moved: number;
  /** Stage tasks that shipped a processor bundle to an endpoint. */
  bundleShipments: number;
  /** Results fetched from the stage-out location, and their bytes. */
  stagedResults: number;
  stagedBytes: number;
  /** Times an endpoint was declared lost (offline past the grace period). */
  endpointsLost: number;
  /** Chunks the service started on an alternate endpoint instead of the one they were sent to. */
  lateBound: number;
}

/** Per-endpoint progress, for the TTY and metrics. */
export interface EndpointProgress {
  readonly name: string;
  readonly id: string;
  readonly capacity: number;
  readonly online: boolean;
  readonly slow: boolean;
  /** Copies in flight there: `started` plus `queued`. */
  readonly running: number;
  /** Copies the endpoint reported started. */
  readonly started: number;
  /** Copies sent there and not (yet) reported started; chunks shorter than its notice delay go from here to done. */
  readonly queued: number;
  readonly done: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Reruns of chunks lost there (worker or endpoint died): by the service (task attempts) or moved by us. */
  readonly retries: number;
  /** Stragglers there that got a second copy on another endpoint. */
  readonly tailCopies: number;
  /** Copies that failed there (processor error, unreadable file, setup), or chunks lost there too often. */
  readonly failures: number;
}

/** Per-endpoint counters behind EndpointProgress's retries, tailCopies and failures. */
type EndpointCounter = 'retries' | 'tailCopies' | 'failures';

interface Copy {
  readonly run: Run;
  /** Where it runs: the endpoint it was sent to, until the service reports it placed on an alternate. */
  site: Site;
  readonly startedAt: number;
  /** When the endpoint reported the task running (local clock: sites' clocks may differ). */
  runningAt: number | undefined;
  taskId: string | undefined;
  live: boolean;
  /** Never set here: stragglers are the service's to judge (see SiteCopy). */
  straggler: boolean;
}

interface Run {
  /** The work item, or a batch's first item (what placement and most errors go by). */
  readonly item: WorkItem;
  /** The items of the task: one, or the consecutive items of a batch (one file). */
  readonly items: readonly WorkItem[];
  readonly batch: boolean;
  readonly job: JobSpec;
  readonly copies: Copy[];
  settled: boolean;
  moves: number;
  failure: unknown;
  readonly resolve: (r: BatchResult) => void;
  readonly reject: (e: unknown) => void;
}

export class FaasExecutor extends BaseExecutor {
  readonly name = 'faas';
  readonly concurrency: number;
  readonly faas: FaasStats = {
    batches: 0,
    batchedChunks: 0,
    tailRetries: 0,
    duplicatesDiscarded: 0,
    duplicatesCancelled: 0,
    moved: 0,
    bundleShipments: 0,
    stagedResults: 0,
    stagedBytes: 0,
    endpointsLost: 0,
    lateBound: 0,
  };
  /** The endpoints in use; grows when an endpoint matching a `tag:` selector comes online later. */
  readonly sites: Site[];
  /** The `tag:` selectors of --endpoints (without the prefix). */
  private readonly tagSelectors: readonly string[];
  private readonly queue: Run[] = [];
  private readonly active = new Set<Run>();
  /** Recent chunks: submission to result (s), and running notice to result (s). */
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly started = performance.now();
  private readonly stageoutTarget: StageOutTarget | undefined;
  private readonly deletions = new Set<Promise<unknown>>();
  private closed = false;
  /** Per-endpoint counters (by site id: a site may be re-created when it rejoins via a tag). */
  private readonly counters = new Map<string, Record<EndpointCounter, number>>();
  /** Where each copy was first reported running: a worker lost there is that endpoint's retry, wherever the rerun went. */
  private readonly firstRanOn = new WeakMap<Copy, Site>();

  private constructor(
    private readonly fx: FaasClient,
    private readonly channel: TaskChannel,
    sites: Site[],
    private readonly o: ResolvedFaasOptions,
    private readonly ownClient: boolean,
    runId: string,
  ) {
    super(o);
    this.sites = sites;
    this.tagSelectors = splitSelectors(o.endpoints).tags;
    this.concurrency = sites.reduce((n, s) => n + Math.max(1, s.capacity), 0);
    this.stageoutTarget = o.stageout ? { location: o.stageout, thresholdBytes: o.stageoutThreshold, runId } : undefined;
    this.timers.push(setInterval(() => void this.poll(), o.pollMs));
    for (const t of this.timers) t.unref();
  }

  /**
   * Connect: resolve the endpoints (names or ids), wait until at least one is online, register (or
   * reuse) the chunk function. The executor's concurrency is the endpoints' total capacity.
   */
  static async connect(opts: FaasExecutorOptions): Promise<FaasExecutor> {
    const o = resolveFaasOptions(opts);
    const fx =
      opts.client ??
      new FaasClient({
        serviceUrl: o.service,
        ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
        // Said once if the service's quota of unfinished tasks makes chunks wait for earlier ones.
        ...(o.onNote ? { note: o.onNote } : {}),
      });
    try {
      const infos = await waitForEndpoints(fx, o);
      const sites = infos.map((e) => siteOf(e, o));
      const functionId = await fx.registerFunction(CHUNK_FUNCTION_SOURCE, {
        name: CHUNK_FUNCTION_NAME,
        description: 'Ristretto: run a processor on one work item',
      });
      // Each executor is its own fair-share group: analyses sharing endpoints get their slots in turn.
      const channel = new TaskChannel(fx, functionId, {
        patienceMs: o.servicePatienceMs,
        maxAttempts: o.maxAttempts,
        note: o.onNote,
        group: `analysis-${randomUUID()}`,
      });
      const runId = `run-${randomUUID()}`;
      if (o.stageout) await openRun(o.stageout, runId);
      return new FaasExecutor(fx, channel, sites, o, !opts.client, runId);
    } catch (e) {
      if (!opts.client) await fx.close();
      throw e;
    }
  }

  /** Per-endpoint progress (chunks running and done, events/s since the start). */
  progress(): EndpointProgress[] {
    const secs = (performance.now() - this.started) / 1000;
    return this.sites.map((s) => {
      let started = 0;
      for (const c of s.inflight as Set<Copy>) if (c.runningAt !== undefined) started++;
      const n = this.counters.get(s.id);
      return {
        name: s.name,
        id: s.id,
        capacity: s.capacity,
        online: s.online,
        slow: s.slowByRate || s.hasStraggler(),
        running: s.inflight.size,
        started,
        queued: s.inflight.size - started,
        done: s.done,
        events: s.events,
        eventsPerSecond: secs > 0 ? s.events / secs : 0,
        retries: n?.retries ?? 0,
        tailCopies: n?.tailCopies ?? 0,
        failures: n?.failures ?? 0,
      };
    });
  }

  private count(site: Site, what: EndpointCounter, n = 1): void {
    let c = this.counters.get(site.id);
    if (!c) this.counters.set(site.id, (c = { retries: 0, tailCopies: 0, failures: 0 }));
    c[what] += n;
  }

  /** The `faas` section of metrics.json. */
  report(): FaasStats & {
    endpoints: EndpointProgress[];
    endpointPolicy: string;
    stageout: string | null;
    tailTimeoutSeconds: number | null;
    stragglerFactor: number;
  } {
    return {
      ...this.faas,
      endpoints: this.progress(),
      endpointPolicy: this.o.endpointPolicy,
      stageout: this.o.stageout ?? null,
      tailTimeoutSeconds: this.o.tailTimeoutMs === undefined ? null : this.o.tailTimeoutMs / 1000,
      stragglerFactor: this.o.stragglerFactor,
    };
  }

  protected async runOnce(item: WorkItem, job: JobSpec): Promise<ChunkResult> {
    const r = await this.start([item], job, false);
    return { accumulator: r.accumulator, metrics: r.metrics[0] ?? brokenInvariant('a chunk result without metrics') };
  }

  /**
   * Run consecutive items of one file as one task: the endpoint sums their results in order (see
   * Executor.submitBatch). A retry (--retries) reruns the whole batch. The runner calls it for the merge
   * groups `batchGroup` picks with this executor's `concurrency` (the endpoints' total capacity).
   *
   * @example
   * ```ts
   * const ex = await FaasExecutor.connect({ service: 'http://127.0.0.1:8470', endpoints: ['site-a'] });
   * const { accumulator, metrics } = await ex.submitBatch(plan.items.slice(0, 12), job); // one task
   * metrics.length; // 12: one entry per chunk, in order
   * ```
   */
  submitBatch(items: readonly WorkItem[], job: JobSpec): Promise<BatchResult> {
    return this.submitBatchWithRetries(items, () => this.start(items, job, true));
  }

  private start(items: readonly WorkItem[], job: JobSpec, batch: boolean): Promise<BatchResult> {
    const item = items[0] ?? brokenInvariant('a task without work items');
    if (this.closed || this.cancelled) return Promise.reject(new CancelledError(item));
    if (batch) {
      this.faas.batches++;
      this.faas.batchedChunks += items.length;
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const run: Run = {
        item,
        items,
        batch,
        job,
        copies: [],
        settled: false,
        moves: 0,
        failure: undefined,
        resolve,
        reject,
      };
      this.active.add(run);
      this.queue.push(run);
      this.pump();
    });
  }

  // ---------------------------------------------------------------- placing copies

  private pump(): void {
    // In queue order, except that a chunk waiting for a full data-local endpoint lets the chunks behind
    // it go to the other endpoints: only such a chunk is skipped, the first other one that finds no
    // room ends the pass (no endpoint has any).
    let i = 0;
    while (i < this.queue.length && !this.closed) {
      const run = this.queue[i];
      if (run.settled) {
        this.queue.splice(i, 1);
        continue;
      }
      const local = this.localSitesFor(run);
      const site = this.pick(run, local, i);
      if (!site) {
        // Under `fastest` a chunk may wait for a busy fast endpoint while later ones start elsewhere.
        if (local || this.o.endpointPolicy === 'fastest') {
          i++;
          continue;
        }
        break;
      }
      this.queue.splice(i, 1);
      this.launch(run, site);
    }
  }

  /**
   * Data locality: the online, healthy endpoints that read the chunk's file locally (its path, mapped
   * for the endpoint, lies under one of its advertised local paths), when the chunk has no live copy
   * yet; undefined when there are none, so the chunk goes anywhere and is read over the network.
   * Copies beyond the first (tail retries, moves) go anywhere.
   */
  private localSitesFor(run: Run): Set<Site> | undefined {
    if (this.o.endpointPolicy !== 'data-local' || run.copies.some((c) => c.live)) return undefined;
    let out: Set<Site> | undefined;
    for (const s of this.sites) {
      if (!s.online || s.slowByRate || s.localPaths.length === 0) continue;
      if (!isLocalPath(s.mapping ? mapPath(run.item.file, s.mapping) : run.item.file, s.localPaths)) continue;
      (out ??= new Set()).add(s);
    }
    return out;
  }

  /** The endpoint for the next copy of `run` under the endpoint policy; `waiting`: chunks waiting before it. */
  private pick(run: Run, local?: ReadonlySet<Site>, waiting = 0): Site | undefined {
    const exclude = this.outsidePolicy(run);
    for (const c of run.copies) if (c.live) exclude.add(c.site);
    // A chunk with a data-local endpoint waits for a slot there rather than reading over the network.
    if (local) for (const s of this.sites) if (!local.has(s)) exclude.add(s);
    // The bundle goes to every online site at once; chunks go only where it has arrived, once it has
    // arrived anywhere. A stage task queued behind other users' work at a busy endpoint would
    // otherwise park chunks there until it ran.
    const hash = run.job.processor.hash;
    let anyReady = false;
    for (const s of this.sites) {
      if (s.online && !s.staged.has(hash) && !s.stageFailed.has(hash)) {
        this.stage(s, run.job.processor).then(
          () => this.pump(),
          (e) =>
            this.o.onNote?.(
              `endpoint ${s.name} did not take the processor bundle (${(e as Error).message}); its chunks go to the other endpoints`,
            ),
        );
      }
      if (s.ready.has(hash) && !exclude.has(s)) anyReady = true;
    }
    if (anyReady) for (const s of this.sites) if (!s.ready.has(hash)) exclude.add(s);
    // Endpoints that refused the bundle get no chunks while another may still take it.
    if (this.sites.some((s) => s.online && !s.stageFailed.has(hash)))
      for (const s of this.sites) if (s.stageFailed.has(hash)) exclude.add(s);
    if (this.o.endpointPolicy === 'fastest') return pickFastest(this.sites, exclude, this.o.ahead, waiting);
    return pickSite(this.sites, {
      ahead: this.o.ahead,
      slowFactor: this.o.slowFactor,
      probeMs: this.o.probeMs,
      now: Date.now(),
      exclude,
    });
  }

  /** The endpoint reports the chunk running (on an alternate, when the service placed it there). */
  private onRunning(copy: Copy, endpointId?: string): void {
    this.rebind(copy, endpointId);
    if (!this.firstRanOn.has(copy)) this.firstRanOn.set(copy, copy.site);
    copy.runningAt ??= Date.now();
  }

  private launch(run: Run, site: Site): void {
    const copy: Copy = {
      run,
      site,
      startedAt: Date.now(),
      runningAt: undefined,
      taskId: undefined,
      live: true,
      straggler: false,
    };
    run.copies.push(copy);
    site.inflight.add(copy);
    this.stage(site, run.job.processor).then(
      () => {
        if (!copy.live) return;
        const mapping = site.mapping;
        const mapped = (item: WorkItem): WorkItem => (mapping ? { ...item, file: mapPath(item.file, mapping) } : item);
        const common = {
          v: CHUNK_WIRE_VERSION,
          hash: run.job.processor.hash,
          // A batch never spans two files, hence never two datasets.
          metadata: run.job.metadata[run.item.dataset] ?? {},
          prefetch: run.job.prefetch ?? [],
          ...(this.stageoutTarget ? { stageout: this.siteStageout(site) } : {}),
        };
        const args: ChunkArgs | BatchArgs = run.batch
          ? { ...common, op: 'batch', items: run.items.map(mapped) }
          : { ...common, op: 'chunk', item: mapped(run.item) };
        const alternates = this.alternatesFor(copy);
        this.channel.submit(
          site.id,
          args,
          {
            submitted: (id) => {
              copy.taskId = id;
              if (!copy.live) this.channel.cancel(id);
            },
            outcome: (o) => this.onOutcome(copy, o),
            running: (endpointId) => this.onRunning(copy, endpointId),
            refused: (e) => this.copyFailed(copy, e),
          },
          alternates,
          alternates ? this.tailPolicy(run) : undefined,
        );
      },
      // The bundle could not be shipped there: run the chunk on another endpoint that may take it.
      (e) =>
        this.sites.some((s) => s !== site && s.online && !s.stageFailed.has(run.job.processor.hash))
          ? this.copyLost(copy, e)
          : this.copyFailed(copy, e),
    );
  }

  /**
   * Late binding: endpoints the service may start this copy on instead of its own, should one of them
   * free a slot first — those that are online, see storage as this one does (the chunk's paths are
   * mapped for it), hold the bundle or have it on the way (a copy that arrives first is answered
   * "missing bundle" and placed again) and hold no other live copy of the chunk. Slow endpoints too:
   * the service uses an alternate only when it has an idle slot and the chunk's own endpoint has
   * none, and copies a straggler back to a faster candidate when one idles; left out, a chunk held
   * behind another user's long tasks had nowhere else to go (the executor no longer copies chunks).
   */
  private alternatesFor(copy: Copy): string[] | undefined {
    const hash = copy.run.job.processor.hash;
    const out: string[] = [];
    // A chunk placed for locality may start only on another endpoint that reads it locally too.
    const local =
      copy.run.copies.length === 1 && copy.site.localPaths.length > 0 ? this.localSitesFor(copy.run) : undefined;
    const offPolicy = this.outsidePolicy(copy.run);
    for (const s of this.sites) {
      if (s === copy.site || !s.online || !s.staged.has(hash) || !s.sameStorage(copy.site)) continue;
      if (local && !local.has(s)) continue;
      if (offPolicy.has(s) || (this.o.endpointPolicy === 'fastest' && slowerThan(s, copy.site))) continue;
      if (copy.run.copies.some((c) => c !== copy && c.live && c.site === s)) continue;
      out.push(s.id);
    }
    return out.length ? out : undefined;
  }

  /** Endpoints the policy rules out for `run` whatever their load (`cheapest`: all but the cheapest able tier). */
  private outsidePolicy(run: Run): Set<Site> {
    const hash = run.job.processor.hash;
    return outsidePolicy(this.o.endpointPolicy, this.sites, (s) => !s.stageFailed.has(hash));
  }

  /**
   * The service started the chunk on another endpoint than the one it was sent to (late binding), or
   * its result came from a tail copy there (`byCopy`): account it there.
   */
  private rebind(copy: Copy, endpointId: string | undefined, byCopy = false): void {
    if (!endpointId || copy.site.id === endpointId) return;
    const site = this.sites.find((s) => s.id === endpointId);
    if (!site) return;
    if (copy.site.inflight.delete(copy)) site.inflight.add(copy);
    copy.site = site;
    if (!byCopy) this.faas.lateBound++;
  }

  /**
   * The tail policy every task is submitted with: the service copies stragglers by it. A batch says
   * how many chunks it holds, so that the service compares run times per chunk: a batch of 16 is not
   * a straggler among single chunks, nor does it make them look fast.
   */
  private tailPolicy(run: Run): TailPolicy {
    return {
      factor: this.o.stragglerFactor,
      min_ms: Math.round(this.o.minStragglerMs),
      max_copies: this.o.maxCopies,
      ...(this.o.tailTimeoutMs !== undefined ? { timeout_ms: Math.round(this.o.tailTimeoutMs) } : {}),
      ...(run.items.length > 1 ? { units: run.items.length } : {}),
    };
  }

  /** Delete a staged blob in the background; close() waits for these. */
  private deleteStaged(key: string): void {
    const p = deleteStaged(this.stageout().location, key).finally(() => this.deletions.delete(p));
    this.deletions.add(p);
  }

  /** The stage-out target; only asked for once a staged result shows one was set. */
  private stageout(): StageOutTarget {
    return this.stageoutTarget ?? brokenInvariant('a staged result while no stage-out target is set');
  }

  private siteStageout(site: Site): StageOutTarget {
    const t = this.stageout();
    return isHttpLocation(t.location) || !site.mapping ? t : { ...t, location: mapPath(t.location, site.mapping) };
  }

  /** Ship the bundle to a site once; every copy for that site waits on the same promise. */
  private stage(site: Site, bundle: ProcessorBundle): Promise<void> {
    let p = site.staged.get(bundle.hash);
    if (p) return p;
    p = new Promise<void>((resolve, reject) => {
      this.faas.bundleShipments++;
      this.channel.submit(
        site.id,
        { v: CHUNK_WIRE_VERSION, op: 'stage', hash: bundle.hash, code: bundle.code },
        {
          submitted: () => undefined,
          refused: reject,
          outcome: (o) => {
            const r = o.result as TaskReply | undefined;
            if (r?.kind === 'staged-bundle') return resolve();
            reject(
              this.setupError(
                site,
                o,
                r,
                `shipping the processor bundle of ${bundle.source} to endpoint ${site.name} failed`,
              ),
            );
          },
        },
      );
    });
    site.staged.set(bundle.hash, p);
    p.then(
      () => {
        site.ready.add(bundle.hash);
        site.stageFailed.delete(bundle.hash);
      },
      () => {
        site.staged.delete(bundle.hash);
        site.stageFailed.add(bundle.hash);
      },
    );
    return p;
  }

  // ---------------------------------------------------------------- outcomes

  private onOutcome(copy: Copy, o: TaskOutcome): void {
    // The service reran the task after losing its worker: a retry of the endpoint it first ran on (a
    // rerun may start on an alternate endpoint). Several losses are all counted there.
    if (o.attempts > 1) this.count(this.firstRanOn.get(copy) ?? copy.site, 'retries', o.attempts - 1);
    if (o.copies?.length) {
      // Service-side tail copies: counted at the endpoint the chunk straggled on (before rebinding).
      // Of the original and its copies one delivered; the service cancelled the others.
      this.faas.tailRetries += o.copies.length;
      this.faas.duplicatesCancelled += o.copies.length;
      this.count(copy.site, 'tailCopies', o.copies.length);
    }
    this.rebind(copy, o.endpointId, o.byCopy === true);
    copy.site.inflight.delete(copy);
    const { run } = copy;
    const reply = o.result as TaskReply | undefined;
    const success = !o.error && (reply?.kind === 'inline' || reply?.kind === 'staged');
    if (run.settled || (!copy.live && !success)) {
      // A losing copy: never merged. Its staged bytes (if any) are just deleted.
      if (success && run.settled) this.faas.duplicatesDiscarded++;
      if (reply?.kind === 'staged') this.deleteStaged(reply.ref.key);
      copy.live = false;
      this.pump();
      return;
    }
    // A copy given up on (its endpoint looked lost) that still delivers first is as good as any: it wins.
    if (o.error) {
      const e = o.error;
      const type = e instanceof TaskFailedError ? e.remoteType : undefined;
      // Lost for good: the service has rerun the chunk on its candidates as often as it allows. Like a
      // threads worker that dies, that is a WorkerLostError for the runner's --retries (one retry
      // policy, BaseExecutor's), not another round of moves here.
      // Counted as a retry where it was lost, as the service's own reruns are: the chunk did not fail,
      // its worker did (the live view's "failures" are the chunk function's own errors).
      if (type === 'WorkerLost' || type === 'EndpointLost' || type === 'TaskTimeout') {
        this.count(this.firstRanOn.get(copy) ?? copy.site, 'retries');
        return this.copyFailed(copy, new WorkerLostError(spanOf(run), e.message, type === 'EndpointLost'), false);
      }
      // Not a failure of the chunk: a cancellation meant for another task, or a task the service no
      // longer knows. Run it again elsewhere.
      if (type === 'Cancelled' || (e instanceof FaasRequestError && e.status === 404)) return this.copyLost(copy, e);
      return this.copyFailed(
        copy,
        this.setupError(copy.site, o, undefined, `the chunk function failed on endpoint ${copy.site.name}`),
      );
    }
    const r = o.result as TaskReply;
    switch (r?.kind) {
      case 'inline':
      case 'staged': {
        const metrics = metricsOf(run, r.metrics);
        if (!metrics)
          return this.copyFailed(
            copy,
            this.setupError(
              copy.site,
              o,
              r,
              `endpoint ${copy.site.name} answered a chunk task with unexpected metrics`,
            ),
          );
        if (r.kind === 'inline') return this.win(copy, { accumulator: r.accumulator.slice(), metrics });
        fetchStaged(this.stageout().location, r.ref).then(
          (bytes) => {
            this.faas.stagedResults++;
            this.faas.stagedBytes += bytes.byteLength;
            this.deleteStaged(r.ref.key);
            this.win(copy, { accumulator: bytes, metrics });
          },
          (err) => this.copyFailed(copy, err),
        );
        return;
      }
      case 'failed': {
        // In a batch, the item that failed (the error names its file and entries as the client knows them).
        const at = run.batch && Number.isInteger(r.index) ? run.items[r.index as number] : undefined;
        const failure = fromChunkFailure(at ?? run.item, r.failure);
        // This copy was never cancelled by us (it is live): a cancellation meant for another task
        // reached it. Run the chunk again rather than failing the analysis.
        if (r.failure.kind === 'cancelled') return this.copyLost(copy, failure);
        return this.copyFailed(copy, failure);
      }
      case 'missing-bundle':
        copy.site.staged.delete(r.hash);
        copy.site.ready.delete(r.hash);
        copy.live = false;
        this.queue.unshift(run);
        return this.pump();
      default:
        return this.copyFailed(
          copy,
          this.setupError(copy.site, o, r, `endpoint ${copy.site.name} cannot run Ristretto chunks`),
        );
    }
  }

  private win(copy: Copy, result: BatchResult): void {
    const { run } = copy;
    copy.live = false;
    if (run.settled) {
      this.faas.duplicatesDiscarded++;
      return this.pump();
    }
    run.settled = true;
    this.active.delete(run);
    // Speed is the worker's own time for the chunk: a round trip also holds the wait in the endpoint's
    // queue, which grows when other analyses share it, and would mark a busy endpoint slow (its
    // chunks then all get tail copies, which take its slots and those of the others).
    let events = 0;
    let seconds = 0;
    for (const m of result.metrics) {
      events += m.events;
      seconds += m.seconds;
    }
    copy.site.record(events, seconds, result.metrics.length);
    for (const other of run.copies) {
      if (!other.live) continue;
      other.live = false;
      other.site.inflight.delete(other);
      this.faas.duplicatesCancelled++;
      if (other.taskId) this.channel.cancel(other.taskId);
    }
    updateSlowness(this.sites, this.o.slowFactor);
    run.resolve(result);
    this.pump();
  }

  /** The chunk failed on this copy. It fails for good only when no other copy of it is still running. */
  private copyFailed(copy: Copy, error: unknown, countFailure = true): void {
    if (countFailure) this.count(copy.site, 'failures');
    copy.live = false;
    copy.site.inflight.delete(copy);
    const { run } = copy;
    if (run.settled) return this.pump();
    run.failure ??= error;
    if (!run.copies.some((c) => c.live)) this.settleFailed(run, run.failure);
    this.pump();
  }

  /**
   * The copy is gone without a verdict on the chunk (its endpoint went offline, a stray cancellation,
   * a task the service forgot): run the chunk elsewhere, up to maxMoves times.
   */
  private copyLost(copy: Copy, error: unknown): void {
    copy.live = false;
    copy.site.inflight.delete(copy);
    const { run } = copy;
    if (run.settled || run.copies.some((c) => c.live)) return this.pump();
    this.requeue(run, error, copy.site);
    this.pump();
  }

  private requeue(run: Run, error: unknown, lostOn?: Site): void {
    if (lostOn) this.count(lostOn, ++run.moves > this.o.maxMoves ? 'failures' : 'retries');
    else ++run.moves;
    if (run.moves > this.o.maxMoves) {
      const detail = error instanceof Error ? error.message : String(error);
      return this.settleFailed(run, new WorkerLostError(spanOf(run), `lost ${run.moves} times (last: ${detail})`));
    }
    this.faas.moved++;
    this.queue.unshift(run);
  }

  private settleFailed(run: Run, error: unknown): void {
    if (run.settled) return;
    run.settled = true;
    this.active.delete(run);
    run.reject(error);
  }

  private setupError(site: Site, o: TaskOutcome, r: TaskReply | undefined, what: string): Error {
    if (r?.kind === 'version-mismatch') {
      return new EndpointSetupError(
        `${what}: it speaks chunk-message revision ${r.endpointVersion}, this client ${CHUNK_WIRE_VERSION}`,
        { endpoint: site.name },
        'install the same Ristretto version at the endpoint and here',
      );
    }
    if (r?.kind === 'failed')
      return new EndpointSetupError(
        `${what}: ${r.failure.name}: ${r.failure.message}`,
        { endpoint: site.name },
        r.failure.name === 'BundleNotAllowedError'
          ? `ask the admin of endpoint ${site.name} to add --allow-bundle with this bundle's hash (or to drop the pin)`
          : 'check that the endpoint runs from a Ristretto installation with the packages the processor imports',
      );
    const e = o.error;
    if (e instanceof TaskFailedError) {
      const hint =
        e.remoteType === 'MaxResultSizeExceeded'
          ? 'pass --stageout DIR|URL so large results bypass the service'
          : e.remoteType === 'Forbidden'
            ? "ask the endpoint's owner to allow the Ristretto chunk function"
            : e.remoteType === 'FunctionLoadFailed' || /Ristretto installation|RISTRETTO_HOME/.test(e.remoteMessage)
              ? 'run the endpoint from a Ristretto installation, or set RISTRETTO_HOME for it'
              : undefined;
      return new EndpointSetupError(
        `${what}: ${e.remoteMessage}`,
        { endpoint: site.name, taskId: e.taskId, remoteType: e.remoteType, remoteStack: e.remoteStack },
        hint,
        { cause: e },
      );
    }
    return new EndpointSetupError(
      `${what}: ${e?.message ?? `unexpected reply ${JSON.stringify(r)?.slice(0, 200)}`}`,
      { endpoint: site.name },
      undefined,
      { cause: e },
    );
  }

  // ---------------------------------------------------------------- health

  /** Poll endpoint status; move chunks off endpoints offline for longer than the grace period. */
  private async poll(): Promise<void> {
    if (this.closed) return;
    let infos: EndpointInfo[];
    try {
      infos = await this.fx.listEndpoints();
      this.channel.lastContact = Date.now();
    } catch {
      return; // the service is restarting: submissions wait for it, nothing to decide here
    }
    const now = Date.now();
    // Endpoints matching a tag selector that appeared (or were shared) since the start join the run.
    if (this.tagSelectors.length) {
      for (const e of infos) {
        if (e.status !== 'online' || this.sites.some((s) => s.id === e.endpoint_id)) continue;
        if (!this.tagSelectors.some((t) => matchesTag(e.tags ?? [], t))) continue;
        this.sites.push(siteOf(e, this.o));
        this.o.onNote?.(`endpoint ${e.name} (tags ${e.tags.join(',')}) came online and joins the run`);
      }
    }
    for (const s of this.sites) {
      const info = infos.find((e) => e.endpoint_id === s.id);
      const online = info?.status === 'online';
      if (info && info.capacity > 0) s.capacity = info.capacity;
      if (online) {
        s.online = true;
        s.offlineSince = 0;
        continue;
      }
      s.offlineSince ||= now;
      if (s.online && now - s.offlineSince >= this.o.offlineGraceMs) {
        s.online = false;
        this.faas.endpointsLost++;
        this.o.onNote?.(`endpoint ${s.name} is offline; moving its ${s.inflight.size} chunk(s) elsewhere`);
        this.evacuate(s);
      }
    }
    this.pump();
  }

  /**
   * The endpoint is gone (offline past the grace period): abandon its copies and run their chunks
   * elsewhere. The service would keep them waiting for it when they have no alternates.
   */
  private evacuate(site: Site): void {
    for (const c of [...site.inflight] as Copy[]) {
      const run = c.run;
      c.live = false;
      site.inflight.delete(c);
      if (c.taskId) this.channel.cancel(c.taskId);
      if (!run.settled && !run.copies.some((x) => x.live) && !this.queue.includes(run))
        this.requeue(run, new Error(`endpoint ${site.name} went offline`), site);
    }
  }

  // ---------------------------------------------------------------- shutdown

  protected override onCancel(): void {
    for (const run of [...this.active]) this.abandon(run);
    this.queue.length = 0;
  }

  private abandon(run: Run): void {
    for (const c of run.copies) {
      if (!c.live) continue;
      c.live = false;
      c.site.inflight.delete(c);
      if (c.taskId) this.channel.cancel(c.taskId);
    }
    this.settleFailed(run, new CancelledError(run.item));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const run of [...this.active]) this.abandon(run);
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.channel.close();
    await Promise.all(this.deletions);
    if (this.stageoutTarget) await cleanupRun(this.stageoutTarget.location, this.stageoutTarget.runId);
    if (this.ownClient) await this.fx.close();
  }
}

/**
 * What a lost task names: its work item, or for a batch one item spanning the batch's entries (the
 * endpoint died somewhere inside it; a lost run does not say where).
 */
function spanOf(run: Run): WorkItem {
  const last = run.items[run.items.length - 1];
  return run.batch && last ? { ...run.item, entryStop: last.entryStop } : run.item;
}

/** A reply's metrics as one entry per item of the task, or undefined when they do not fit the task. */
function metricsOf(run: Run, m: ReplyMetrics): ChunkMetrics[] | undefined {
  if (!run.batch) return m && !Array.isArray(m) ? [m as ChunkMetrics] : undefined;
  return Array.isArray(m) && m.length === run.items.length ? (m as ChunkMetrics[]) : undefined;
}

function siteOf(e: EndpointInfo, o: ResolvedFaasOptions): Site {
  return new Site(
    e.endpoint_id,
    e.name,
    e.capacity,
    e.status === 'online',
    mappingFor(o.pathMap, e.name, e.endpoint_id),
    e.local_paths ?? [],
    e.tags ?? [],
  );
}

/** `name [tags]` of each endpoint, for errors about selectors. */
function describeEndpoints(all: readonly EndpointInfo[]): string {
  if (all.length === 0) return 'no endpoints are visible to you';
  return all
    .map((e) => `${e.name} [${(e.tags ?? []).join(', ') || 'no tags'}]${e.status === 'online' ? '' : ' (offline)'}`)
    .join('; ');
}

/**
 * An `--endpoints` entry that is an id or a name, resolved as the service resolves it for the SDK and
 * `faas endpoint` commands: a name that one visible endpoint has is that one; "owner/name" (an endpoint
 * another user shares) and a name several users' endpoints have are asked of the service, which prefers
 * the caller's own and calls the rest ambiguous (a Conflict naming owner/name for each). Undefined when
 * no visible endpoint matches.
 */
async function findNamedEndpoint(
  fx: FaasClient,
  all: readonly EndpointInfo[],
  want: string,
): Promise<EndpointInfo | undefined> {
  const byId = all.find((x) => x.endpoint_id === want);
  if (byId) return byId;
  const named = all.filter((x) => x.name === want);
  if (named.length === 1) return named[0];
  if (named.length === 0 && !want.includes('/')) return undefined;
  try {
    const e = await fx.getEndpoint(want);
    return all.find((x) => x.endpoint_id === e.endpoint_id) ?? e;
  } catch (err) {
    if (err instanceof FaasRequestError && (err.status === 404 || err.status === 403)) return undefined;
    throw err;
  }
}

/**
 * Resolve endpoint names/ids and `tag:` selectors, and wait (up to the connect timeout) until at least
 * one is online. A selector matches every visible endpoint with that tag, online or not; one that
 * matches none is an error listing the endpoints and their tags.
 */
async function waitForEndpoints(fx: FaasClient, o: ResolvedFaasOptions): Promise<EndpointInfo[]> {
  const deadline = Date.now() + o.connectTimeoutMs;
  const { names, tags } = splitSelectors(o.endpoints);
  for (;;) {
    const all = await fx.listEndpoints();
    const found: EndpointInfo[] = [];
    for (const want of tags) {
      const matched = all.filter((e) => matchesTag(e.tags ?? [], want));
      if (matched.length === 0) {
        throw new EndpointSelectorError(
          `no endpoint has the tag "${want}" (--endpoints tag:${want}); endpoints and their tags: ${describeEndpoints(all)}`,
          {
            selector: `tag:${want}`,
            service: o.service,
            endpoints: all.map((e) => ({ name: e.name, tags: e.tags ?? [] })),
          },
          'pick a tag from the list, or start an endpoint with `ristretto faas endpoint start ... --tag TAG`',
        );
      }
      for (const e of matched) if (!found.some((f) => f.endpoint_id === e.endpoint_id)) found.push(e);
    }
    for (const want of names) {
      const e = await findNamedEndpoint(fx, all, want);
      if (!e) {
        // Others' endpoints as `faas endpoint list` and the SDK name them: owner/name.
        const near = closestNames(want, [...new Set(all.flatMap((x) => [x.name, `${x.owner}/${x.name}`]))], 3);
        throw new EndpointNotFoundError(
          `endpoint "${want}" does not exist or is not shared with you`,
          { endpoint: want, service: o.service },
          near.length
            ? `closest endpoint names: ${near.join(', ')}`
            : `no endpoints are visible to you; start one with \`ristretto faas endpoint start --service ${o.service} --name NAME\``,
        );
      }
      if (found.some((f) => f.endpoint_id === e.endpoint_id)) {
        // Named and also matched by a tag selector: once is enough.
        if (tags.length) continue;
        throw new FaasExecutorError(
          `endpoint "${want}" is listed twice in --endpoints`,
          { endpoint: want },
          'name each endpoint once',
        );
      }
      found.push(e);
    }
    if (found.some((e) => e.status === 'online')) return found;
    if (Date.now() > deadline) {
      throw new NoEndpointOnlineError(
        `none of the endpoints ${o.endpoints.join(', ')} is online`,
        { endpoints: o.endpoints, waitedSeconds: o.connectTimeoutMs / 1000 },
        'start them with `ristretto faas endpoint start`, or check `ristretto faas endpoint list`',
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
