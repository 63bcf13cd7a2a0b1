/**
 * Tail copies, decided by the service: a task submitted with a tail policy (TaskSpec.tail) and
 * alternates that runs much longer than the recent tasks of its group gets a copy on one of its
 * alternates with an idle worker slot. The first result wins for the whole group (Store.complete);
 * the other runs are cancelled at their agents.
 *
 * The service sees every task start and finish, across all clients, so it judges stragglers from
 * the run times of the task's own group (one analysis = one fair-share group and one function) and
 * copies into slots it knows are idle — the client submits and accounts results only. The numbers
 * (window, patience, tick) are in ../scheduling.ts with the rest of the placement policy.
 *
 * @example
 * ```ts
 * // Inside the service (see AgentHub): a task with a policy is tracked from its submission,
 * // its dispatches and starts are reported, and a timer calls tick().
 * const tails = new TailScheduler(store, { idleSlots: (ep) => hub.idleSlots(ep), sendCopy: (ep, t) => hub.sendCopy(ep, t) });
 * tails.track(taskId, fnId, group, ['ep-a', 'ep-b'], { factor: 3, min_ms: 200, max_copies: 2 }, 0);
 * tails.dispatched(taskId, 'ep-a');
 * tails.tick(Date.now());
 * ```
 */
import type { TailPolicy } from '../protocol.ts';
import { TAIL_MOVABLE_PATIENCE, TAIL_RECENT_CHUNKS, pushRecent, stragglerMs } from '../scheduling.ts';
import type { ClaimedTask, Store } from './db.ts';

/** What the scheduler needs from the agent hub. */
export interface CopyPlacement {
  /** Free worker slots of a connected endpoint with nothing of its own waiting, else 0. */
  idleSlots(endpointId: string): number;
  /** Send a copy stored as dispatched to the endpoint's agent; false when it is not connected. */
  sendCopy(endpointId: string, task: ClaimedTask): boolean;
}

/** Run and round-trip times (s) of the recent tasks of one group. */
interface Recent {
  readonly runs: number[];
  readonly trips: number[];
}

interface Tracked {
  readonly id: string;
  readonly recent: Recent;
  /** Endpoints the task may run on, its own first. */
  readonly candidates: readonly string[];
  readonly policy: TailPolicy;
  /** Copies made so far (from the database after a restart). */
  copies: number;
  /** Where it is in flight, undefined while it waits in the service. */
  endpoint: string | undefined;
  dispatchedAt: number;
  runningAt: number | undefined;
  /** Live copies: copy id → endpoint. */
  readonly live: Map<string, string>;
}

export class TailScheduler {
  /** Originals with a policy and unfinished, by id. */
  private readonly tracked = new Map<string, Tracked>();
  /** Originals in flight at an endpoint (the only ones a tick looks at). */
  private readonly inFlight = new Set<Tracked>();
  /** Copy id → its original. */
  private readonly copyOf = new Map<string, Tracked>();
  private readonly recentOf = new Map<string, Recent>();
  /**
   * Copies restored at a restart, copy id → endpoint: lost unless their agent re-attaches within the
   * grace window (see `expireRestored`).
   */
  private readonly restored = new Map<string, string>();
  /** Copies made since the start (for the metrics). */
  copiesMade = 0;

  constructor(
    private readonly store: Store,
    private readonly place: CopyPlacement,
  ) {
    // After a restart: every unfinished task with a policy waits again; it is tracked anew with the
    // copies it had (max_copies counts them) and its unfinished copies as live: while one lives the
    // task gets no other, and when one is lost or fails the task may be copied again.
    for (const t of store.tailTasks()) {
      const candidates = t.alts ? t.alts.split(' ') : [];
      let policy: TailPolicy;
      try {
        policy = JSON.parse(t.tail) as TailPolicy;
      } catch {
        continue;
      }
      this.track(t.id, t.function_id, t.grp, candidates, policy, t.copies);
    }
    // ... and its group's recent run times, so a straggler is judged as before the restart.
    for (const [key, recent] of this.recentOf) {
      const sep = key.indexOf(' ');
      for (const r of store.recentRuns(key.slice(0, sep), key.slice(sep + 1), TAIL_RECENT_CHUNKS).reverse()) {
        pushRecent(recent.runs, r.run);
        pushRecent(recent.trips, r.trip);
      }
    }
    for (const c of store.liveCopies()) {
      const t = this.tracked.get(c.copy_of);
      if (!t) continue;
      t.live.set(c.id, c.endpoint_id);
      this.copyOf.set(c.id, t);
      this.restored.set(c.id, c.endpoint_id);
    }
  }

  /**
   * The grace window after a restart is over: the restored copies still live whose endpoint is not
   * connected now (`connected`) are returned, for the caller to drop in the store and report `lost`.
   * Those whose agent came back stay: it holds them, or claims them from the queue.
   */
  expireRestored(connected: (endpointId: string) => boolean): string[] {
    const gone: string[] = [];
    for (const [id, endpoint] of this.restored) if (this.copyOf.has(id) && !connected(endpoint)) gone.push(id);
    this.restored.clear();
    return gone;
  }

  /** Copies of `id` in flight, copy id → endpoint (for tests and metrics). */
  liveCopiesOf(id: string): ReadonlyMap<string, string> | undefined {
    return this.tracked.get(id)?.live;
  }

