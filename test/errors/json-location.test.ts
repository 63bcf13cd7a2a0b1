import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, jsonSyntaxMessage, lineColumn } from '../../src/errors/json-location.ts';

/** V8's own position for a parse error, where its message names one (the outside reference). */
function v8Position(text: string): { threw: boolean; position?: number } {
  try {
    JSON.parse(text);
    return { threw: false };
  } catch (e) {
    const m = /at position (\d+)/.exec((e as Error).message);
    return { threw: true, position: m ? Number(m[1]) : undefined };
  }
}

describe('JSON error location', () => {
  it('agrees with JSON.parse on validity and with V8 on every position V8 names', () => {
    let compared = 0;
    // Valid JSON with up to two characters inserted somewhere: mostly invalid, always near-valid.
    const damaged = fc
      .tuple(fc.oneof(fc.json(), fc.string()), fc.nat(), fc.string({ maxLength: 2 }))
      .map(([s, k, ins]) => s.slice(0, k % (s.length + 1)) + ins + s.slice(k % (s.length + 1)));
    fc.assert(
      fc.property(damaged, (text) => {
        const v8 = v8Position(text);
        const ours = jsonErrorOffset(text);
        if (!v8.threw) return ours === undefined;
        if (ours === undefined) return false;
        if (v8.position === undefined) return true;
        compared++;
        return ours === v8.position;
      }),
      { numRuns: 5000, seed: 1406 },
    );
    expect(compared).toBeGreaterThan(500);
  });

  it('points at the token V8 only quotes', () => {
    // Node 20: "Unexpected token '}', "…" is not valid JSON" — no position of its own.
    const text = '{\n  "a": 1,\n  "b": }';
    expect(() => JSON.parse(text)).toThrow(/is not valid JSON/);
    expect(jsonErrorOffset(text)).toBe(text.lastIndexOf('}'));
    expect(lineColumn(text, text.lastIndexOf('}'))).toEqual({ line: 3, column: 8 });
    let message = '';
    try {
      JSON.parse(text);
    } catch (e) {
      message = jsonSyntaxMessage(text, e);
    }
    expect(message).toBe(`line 3, column 8: Unexpected token '}' (near: "b": })`);
  });

  it('handles deep nesting without overflowing the stack', () => {
    const text = `${'['.repeat(200_000)}1${']'.repeat(199_999)}`;
    expect(jsonErrorOffset(text)).toBe(text.length);
    expect(jsonErrorOffset(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)).toBeUndefined();
  });

  it('counts lines and columns from 1', () => {
    expect(lineColumn('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('a\nbc\n', 3)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('a\n\nx', 3)).toEqual({ line: 3, column: 1 });
  });
});
