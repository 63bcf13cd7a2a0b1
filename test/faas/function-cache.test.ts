import { describe, expect, it } from 'vitest';
import { FunctionCache } from '../../src/faas/service/function-cache.ts';

const fn = (n: number) => ({ hash: 'h', code: 'c'.repeat(n - 1), frameBytes: n + 1 });

describe('FunctionCache', () => {
  it('drops the least recently used functions once over its bound', () => {
    const cache = new FunctionCache(100);
    cache.set('a', fn(40));
    cache.set('b', fn(40));
    expect(cache.get('a')).toBeDefined(); // a is now newer than b
    cache.set('c', fn(40));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.bytes).toBe(80);
  });

  it('keeps the newest function even when it alone is over the bound', () => {
    const cache = new FunctionCache(100);
    cache.set('a', fn(40));
    cache.set('big', fn(150));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('big')).toBeDefined();
    expect(cache.bytes).toBe(150);
    cache.set('big', fn(30));
    expect(cache.bytes).toBe(30);
  });
});
