/**
 * What the executor knows about each endpoint ("site") and how it picks one for the next chunk:
 * advertised capacity, observed speed (seconds per event, moving average of round trips), health
 * (online, slow) and what it runs for us now. Pure bookkeeping, no I/O.
 */

export interface SiteCopy {
  /** ms timestamp when the copy was handed to the service. */
  readonly startedAt: number;
  straggler: boolean;
}

export class Site {
  capacity: number;
  online: boolean;
  /** When the service first reported it offline (0 while online). */
  offlineSince = 0;
  /** Copies running (or queued) there for us. */
  readonly inflight = new Set<SiteCopy>();
  /** Chunks it won, and their events. */
  done = 0;
  events = 0;
  /** Moving average of round-trip seconds per event; undefined before the first result. */
  secPerEvent: number | undefined;
  samples = 0;
  /** Seconds per event of its last few won chunks, oldest first (the `fastest` policy takes their median). */
  readonly recentSecPerEvent: number[] = [];
  /** Marked slow by its observed speed; it gets no new work except an occasional probe. */
  slowByRate = false;
  lastProbe = 0;
  /** Processor bundles staged there, by hash. */
  readonly staged = new Map<string, Promise<void>>();
  /** Hashes whose staging there has finished, and those whose staging failed (not retried unasked). */
  readonly ready = new Set<string>();
  readonly stageFailed = new Set<string>();

  constructor(
    readonly id: string,
    readonly name: string,
    capacity: number,
    online: boolean,
    /** Prefix → local path mapping of this site's storage mounts. */
    readonly mapping: Readonly<Record<string, string>> | undefined,
    /** Path prefixes its workers read locally (as the site sees paths, after `mapping`). */
    readonly localPaths: readonly string[] = [],
    /** Capability tags it advertised (`cost=3` is read by the `cheapest` endpoint policy). */
    readonly tags: readonly string[] = [],
  ) {
    this.capacity = capacity;
    this.online = online;
  }

  /** Whether a chunk prepared for `other` (paths mapped for it) is valid here too. */
  sameStorage(other: Site): boolean {
    return JSON.stringify(this.mapping ?? null) === JSON.stringify(other.mapping ?? null);
  }

  /** Tasks we keep in flight there: its capacity plus `ahead` queued, so a worker never waits on a round trip. */
  limit(ahead: number): number {
    return Math.max(1, this.capacity) + ahead;
  }

  hasStraggler(): boolean {
    for (const c of this.inflight) if (c.straggler) return true;
    return false;
  }

  /** Record a won task of `chunks` chunks: `seconds` of work (the worker's own time) for `events` events. */
  record(events: number, seconds: number, chunks = 1): void {
    this.done += chunks;
    this.events += events;
    const spe = seconds / Math.max(1, events);
    this.secPerEvent = this.secPerEvent === undefined ? spe : 0.7 * this.secPerEvent + 0.3 * spe;
    this.samples++;
    this.recentSecPerEvent.push(spe);
    if (this.recentSecPerEvent.length > 5) this.recentSecPerEvent.shift();
  }
}

export interface PickOptions {
  ahead: number;
  /** A site this much slower per event than the fastest one is slow. */
  slowFactor: number;
  /** Slow sites get one probe chunk this often (ms), so a recovered site is noticed. */
  probeMs: number;
  now: number;
  /** Sites to leave out (where the chunk already runs). */
  exclude?: ReadonlySet<Site>;
}

/** Re-evaluate which sites are slow by rate (needs two samples on a site and on the fastest). */
export function updateSlowness(sites: readonly Site[], slowFactor: number): void {
  let best = Infinity;
  for (const s of sites) {
    const rate = s.secPerEvent;
    if (s.online && s.samples >= 2 && rate !== undefined && rate < best) best = rate;
  }
  for (const s of sites) {
    const rate = s.secPerEvent;
    s.slowByRate = Number.isFinite(best) && s.samples >= 2 && rate !== undefined && rate > slowFactor * best;
  }
}

/**
 * The site for the next copy of a chunk, or undefined when none has room. Healthy sites (online, not
 * slow, no straggler of ours) come first, by free share of their slots times observed speed. Slow sites
 * get work only when no healthy site exists at all, or as a periodic probe when idle.
 */
export function pickSite(sites: readonly Site[], o: PickOptions): Site | undefined {
  const usable = sites.filter((s) => s.online && !o.exclude?.has(s));
  const healthy = usable.filter((s) => !s.slowByRate && !s.hasStraggler());
  let best: Site | undefined;
  let bestScore = -Infinity;
  const known = healthy.flatMap((s) => (s.secPerEvent === undefined ? [] : [s.secPerEvent]));
  const typical = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  for (const s of healthy) {
    const lim = s.limit(o.ahead);
    if (s.inflight.size >= lim) continue;
    const speed = 1 / (s.secPerEvent ?? typical);
    const score = ((lim - s.inflight.size) / lim) * speed;
    if (score > bestScore) (best = s), (bestScore = score);
  }
  if (best || healthy.length > 0) return best ?? probe(usable, o);
  // Nothing healthy is online: use what there is, least loaded first.
  for (const s of usable) {
    if (s.inflight.size >= s.limit(o.ahead)) continue;
    if (!best || s.inflight.size < best.inflight.size) best = s;
  }
  return best;
}

function probe(usable: readonly Site[], o: PickOptions): Site | undefined {
  for (const s of usable) {
    if (s.slowByRate && s.inflight.size === 0 && o.now - s.lastProbe >= o.probeMs) {
      s.lastProbe = o.now;
      return s;
    }
  }
  return undefined;
}
