/**
 * One reporter for every `ristretto` command: our errors are one line with exit 1; anything else (a
 * TypeError, a raw fs error, an InternalError) is a bug — "internal error", its stack, "please report",
 * exit 70. Before, `fit` printed any error not named `Error` (a TypeError) as a normal one-line user error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokenInvariant, UserCodeError } from '../../src/errors/index.ts';
import { INTERNAL_ERROR_EXIT_CODE, reportCommandError } from '../../src/errors/report.ts';
import { WorkspaceError } from '../../src/fit/errors.ts';
import { repoRoot } from '../shared.ts';

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function report(e: unknown, debug = false): { text: string; code: number } {
  let text = '';
  const code = reportCommandError('ristretto fit', e, { debug, write: (t) => (text += t) });
  return { text, code };
}

describe('reportCommandError', () => {
  it('a RistrettoError is one line, exit 1; with debug its stack', () => {
    const e = new WorkspaceError('bad', '/channels/0', 'ws.json');
    expect(report(e)).toEqual({ text: 'ristretto fit: ws.json: at /channels/0: bad\n', code: 1 });
    expect(report(e, true).text).toMatch(/^ristretto fit: WorkspaceError: ws\.json: at \/channels\/0: bad\n\s+at /);
  });

  it('a TypeError from real code is an internal error with its stack and a request to report it, exit 70', () => {
    const e = caught(() => (JSON.parse('null') as { x: { y: number } }).x.y);
    const r = report(e);
    expect(r.code).toBe(INTERNAL_ERROR_EXIT_CODE);
    expect(INTERNAL_ERROR_EXIT_CODE).toBe(70);
    expect(r.text).toMatch(/^ristretto fit: internal error: TypeError: Cannot read properties of null/);
    expect(r.text).toMatch(/\n\s+at .*report\.test\.ts/);
    expect(r.text).toMatch(/this is a bug in Ristretto, not a problem with your input; please report it/);
  });

  it('a raw fs error is an internal error too (commands must wrap them in typed errors)', () => {
    const e = caught(() => readFileSync(join(repoRoot, 'no-such-file.json')));
    const r = report(e);
    expect(r.code).toBe(70);
    expect(r.text).toMatch(/^ristretto fit: internal error: Error: ENOENT: no such file or directory/);
  });

  it('an InternalError keeps its own message, asks once', () => {
    const r = report(caught(() => brokenInvariant('no slot for task 3')));
    expect(r.code).toBe(70);
    expect(r.text).toMatch(
      /^ristretto fit: internal error: no slot for task 3 — this is a bug in Ristretto; please report it/,
    );
    expect(r.text.match(/please report/g)).toHaveLength(1);
  });

  it("a UserCodeError is the user's failure: exit 1, with the command's detail lines; --debug uses its stack text", () => {
    const e = new UserCodeError('accumulator() of q.ts threw: RangeError: no bins', { file: 'q.ts' }, 'fix it', {
      cause: new RangeError('no bins'),
    });
    let text = '';
    const code = reportCommandError('run-analysis', e, {
      write: (t) => (text += t),
      detail: () => '  at q.ts:3:9 (in your code)\n',
    });
    expect(code).toBe(1);
    expect(text).toBe(
      'run-analysis: accumulator() of q.ts threw: RangeError: no bins — fix it\n  at q.ts:3:9 (in your code)\n',
    );
    let debugText = '';
    reportCommandError('run-analysis', e, {
      debug: true,
      write: (t) => (debugText += t),
      stack: (x) => `${x.name}: mapped\n    at q.ts:3:9\ncaused by: ${String((x.cause as Error).stack)}`,
    });
    expect(debugText).toMatch(
      /^run-analysis: UserCodeError: mapped\n {4}at q\.ts:3:9\ncaused by: RangeError: no bins\n/,
    );
  });

  it("an internal error's frames come from the command's stack text, its causes included", () => {
    const e = caught(() => (JSON.parse('null') as { x: number[] }).x.length);
    const r = { text: '' };
    const code = reportCommandError('run-analysis', e, {
      write: (t) => (r.text += t),
      stack: () =>
        'TypeError: first line\nsecond line of the message\n    at inner (a.ts:1:1)\ncaused by: Error: root\n    at outer (b.ts:2:2)',
    });
    expect(code).toBe(70);
    expect(r.text).toMatch(
      /^run-analysis: internal error: TypeError: Cannot read [^\n]*\n {4}at inner \(a\.ts:1:1\)\ncaused by: Error: root\n {4}at outer \(b\.ts:2:2\)\nthis is a bug in Ristretto/,
    );
  });

  it('the fit CLI, the ristretto entry point and run-analysis use it (one way to report)', () => {
    for (const f of ['src/fit/cli.ts', 'src/cli/ristretto.ts', 'src/cli/analysis.ts'])
      expect(readFileSync(join(repoRoot, f), 'utf8'), f).toMatch(/reportCommandError\('(ristretto|run-analysis)/);
  });
});
