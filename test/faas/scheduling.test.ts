/** The scheduling policy's pure rules, with hand-computed expectations. */
import { describe, expect, it } from 'vitest';
import {
  noticeDelayMs,
  prefetchFor,
  pushRecent,
  recallWindow,
  stragglerMs,
  TAIL_RECENT_CHUNKS,
} from '../../src/faas/scheduling.ts';

describe('scheduling policy', () => {
  it('agents ask for about 25 ms of work beyond their slots, one task before any finished, at most 4000', () => {
    expect(prefetchFor(4, undefined)).toBe(1);
    expect(prefetchFor(4, 10)).toBe(10); // 4 × 25 / 10
    expect(prefetchFor(2, 200)).toBe(1); // long tasks: never fewer than one
    expect(prefetchFor(16, 0.001)).toBe(4000);
  });

  it('running notices wait 20 ms, or twice the average for tasks under 250 ms', () => {
    expect(noticeDelayMs(undefined)).toBe(20);
    expect(noticeDelayMs(5)).toBe(20);
    expect(noticeDelayMs(15)).toBe(30);
    expect(noticeDelayMs(49)).toBe(98);
    // Loaded-machine CPU chunks: only their stragglers are reported running.
    expect(noticeDelayMs(80)).toBe(160);
    expect(noticeDelayMs(249)).toBe(498);
    expect(noticeDelayMs(250)).toBe(20);
  });

  it('stragglers: k × the median of recent times, capped by the tail timeout, floored at the minimum', () => {
    expect(stragglerMs([], 3, undefined, 200)).toBeUndefined();
    expect(stragglerMs([], 3, 5000, 200)).toBe(5000);
    expect(stragglerMs([0.5, 0.1, 0.3], 3, undefined, 200)).toBeCloseTo(900); // median 0.3 s
    expect(stragglerMs([0.5, 0.1, 0.3], 3, 600, 200)).toBe(600);
    expect(stragglerMs([0.01], 3, undefined, 200)).toBe(200);
  });

  it('keeps only the most recent chunk times, and recalls look at 2 × queued + 16 tasks', () => {
    const w: number[] = [];
    for (let i = 0; i < TAIL_RECENT_CHUNKS + 5; i++) pushRecent(w, i);
    expect(w).toHaveLength(TAIL_RECENT_CHUNKS);
    expect(w[0]).toBe(5);
    expect(recallWindow(3)).toBe(22);
  });
});
