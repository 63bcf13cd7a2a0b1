/**
 * The lint that keeps plain `throw new Error` out of src/ and executors/ (scripts/lint/plain-errors.mjs),
 * run on small trees of its own (`npm run lint` runs it on this repository).
 */
import { describe, expect, it } from 'vitest';
import { lintScript } from '../helpers/lint.ts';

const lint = lintScript('plain-errors.mjs');

describe('plain-errors lint', () => {
  it('fails on a plain throw and on an error class not named …Error, naming file and line', () => {
    const r = lint({
      'src/a/reader.ts': "export function f(x: number) {\n  if (x < 0) throw new Error('negative');\n}\n",
      'executors/b.ts': "class Oops extends RistrettoError {}\nthrow new RangeError('no');\n",
      'src/ok.ts': "import { internalError } from './errors';\nthrow internalError('cannot happen');\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/a/reader.ts:2: new Error');
    expect(r.out).toContain('executors/b.ts:2: new RangeError');
    expect(r.out).toContain('executors/b.ts:1: class Oops extends RistrettoError: name it …Error');
    expect(r.out).not.toContain('src/ok.ts');
    expect(r.out).toContain('3 problem(s)');
  }, 60_000);

  it('passes a tree without plain throws (a rejected Error, a TypeError built but not thrown)', () => {
    const r = lint({
      'src/fine.ts':
        "export class BadInputError extends RistrettoError {}\nexport const e = new TypeError('x');\nPromise.reject(new Error('y'));\n",
    });
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);
});
