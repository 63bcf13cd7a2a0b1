/** The message schemas and the depth/size scan that runs before JSON.parse. */
import { describe, expect, it } from 'vitest';
import {
  agentText,
  byType,
  serviceText,
  streamClientText,
  streamServiceText,
  validate,
} from '../../src/faas/protocol-schemas.ts';
import { JsonLimitError, parseJson, scanJson } from '../../src/faas/schema.ts';

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('scanJson', () => {
  it('counts nesting outside strings only, escapes included', () => {
    expect(() => scanJson(deep(100))).not.toThrow();
    expect(() => scanJson(deep(101))).toThrow(/nested deeper than 100 levels/);
    expect(() => scanJson(deep(100_000))).toThrow(JsonLimitError);
    expect(() => scanJson('["[[[[\\"[[[["]', 1)).not.toThrow();
    expect(() => scanJson('["\\\\", [[[]]]]', 3)).toThrow(/deeper than 3/);
    expect(() => scanJson('{"a":{"b":{}}}', 2)).toThrow(/deeper than 2/);
    expect(() => scanJson('x'.repeat(11), 100, 10)).toThrow(/over the limit of 10/);
  });

  it('counts objects and arrays outside strings against maxContainers', () => {
    // 3 containers: the outer array and two objects; the brackets inside the string do not count.
    const text = '[{"a":"[[{{"},{}]';
    expect(() => scanJson(text, 100, Infinity, 3)).not.toThrow();
    const err = (() => {
      try {
        scanJson(text, 100, Infinity, 2);
      } catch (e) {
        return e as JsonLimitError;
      }
    })();
    expect(err?.reason).toBe('cost');
    expect(err?.message).toMatch(/more than 2 objects and arrays/);
    expect(() => parseJson('[1,2,3,"{}"]', 100, Infinity, 1)).not.toThrow();
  });

  it('parseJson reports syntax errors as JsonLimitError', () => {
    expect(() => parseJson('{"a":')).toThrow(JsonLimitError);
    expect(parseJson('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
  });
});

describe('protocol schemas', () => {
  it('all compile (they are compiled lazily, on first use)', () => {
    for (const table of [validate, agentText, serviceText, streamClientText, streamServiceText]) {
      for (const [name, v] of Object.entries(table)) expect(v.is(undefined), name).toBe(false);
    }
  });

  it('name the offending place in a message', () => {
    const msg = (v: unknown) => {
      try {
        validate.submit.check(v, 'submission');
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(msg({ tasks: [5] })).toBe('submission: tasks[0] must be object');
    expect(msg({ tasks: [] })).toBe('submission: tasks must NOT have fewer than 1 items');
    expect(msg({ tasks: [{ args: 1, x: 2 }] })).toBe('submission: unknown property "x" in tasks[0]');
    expect(msg({ tasks: [{ max_attempts: 11 }] })).toBe('submission: tasks[0].max_attempts must be <= 10');
    expect(msg(null)).toBe('submission: the message must be object');
    expect(msg({ tasks: [{ args: { anything: [1, 'x', null] } }], group: 'g' })).toBe('ok');
  });

  it('pick the validator by message type, unknown types and non-objects get none', () => {
    expect(byType(agentText, { type: 'hello' })).toBe(agentText.hello);
    expect(byType(agentText, { type: 'toString' })).toBeUndefined();
    expect(byType(agentText, { type: '__proto__' })).toBeUndefined();
    expect(byType(streamClientText, ['watch'])).toBeUndefined();
    expect(byType(streamClientText, null)).toBeUndefined();
  });

  it('bound what an agent may announce', () => {
    const hello = {
      type: 'hello',
      name: 'ep',
      capacity: 4,
      prefetch: 1,
      cached_hashes: [],
      holding: [],
      agent_version: '1',
      hostname: 'h',
    };
    expect(agentText.hello.is(hello)).toBe(true);
    expect(agentText.hello.is({ ...hello, capacity: 1e12 })).toBe(false);
    expect(agentText.hello.is({ ...hello, capacity: 1.5 })).toBe(false);
    expect(agentText.hello.is({ ...hello, name: 'x'.repeat(101) })).toBe(false);
    expect(agentText.hello.is({ ...hello, cached_hashes: ['../../etc'] })).toBe(false);
  });
});
