import { describe, expect, it } from 'vitest';
import { isUuid } from '../../src/faas/protocol.ts';
import { uuidv7 } from '../../src/faas/ids.ts';

describe('uuidv7 task ids', () => {
  it('are RFC 9562 version-7 UUIDs carrying the creation time in their first 48 bits', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7'); // version nibble
    expect('89ab').toContain(id[19]); // variant 10xx
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after + 1);
  });

  it('sort in creation order and stay unique, also beyond 4096 ids in one millisecond', () => {
    const fixed = Date.now() + 10_000; // a millisecond no earlier call has used
    const ids = Array.from({ length: 20_000 }, () => uuidv7(fixed));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    // The counter overflowed into later milliseconds instead of wrapping around.
    const lastMs = parseInt(ids.at(-1)!.slice(0, 8) + ids.at(-1)!.slice(9, 13), 16);
    expect(lastMs).toBeGreaterThan(fixed);
    // A clock that steps back does not break the order either.
    const back = uuidv7(fixed - 5000);
    expect(back > ids.at(-1)!).toBe(true);
  });
});
