/** Options a user gets wrong fail with the fit's own error classes, never a bare RangeError or Error. */
import { describe, expect, it } from 'vitest';
import { RistrettoError } from '../../src/errors/index.ts';
import { buildModel, FitOptionsError, ThreadPoolRunner, fit, uncorrelatedBackground } from '../../src/fit/index.ts';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('nothing was thrown');
};

describe('fit option errors', () => {
  it('an unknown optimizer names itself and the ones there are', () => {
    const m = buildModel(uncorrelatedBackground([5], [50], [7], [52]));
    const e = thrown(() => fit(m, m.observedData(), { optimizer: 'newton' as any }));
    expect(e).toBeInstanceOf(FitOptionsError);
    expect(e).toBeInstanceOf(RistrettoError);
    expect((e as Error).message).toBe('unknown optimizer "newton" — use one of slsqp-fd, slsqp, lbfgsb');
  });

  it('a thread pool of no threads', () => {
    for (const n of [0, 1.5, -2]) {
      const e = thrown(() => new ThreadPoolRunner(n));
      expect(e).toBeInstanceOf(FitOptionsError);
      expect((e as Error).message).toBe(`workers must be a positive integer, got ${n} — use 1 or more threads`);
    }
  });
});
