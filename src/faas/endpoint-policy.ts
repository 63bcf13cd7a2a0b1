/**
 * Endpoint policies: which of several endpoints that could run a chunk gets it.
 *
 * - `data-local` (the default): a chunk whose file an endpoint reads locally waits for that endpoint;
 *   other chunks go to the endpoint with the largest free share of its slots, weighted by its measured
 *   speed.
 * - `fastest`: each chunk goes where it is expected to *finish* first (earliest expected finish time):
 *   an endpoint's expected finish is its seconds per event, learnt from finished chunks during the
 *   run, times the waves of our chunks ahead of this one there (`floor(queued / slots) + 1`). A chunk
 *   waits for a busy fast endpoint rather than start on a slow one, unless so many chunks wait that
 *   the slow one would finish it sooner. Before an endpoint has finished a chunk it counts as the
 *   mean of the measured ones (all alike at the start), so every endpoint gets tried.
 * - `cheapest`: only the endpoints with the lowest `cost=` tag among those able to run the chunk get
 *   it (ties share the work as under `data-local`); endpoints without a cost tag come last. A more
 *   expensive endpoint is used when every cheaper one has left (offline past the grace period) or
 *   cannot take the processor; it is a fallback, not overflow, so a busy cheap endpoint is waited for.
 *
 * Pure functions over a structural view of an endpoint, shared by the FaaS executor and SDK users who
 * pick endpoints themselves ({@link rankEndpoints}).
 *
 * @example
 * ```ts
 * import { checkEndpointPolicy, costOf, rankEndpoints } from 'ristretto/faas';
 * const policy = checkEndpointPolicy('cheapest');
 * console.log(costOf(['gpu', 'cost=2.5'])); // 2.5
 * const eps = [
 *   { name: 'cloud', status: 'online', capacity: 8, in_flight: 0, tags: ['cost=5'] },
 *   { name: 'campus', status: 'online', capacity: 4, in_flight: 0, tags: ['cost=1'] },
 *   { name: 'laptop', status: 'online', capacity: 2, in_flight: 0, tags: [] },
 * ];
 * console.log(rankEndpoints(eps, policy).map((e) => e.name)); // [ 'campus', 'cloud', 'laptop' ]
 * ```
 */
import { FaasError } from './errors.ts';

/** The placement policies, the default first. */
export const ENDPOINT_POLICIES = ['data-local', 'fastest', 'cheapest'] as const;
export type EndpointPolicy = (typeof ENDPOINT_POLICIES)[number];

/** An unknown policy name; lists the known ones. */
export class EndpointPolicyError extends FaasError {}

/** Check a policy name (from `--endpoint-policy` or the SDK); throws EndpointPolicyError naming the choices. */
export function checkEndpointPolicy(name: unknown, option = '--endpoint-policy'): EndpointPolicy {
  if (typeof name === 'string' && (ENDPOINT_POLICIES as readonly string[]).includes(name))
    return name as EndpointPolicy;
  throw new EndpointPolicyError(
    `${option} must be one of ${ENDPOINT_POLICIES.join(', ')}, got ${JSON.stringify(name)}`,
    { option, value: typeof name === 'string' ? name.slice(0, 100) : String(name) },
    'data-local (default) sends chunks first to endpoints that read their files locally; fastest to the endpoint expected to finish them first; cheapest only to the endpoints with the lowest cost= tag',
  );
}

/** The number in an endpoint's `cost=` tag, or undefined when it has none (or one that is not a number ≥ 0). */
export function costOf(tags: readonly string[]): number | undefined {
  for (const t of tags) {
    if (!t.startsWith('cost=')) continue;
    const v = Number(t.slice(5));
    if (t.length > 5 && Number.isFinite(v) && v >= 0) return v;
  }
  return undefined;
}

/**
 * The cheapest tier: those of `candidates` whose cost equals the lowest cost among them (endpoints
 * without a cost count as more expensive than any with one). Empty input gives an empty set.
 */
export function cheapestTier<T>(candidates: Iterable<T>, cost: (c: T) => number | undefined): Set<T> {
  let best = Infinity;
  const all = [...candidates];
  for (const c of all) best = Math.min(best, cost(c) ?? Infinity);
  return new Set(all.filter((c) => (cost(c) ?? Infinity) === best));
}

/** What the `fastest` policy needs to know about an endpoint. */
export interface SpeedView {
  /** Worker slots it advertises. */
  readonly capacity: number;
  /** Our chunks there now (running or queued). */
  readonly queued: number;
  /** Most of our chunks it may hold (slots plus the ones sent ahead). */
  readonly limit: number;
  /** Measured seconds per event (worker time), undefined before its first result. */
  readonly secPerEvent: number | undefined;
}

/**
 * `fastest`: the index of the endpoint where the next chunk is expected to finish first, or -1 when
 * that endpoint is full (the chunk should wait for it) or there are none. `waiting` is the number of
 * chunks already waiting before this one: they are expected to go to the full endpoints first, which
 * is what makes a slower endpoint with a free slot worth it once enough chunks wait.
 */
