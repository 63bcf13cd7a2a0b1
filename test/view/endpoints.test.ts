/**
 * Per-endpoint progress of a FaaS run as the live page and the terminal show it. The executor's own
 * counters are tested with real endpoints and a killed worker in browser.test.ts; here the shaping of
 * rows, from fixed numbers worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import type { EndpointProgress } from '../../executors/faas/executor.ts';
import { endpointLines } from '../../executors/faas/progress.ts';
import { endpointProgress, LiveView } from '../../src/view/live.ts';
import type { ViewUpdate } from '../../src/view/state.ts';

const ep = (name: string, o: Partial<EndpointProgress>): EndpointProgress => ({
  name,
  id: `${name}-id`,
  capacity: 2,
  online: true,
  slow: false,
  running: 0,
  started: 0,
  queued: 0,
  done: 0,
  events: 0,
  eventsPerSecond: 0,
  retries: 0,
  tailCopies: 0,
  failures: 0,
  ...o,
});

describe('per-endpoint rows', () => {
  it('terminal lines: started and queued apart; retries, tail copies and failures only when there are some', () => {
    const lines = endpointLines([
      ep('site-a', { running: 3, started: 2, queued: 1, done: 14, eventsPerSecond: 1_234_567 }),
      ep('b', { online: false, done: 3, eventsPerSecond: 300, retries: 1, tailCopies: 2, failures: 3 }),
    ]);
    expect(lines).toEqual([
      '  site-a    2 running    1 queued     14 done  1.23 M ev/s',
      '  b         0 running    0 queued      3 done  300 ev/s  1 retry  2 tail copies  3 failures  offline',
    ]);
  });

  it('chunks waiting for an endpoint: not done and in flight nowhere, while the run goes on', () => {
    const source = {
      progress: () => [ep('a', { running: 2 }), ep('b', { running: 1 })],
      faas: { tailRetries: 1, note: 'x' },
    };
    expect(endpointProgress(source, { state: 'running', total: 10, done: 4 })).toEqual({
      endpoints: [
        expect.objectContaining({ name: 'a', running: 2 }),
        expect.objectContaining({ name: 'b', running: 1 }),
      ],
      faas: { waitingForEndpoint: 3, tailRetries: 1 },
    });
    expect(endpointProgress(source, { state: 'done', total: 10, done: 10 }).faas).toEqual({
      tailRetries: 1,
    });
  });

  it('the live view pushes endpoint rows that change while no chunk merges', async () => {
    const view = await LiveView.start({ throttleMs: 20 });
    let rows = [ep('a', { started: 1, running: 1 })];
    try {
      view.hooks({}, { progress: () => rows });
      const next = (want: (u: ViewUpdate) => boolean) =>
        new Promise<ViewUpdate>((resolve) => {
          const off = view.state.subscribe((u) => {
            if (!want(u)) return;
            off();
            resolve(u);
          });
        });
      const started = (u: ViewUpdate) => u.progress.endpoints?.[0]?.['started'];
      expect(started(await next((u) => started(u) === 1))).toBe(1);
      // the executor's numbers move (a worker died: a retry), nothing else happens
      rows = [ep('a', { started: 0, queued: 1, running: 1, retries: 1 })];
      const u = await next((x) => x.progress.endpoints?.[0]?.['retries'] === 1);
      expect(u.progress.endpoints![0]).toMatchObject({ name: 'a', started: 0, queued: 1, retries: 1 });
      expect(u.hists).toEqual([]);
    } finally {
      await view.close();
    }
  });
});
