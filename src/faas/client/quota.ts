/**
 * The client's side of the service's open-task quota (`QuotaExceeded`, see QuotaDetails): a submission
 * over it is refused whole, so the client keeps the rest and sends it as its own tasks finish. Their
 * outcomes already stream in; each one is room for one more task. With none of its own tasks open
 * (other clients of the same user hold the quota) it tries again after a jittered backoff.
 */
import { Backoff } from '../../util/retry.ts';
import { FaasRequestError } from '../errors.ts';
import type { QuotaDetails } from '../protocol.ts';

/** Room (in tasks) the service said it had when it refused a submission for a quota, or undefined for another error. */
export function quotaRoom(e: unknown): { room: number; limit: number; details: QuotaDetails } | undefined {
  if (!(e instanceof FaasRequestError) || e.code !== 'QuotaExceeded' || !e.details) return undefined;
  const d = e.details as Partial<QuotaDetails> & { open?: unknown; watched?: unknown };
  const used = typeof d.open === 'number' ? d.open : d.watched;
  if (typeof d.limit !== 'number' || typeof used !== 'number' || d.limit < 1) return undefined;
  return { room: Math.max(0, d.limit - used), limit: d.limit, details: d as QuotaDetails };
}

/**
 * Room under the quota, shared by every submission of one client. Unlimited until the service first
 * refuses; from then on it counts: what the refusal said was free, plus one per task of this client
 * that finishes, minus what is sent.
 */
export class QuotaRoom {
  private credit = Number.POSITIVE_INFINITY;
  /** Refill in steps of a twentieth of the limit: each submission costs the service a turn. */
  private step = 1;
  private told = false;
  private wakers: (() => void)[] = [];
  private wakeScheduled = false;
  private readonly backoff = new Backoff({ baseMs: 250, maxMs: 5000 });

  constructor(
    /** Tasks this client submitted that have not finished. */
    private readonly ownOpen: () => number,
    private readonly note: (msg: string) => void,
  ) {}

  /** The service refused `asked` tasks with these details; `left`: tasks still to submit. */
  refused(r: NonNullable<ReturnType<typeof quotaRoom>>, left: number): void {
    this.credit = r.room;
    this.step = Math.max(1, Math.ceil(r.limit / 20));
    if (this.told) return;
    this.told = true;
    const d = r.details;
    this.note(
      d.quota === 'open_tasks'
        ? `the FaaS service lets a user have at most ${d.limit} unfinished tasks (you have ${d.open}): submitting the remaining ${left} as earlier ones finish`
        : `the FaaS service lets a stream watch at most ${d.limit} tasks: submitting the remaining ${left} as watched ones finish`,
    );
  }

  /** One of this client's tasks finished: room for one more. */
  finished(): void {
    if (this.credit === Number.POSITIVE_INFINITY) return;
    this.credit++;
    // Outcomes come in frames: wake the waiters once per frame, not once per task.
    if (this.wakeScheduled || this.wakers.length === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      for (const w of this.wakers.splice(0)) w();
    });
  }

  /** Sent tasks were accepted: nothing to change but the backoff. */
  accepted(): void {
    this.backoff.reset();
  }

  /**
   * How many of `want` tasks to send now; waits while there is no room. Returns `want` at once until
   * the service first refuses.
   */
  async take(want: number): Promise<number> {
    for (;;) {
      if (this.credit === Number.POSITIVE_INFINITY) return want;
      const open = this.ownOpen();
      // Wait for a step's worth of room, or for what this client's open tasks can still free.
      const enough = Math.max(1, Math.min(want, this.step, this.credit + open));
      if (this.credit >= enough) {
        const n = Math.min(want, this.credit);
        this.credit -= n;
        return n;
      }
      if (open <= 0) {
        // Other clients of this user hold the quota: ask the service again later (it says what is free).
        await new Promise((r) => setTimeout(r, this.backoff.next()));
        return want;
      }
      await new Promise<void>((r) => this.wakers.push(r));
    }
  }

  /** A submission taken with `take` was refused for another reason, or not sent: give its room back. */
  giveBack(n: number): void {
    if (this.credit !== Number.POSITIVE_INFINITY) this.credit += n;
  }
}