export function fastestIndex(sites: readonly SpeedView[], waiting = 0): number {
  let known = 0;
  let sum = 0;
  for (const s of sites) {
    if (s.secPerEvent !== undefined) {
      known++;
      sum += s.secPerEvent;
    }
  }
  // The prior: an endpoint not measured yet is as fast as the mean of those that are.
  const prior = known ? sum / known : 1;
  let best = -1;
  let bestFinish = Infinity;
  let bestFree = -1;
  for (let i = 0; i < sites.length; i++) {
    const s = sites[i];
    const slots = Math.max(1, s.capacity);
    const full = s.queued >= s.limit;
    const ahead = s.queued + (full ? waiting : 0);
    const finish = (Math.floor(ahead / slots) + 1) * (s.secPerEvent ?? prior);
    const free = full ? -1 : s.limit - s.queued;
    // Ties (e.g. all unmeasured) go to the endpoint with room, then the one with the most room.
    if (finish < bestFinish || (finish === bestFinish && free > bestFree)) {
      best = i;
      bestFinish = finish;
      bestFree = free;
    }
  }
  return best >= 0 && sites[best].queued < sites[best].limit ? best : -1;
}

/** The parts of an endpoint listing {@link rankEndpoints} looks at (an `EndpointInfo` has them). */
export interface RankableEndpoint {
  readonly name: string;
  readonly status: string;
  readonly capacity: number;
  readonly in_flight: number;
  readonly tags?: readonly string[];
}

/**
 * For SDK users who place tasks themselves: the online endpoints of a listing in the order a policy
 * prefers them. `cheapest` orders by cost tag (none last), then free slots; `fastest` puts the
 * endpoints measured in `secondsPerTask` (by name, measured by the caller) first, quickest first, and
 * the others after them by free slots; `data-local` (which needs a file) orders by free slots. Submit
 * to the first and pass the rest as `alternates` (for `cheapest`, only those of the same cost).
 */
export function rankEndpoints<E extends RankableEndpoint>(
  endpoints: readonly E[],
  policy: EndpointPolicy,
  secondsPerTask: Readonly<Record<string, number>> = {},
): E[] {
  const free = (e: E) => Math.max(0, e.capacity - e.in_flight);
  const online = endpoints.filter((e) => e.status === 'online');
  return online.sort((a, b) => {
    if (policy === 'cheapest') {
      const d = (costOf(a.tags ?? []) ?? Infinity) - (costOf(b.tags ?? []) ?? Infinity);
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    if (policy === 'fastest') {
      const sa = secondsPerTask[a.name];
      const sb = secondsPerTask[b.name];
      if (sa !== undefined && sb !== undefined && sa !== sb) return sa - sb;
      if ((sa === undefined) !== (sb === undefined)) return sa === undefined ? 1 : -1;
    }
    return free(b) - free(a);
  });
}

/** The FaaS executor's view of an endpoint, for {@link outsidePolicy} and {@link pickFastest}. */
export interface PolicySite {
  readonly tags: readonly string[];
  readonly online: boolean;
  readonly capacity: number;
  readonly inflight: { readonly size: number };
  readonly secPerEvent: number | undefined;
  /** Seconds per event of its last few finished chunks (their median is its speed under `fastest`). */
  readonly recentSecPerEvent?: readonly number[];
  limit(ahead: number): number;
}

/**
 * Speed estimate of a site for `fastest`: the median of its recent chunks, so one slow first chunk
 * (a cold worker importing the processor) does not brand an endpoint slow for the rest of the run.
 */
export function speedOf(s: Pick<PolicySite, 'secPerEvent' | 'recentSecPerEvent'>): number | undefined {
  const r = s.recentSecPerEvent;
  if (!r || r.length === 0) return s.secPerEvent;
  const sorted = [...r].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/**
 * `fastest` and late binding: whether `alt` is expected to be slower per chunk than `site` (then a
 * copy sent to `site` must not be started on `alt` by the service). Unmeasured sites are not slower.
 */
export function slowerThan(
  alt: Pick<PolicySite, 'secPerEvent' | 'recentSecPerEvent'>,
  site: Pick<PolicySite, 'secPerEvent' | 'recentSecPerEvent'>,
): boolean {
  const a = speedOf(alt);
  const b = speedOf(site);
  return a !== undefined && b !== undefined && a > b;
}

/**
 * The sites a policy rules out for a chunk, whatever their load: under `cheapest` every site outside
 * the cheapest tier of the online sites that are `able` to run it (have not refused its processor);
 * none under the other policies. Recomputed per decision, so when the cheap sites leave, the next tier
 * takes over, and when they come back, they get the work again.
 */
export function outsidePolicy<S extends PolicySite>(
  policy: EndpointPolicy,
  sites: readonly S[],
  able: (s: S) => boolean,
): Set<S> {
  if (policy !== 'cheapest') return new Set();
  const tier = cheapestTier(
    sites.filter((s) => s.online && able(s)),
    (s) => costOf(s.tags),
  );
  return new Set(sites.filter((s) => !tier.has(s)));
}

/**
 * `fastest` over the executor's sites: the online, not excluded site where the chunk is expected to
 * finish first, or undefined when that site is full (wait for it) or none is left.
 */
export function pickFastest<S extends PolicySite>(
  sites: readonly S[],
  exclude: ReadonlySet<S>,
  ahead: number,
  waiting: number,
): S | undefined {
  const usable = sites.filter((s) => s.online && !exclude.has(s));
  const i = fastestIndex(
    usable.map((s) => ({
      capacity: s.capacity,
      queued: s.inflight.size,
      limit: s.limit(ahead),
      secPerEvent: speedOf(s),
    })),
    waiting,
  );
  return i < 0 ? undefined : usable[i];
}
