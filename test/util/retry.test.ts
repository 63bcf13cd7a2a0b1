/** The shared retry policy: full-jitter backoff bounds, attempt limits, typed give-up errors. */
import { describe, expect, it } from 'vitest';
import { Backoff, retry } from '../../src/util/retry.ts';

describe('Backoff (full jitter)', () => {
  it('waits a uniform share of a cap that doubles from baseMs up to maxMs, and starts over after reset', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.5 });
    // caps 100, 200, 400, 800, 1000, 1000: half of each
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 400, 500, 500]);
    expect(b.failures).toBe(6);
    b.reset();
    expect(b.next()).toBe(50);
  });

  it('never waits longer than the cap, and can retry at once', () => {
    const hi = new Backoff({ baseMs: 100, maxMs: 300, random: () => 0.999999 });
    for (let i = 0; i < 40; i++) expect(hi.next()).toBeLessThan(300);
    expect(new Backoff({ baseMs: 100, maxMs: 300, random: () => 0 }).next()).toBe(0);
  });
});

describe('retry', () => {
  const fast = { baseMs: 1, maxMs: 2 };

  it('returns the first success, after retryable failures', async () => {
    const seen: number[] = [];
    const v = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('refused');
        return 'ok';
      },
      { ...fast, retryable: () => true, maxAttempts: 5 },
    );
    expect(v).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('throws a non-retryable error at once', async () => {
    let calls = 0;
    const bad = new TypeError('bad request');
    await expect(
      retry(
        async () => {
          calls++;
          throw bad;
        },
        { ...fast, retryable: (e) => !(e instanceof TypeError), maxAttempts: 5 },
      ),
    ).rejects.toBe(bad);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the error giveUp makes, and tells onRetry about each wait', async () => {
    const retries: number[] = [];
    const err = await retry(
      async () => {
        throw new Error('down');
      },
      {
        ...fast,
        maxAttempts: 4,
        retryable: () => true,
        onRetry: (_e, failures) => retries.push(failures),
        giveUp: (e, info) => new RangeError(`gave up after ${info.attempts}: ${(e as Error).message}`),
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('gave up after 4: down');
    expect(retries).toEqual([1, 2, 3]);
  });

  it('gives up once maxElapsedMs has passed since the first failure', async () => {
    let calls = 0;
    let info: { attempts: number; elapsedMs: number } | undefined;
    const err = await retry(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('down');
      },
      { ...fast, maxElapsedMs: 50, retryable: () => true, giveUp: (e, i) => ((info = i), e) },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('down');
    // Counted from the first failure, so at least one more attempt ran; it stopped only past the limit.
    expect(info!.attempts).toBe(calls);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(info!.elapsedMs).toBeGreaterThan(50);
  });
});
