/**
 * A task that failed with FunctionLoadFailed gets a hint that fits what the endpoint said: a cached
 * module changed on the endpoint or gone from its cache is not the user's module being wrong. The
 * messages are written out as the endpoint words them (src/faas/endpoint/verified-load.ts, agent.ts).
 */
import { describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../src/faas/errors.ts';

const ctx = { taskId: 't1', endpointId: 'e1', endpointName: 'ep', attempts: 1 };
const hash = 'a'.repeat(64);
const hintOf = (message: string) => new TaskFailedError({ type: 'FunctionLoadFailed', message }, ctx).hint ?? '';

describe('FunctionLoadFailed hints', () => {
  it('a module whose bytes changed: run again, and tell the owner if it recurs', () => {
    const h = hintOf(
      `module /cache/${hash}.mjs does not match its hash ${hash} (sha256 of the file: ${'b'.repeat(64)}): it was changed after the endpoint stored it`,
    );
    expect(h).toMatch(/rewrite its function cache/);
    expect(h).toMatch(/run the task again/);
    expect(h).not.toMatch(/self-contained/);
  });

  it('a module gone from the cache: fetched again after a reconnect', () => {
    const h = hintOf(`function ${hash} is not in the endpoint cache`);
    expect(h).toMatch(/deleted from its cache/);
    expect(h).toMatch(/reconnects/);
    expect(h).not.toMatch(/self-contained/);
  });

  it('a module that fails to import: how to write one', () => {
    expect(hintOf('SyntaxError: Unexpected token')).toMatch(/self-contained and default-export a function/);
  });
});
