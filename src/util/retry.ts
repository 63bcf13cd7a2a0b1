/**
 * The one retry policy of Ristretto: exponential backoff with full jitter (each wait uniform in
 * [0, min(max, base × 2^n))). Jitter spreads out clients, agents and executors that all lost a
 * server at the same moment, so a restarted service is not met by one synchronized wave of
 * reconnects. Used by the FaaS platform (HTTP requests, the result stream's and the agents'
 * reconnects, the executor's task channel), http(s) and XRootD reads and the fit's worker pool.
 *
 * `Backoff` is for event-driven reconnects (a socket's `close` schedules the next try); `retry` wraps
 * a request.
 *
 * @example
 * ```ts
 * import { retry } from './retry.ts';
 * let calls = 0;
 * const value = await retry(async () => (++calls < 3 ? Promise.reject(new Error('busy')) : 'done'), {
 *   baseMs: 10, maxMs: 100, maxAttempts: 5, retryable: () => true,
 * });
 * console.log(value, calls); // done 3
 * ```
 */

export interface BackoffOptions {
  /** Upper bound of the first wait (ms); it doubles with every failure... */
  baseMs: number;
  /** ...up to this bound (ms). */
  maxMs: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

/** Waits between attempts of one thing (a connection, a request); `reset` after a success. */
export class Backoff {
  private n = 0;
  constructor(private readonly o: BackoffOptions) {}

  /** Failures since the last reset. */
  get failures(): number {
    return this.n;
  }

  /** Count a failure and return how long to wait before the next attempt (ms). */
  next(): number {
    const cap = Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(this.n, 30));
    this.n++;
    return Math.floor((this.o.random ?? Math.random)() * cap);
  }

  reset(): void {
    this.n = 0;
  }
}

export interface RetryOptions extends BackoffOptions {
  /** Whether an error is worth another attempt (connection refused, 5xx); others are thrown at once. */
  retryable: (error: unknown) => boolean;
  /** Attempts in all, the first included (default: unlimited; bound it here or with maxElapsedMs). */
  maxAttempts?: number;
  /** Stop once this long (ms) has passed since the first failure. */
  maxElapsedMs?: number;
  /** Called before each wait, e.g. to tell the user once that the service is unreachable. */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
  /**
   * The error to throw when retries are exhausted (default: the last one), e.g. a typed error saying
   * how long the service was unreachable and what to do.
   */
  giveUp?: (lastError: unknown, info: { attempts: number; elapsedMs: number }) => unknown;
}

/** Run `request` until it succeeds, fails with a non-retryable error, or the limits are reached. */
export async function retry<T>(request: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const backoff = new Backoff(o);
  let firstFailure = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await request(attempt);
    } catch (e) {
      if (!o.retryable(e)) throw e;
      firstFailure ||= Date.now();
      const elapsedMs = Date.now() - firstFailure;
      if (
        (o.maxAttempts !== undefined && attempt >= o.maxAttempts) ||
        (o.maxElapsedMs !== undefined && elapsedMs > o.maxElapsedMs)
      ) {
        throw o.giveUp ? o.giveUp(e, { attempts: attempt, elapsedMs }) : e;
      }
      const delay = backoff.next();
      o.onRetry?.(e, backoff.failures, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