  /** Tasks being watched for tails (for tests and metrics). */
  get size(): number {
    return this.tracked.size;
  }

  /** A task with a tail policy was stored. Without a second candidate there is nowhere to copy it: ignored. */
  track(
    id: string,
    functionId: string,
    group: string,
    candidates: readonly string[],
    policy: TailPolicy,
    copies: number,
  ): void {
    if (candidates.length < 2 || policy.max_copies < 2) return;
    const key = `${functionId} ${group}`;
    let recent = this.recentOf.get(key);
    if (!recent) this.recentOf.set(key, (recent = { runs: [], trips: [] }));
    this.tracked.set(id, {
      id,
      recent,
      candidates,
      policy,
      copies,
      endpoint: undefined,
      dispatchedAt: 0,
      runningAt: undefined,
      live: new Map(),
    });
  }

  /**
   * Sent to an agent (first dispatch, claim after a requeue, hand-over after a recall), or held by an
   * agent that attached again (after a service restart or a reconnect: the agent reclaims it).
   */
  dispatched(id: string, endpointId: string, now: number): void {
    const t = this.tracked.get(id);
    if (!t) return;
    t.endpoint = endpointId;
    t.dispatchedAt = now;
    t.runningAt = undefined;
    this.inFlight.add(t);
  }

  /** The agent reports it running. */
  started(id: string, now: number): void {
    const t = this.tracked.get(id);
    if (t && t.endpoint !== undefined) t.runningAt ??= now;
  }

  /** Lost with its worker or endpoint and waiting again (an original), or lost for good (a copy). */
  lost(id: string): void {
    const c = this.copyOf.get(id);
    if (c) {
      c.live.delete(id);
      this.copyOf.delete(id);
      return;
    }
    const t = this.tracked.get(id);
    if (!t) return;
    t.endpoint = undefined;
    t.runningAt = undefined;
    this.inFlight.delete(t);
  }

  /**
   * A run of a group finished with this result (`id` is the run's own id, a copy's or the
   * original's); `runSeconds` is its worker time, when it succeeded. Ends the group when `ended`.
   */
  finished(id: string, now: number, runSeconds: number | undefined, ended: boolean): void {
    const copyOwner = this.copyOf.get(id);
    const t = copyOwner ?? this.tracked.get(id);
    if (!t) return;
    if (runSeconds !== undefined) {
      // Per unit of work: a batch of chunks counts as that many chunks of its group.
      const units = unitsOf(t.policy);
      pushRecent(t.recent.runs, runSeconds / units);
      if (!copyOwner && t.endpoint !== undefined) pushRecent(t.recent.trips, (now - t.dispatchedAt) / 1000 / units);
    }
    if (copyOwner) {
      copyOwner.live.delete(id);
      this.copyOf.delete(id);
    }
    if (ended || !copyOwner) this.forget(t.id);
  }

  /** The task is finished or cancelled: stop watching it and its copies. */
  forget(id: string): void {
    const t = this.tracked.get(id);
    if (!t) return;
    this.tracked.delete(id);
    this.inFlight.delete(t);
    for (const c of t.live.keys()) this.copyOf.delete(c);
  }

  /**
   * Copy the stragglers: in-flight tasks with no live copy that have run (since their running
   * notice) longer than the policy's threshold over their group's recent run times, or waited at
   * their agent unstarted longer than TAIL_MOVABLE_PATIENCE × the threshold over recent round trips
   * (a task with alternates that waits is already started by the first endpoint with a free slot,
   * so only one held far longer — a stuck agent — is copied). A copy goes only into an idle slot of
   * another candidate, so it never delays a task that waits.
   */
  tick(now: number): number {
    let made = 0;
    for (const t of this.inFlight) {
      if (t.live.size > 0 || t.copies + 1 >= t.policy.max_copies) continue;
      const runningAt = t.runningAt;
      const running = runningAt !== undefined;
      let threshold = stragglerMs(
        running ? t.recent.runs : t.recent.trips,
        t.policy.factor,
        t.policy.timeout_ms,
        t.policy.min_ms,
      );
      if (threshold === undefined) continue;
      threshold *= unitsOf(t.policy);
      const waited = now - (runningAt ?? t.dispatchedAt);
      if (waited < (running ? threshold : TAIL_MOVABLE_PATIENCE * threshold)) continue;
      const target = this.target(t);
      if (!target) continue;
      const copy = this.store.insertCopy(t.id, target);
      if (!copy) {
        // Finished or lost in the meantime without us hearing: look at it again when it is dispatched.
        this.inFlight.delete(t);
        continue;
      }
      t.copies++;
      t.live.set(copy.id, target);
      this.copyOf.set(copy.id, t);
      this.place.sendCopy(target, copy);
      this.copiesMade++;
      made++;
    }
    return made;
  }

  /** The candidate with the most idle slots, other than where the task runs. */
  private target(t: Tracked): string | undefined {
    let best: string | undefined;
    let most = 0;
    for (const e of t.candidates) {
      if (e === t.endpoint) continue;
      const idle = this.place.idleSlots(e);
      if (idle > most) {
        most = idle;
        best = e;
      }
    }
    return best;
  }
}

/** The units of work a task holds (TailPolicy.units); anything but a positive integer counts as 1. */
function unitsOf(policy: TailPolicy): number {
  const u = policy.units;
  return typeof u === 'number' && Number.isInteger(u) && u > 0 ? u : 1;
}
