/**
 * What a task lost with its endpoint's connection says (issue 14): the connection was lost, not that a
 * worker died of memory or process.exit (that advice stays for WorkerLost), both in the FaaS client's
 * error and in the runner's error for the chunk.
 */
import { describe, expect, it } from 'vitest';
import { taskError } from '../../src/faas/errors.ts';
import { WorkerLostError } from '../../src/runner/errors.ts';

const ctx = { taskId: 't1', endpointId: 'e1', endpointName: 'laptop', attempts: 3 };
const item = { dataset: 'SingleMu', file: '/data/sm.root', tree: 'Events', entryStart: 0, entryStop: 500, fileId: 'x' };

describe('lost tasks', () => {
  it("EndpointLost says the endpoint's connection was lost", () => {
    const e = taskError({ type: 'EndpointLost', message: 'endpoint disconnected (attempt 3 of 3)' }, ctx);
    expect(e.message).toMatch(/connection to the service was lost/);
    expect(e.message).not.toMatch(/died|out of memory/);
    const chunk = new WorkerLostError(item, e.message, true);
    expect(chunk.message).toMatch(/^endpoint's connection lost while running dataset SingleMu/);
    expect(chunk.message).not.toMatch(/died|out of memory|lower --chunksize/);
  });

  it('WorkerLost still points at the worker process', () => {
    const e = taskError({ type: 'WorkerLost', message: 'worker exited with code 137 (attempt 3 of 3)' }, ctx);
    expect(e.message).toMatch(/worker process died repeatedly/);
    expect(new WorkerLostError(item, e.message).message).toMatch(/^worker lost while running .*lower --chunksize/);
  });
});
