/**
 * Client messages take turns on the service's only thread (issue 14). Each message runs whole (a
 * submission is one transaction), but once the messages run in one event-loop turn have used
 * TURN_BUDGET_MS, the next ones wait for a later turn, taken round robin across users: between turns
 * the service reads its sockets — endpoints' heartbeats and results, other users' requests. Without it,
 * eight 100,000-task submissions read in one turn held the thread ~25 s, and every other user waited.
 * A user's own messages keep their order; among users with waiting messages, the one served least
 * recently goes first (see next).
 */

/** Work run in one turn before waiting messages are left to the next (one heavy message may exceed it). */
export const TURN_BUDGET_MS = 20;

/** What a waiting message's connection must do: read no more until it has run (back-pressure). */
export interface Reader {
  pause(): void;
  /** Called when none of this connection's messages wait any more. */
  resume(): void;
}

interface Waiting {
  job: () => void;
  reader: Reader;
}

/**
 * The queue of client messages that wait for a later turn, one FIFO per user, served round robin.
 *
 * @example
 * ```ts
 * const turns = new Turns((e) => console.error(e));
 * // an HTTP submission, its body read already: runs now, or in a later turn after other users' messages
 * const answer = await inTurn(turns, user.id, () => acceptSubmission(ctx, user, body));
 * ```
 */
export class Turns {
  /** Users with waiting messages, each its FIFO. */
  private readonly waiting = new Map<string, Waiting[]>();
  /** When each user last had a message run (a counter, not a clock), for `next`. */
  private readonly lastRun = new Map<string, number>();
  private runs = 0;
  /** Waiting messages per connection. */
  private readonly pending = new Map<Reader, number>();
  /** Milliseconds of messages run in this turn. */
  private used = 0;
  private scheduled = false;

  constructor(private readonly onError: (e: unknown) => void) {}

  /**
   * Run `job` (a message of user `key`, read on `reader`) now when nothing waits and this turn has
   * budget left; else after the user's earlier messages, in a later turn, with `reader` paused meanwhile.
   */
  run(key: string, reader: Reader, job: () => void): void {
    if (this.waiting.size === 0 && this.used < TURN_BUDGET_MS) {
      this.lastRun.set(key, ++this.runs);
      return this.exec(job);
    }
    let q = this.waiting.get(key);
    if (!q) this.waiting.set(key, (q = []));
    q.push({ job, reader });
    this.pending.set(reader, (this.pending.get(reader) ?? 0) + 1);
    reader.pause();
    this.schedule();
  }

  /**
   * The waiting user served least recently (never served: first). Plain round robin put a user whose
   * messages start to wait behind one whose backlog never empties, so a single message waited for
   * another user's next heavy one each time; favouring users that just started to wait instead let
   * users sending one message at a time starve a user with a backlog. Least recently served is fair to
   * both. Users with waiting messages are few (one per client): a scan is enough.
   */
  private next(): string {
    let best = '';
    let bestAt = Number.POSITIVE_INFINITY;
    for (const key of this.waiting.keys()) {
      const at = this.lastRun.get(key) ?? 0;
      if (at < bestAt) {
        best = key;
        bestAt = at;
      }
    }
    return best;
  }

  /** True while messages read on `reader` wait for a later turn (its reading must stay paused). */
  holds(reader: Reader): boolean {
    return this.pending.has(reader);
  }

  /** Messages waiting, over all users (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const q of this.waiting.values()) n += q.length;
    return n;
  }

  private exec(job: () => void): void {
    const t = performance.now();
    try {
      job();
    } catch (e) {
      this.onError(e);
    } finally {
      this.used += performance.now() - t;
      // The budget is per turn: a later turn starts from zero.
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    this.used = 0;
    while (this.waiting.size > 0 && this.used < TURN_BUDGET_MS) {
      const key = this.next();
      const q = this.waiting.get(key) as Waiting[];
      const w = q.shift() as Waiting;
      if (!q.length) this.waiting.delete(key);
      this.lastRun.set(key, ++this.runs);
      const left = (this.pending.get(w.reader) ?? 1) - 1;
      if (left > 0) this.pending.set(w.reader, left);
      else this.pending.delete(w.reader);
      this.exec(w.job);
      if (left === 0) w.reader.resume();
    }
    if (this.waiting.size > 0) this.schedule();
  }
}

/** A reader with nothing to pause: an HTTP request whose body is read already. */
export const READ_ALREADY: Reader = { pause() {}, resume() {} };

/** `fn` run in its turn (see Turns.run), as a promise of what it returns or throws. */
export function inTurn<T>(turns: Turns, key: string, fn: () => T, reader: Reader = READ_ALREADY): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    turns.run(key, reader, () => {
      try {
        resolve(fn());
      } catch (e) {
        reject(e);
      }
    }),
  );
}
