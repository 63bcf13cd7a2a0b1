/**
 * The service queue's claims: fair turns across groups, and no group is ever passed over — the store
 * keeps the list of waiting groups in memory between claims, so every way a task can start waiting
 * (submission, a new group after the list was loaded, a requeue after a lost worker) must reach it.
 * Expected orders are written out by hand from the submission order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/faas/service/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-claims-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let store: Store;
let n = 0;
beforeEach(() => {
  store = new Store(join(dir, `q${n++}.db`));
});
afterEach(() => store.close());

/** Queue tasks of one group at an endpoint; each task's argument byte is its label. */
function queue(endpoint: string, grp: string, labels: number[]): string[] {
  return store.insertTasks(
    'owner',
    labels.map((l) => ({
      function_id: 'f',
      endpoint_id: endpoint,
      args: new Uint8Array([l]),
      max_attempts: 3,
      timeout_ms: 0,
      grp,
    })),
  ).taskIds;
}
const labels = (claimed: { args: Uint8Array }[]) => claimed.map((t) => t.args[0]);

describe('service queue claims', () => {
  it('hand out waiting tasks in turns across groups, oldest first within each', () => {
    queue('ep', 'a', [1, 2, 3]);
    queue('ep', 'b', [11, 12]);
    expect(labels(store.claimWaiting('ep', 4))).toEqual([1, 11, 2, 12]);
    expect(labels(store.claimWaiting('ep', 4))).toEqual([3]);
    expect(store.claimWaiting('ep', 4)).toEqual([]);
  });

  it('serve a group that starts waiting after the list of groups was loaded, and take turns one slot at a time', () => {
    queue('ep', 'b', [11, 12, 13]);
    expect(labels(store.claimWaiting('ep', 1))).toEqual([11]);
    queue('ep', 'a', [1, 2]);
    queue('ep', 'c', [21]);
    // One freed slot per claim, each claim starting after the group served last ("b").
    const order: number[] = [];
    let last = 'b';
    for (let i = 0; i < 5; i++) {
      const [t] = store.claimWaiting('ep', 1, last);
      order.push(t.args[0]);
      last = t.grp;
    }
    expect(order).toEqual([21, 1, 12, 2, 13]);
    expect(store.claimWaiting('ep', 1, last)).toEqual([]);
  });

  it('serve a group again once it drained and new tasks of it arrive', () => {
    queue('ep', 'a', [1]);
    queue('ep', 'b', [11, 12]);
    expect(labels(store.claimWaiting('ep', 3))).toEqual([1, 11, 12]);
    queue('ep', 'a', [2]);
    expect(labels(store.claimWaiting('ep', 3))).toEqual([2]);
  });

  it('serve tasks put back in the queue after their worker was lost, also when their group had drained', () => {
    const [first] = queue('ep', 'a', [1]);
    queue('ep', 'b', [11, 12, 13, 14]);
    queue('ep', 'c', [21, 22, 23, 24]);
    // Four slots for three groups: one each, then the fourth goes round again and finds "a" empty.
    expect(labels(store.claimWaiting('ep', 4))).toEqual([1, 11, 21, 12]);
    const { requeued } = store.requeueLost('ep', [{ task_id: first, reason: 'worker died', type: 'WorkerLost' }]);
    expect(requeued).toEqual([first]);
    const again = store.claimWaiting('ep', 10);
    expect(labels(again)).toEqual([1, 13, 22, 14, 23, 24]);
    expect(again[0].attempts).toBe(1); // lost before it started: the attempt is given back, then taken again
  });

  it('keep endpoints apart', () => {
    queue('ep1', 'a', [1]);
    queue('ep2', 'a', [2]);
    expect(labels(store.claimWaiting('ep1', 5))).toEqual([1]);
    expect(labels(store.claimWaiting('ep2', 5))).toEqual([2]);
  });
});

describe('tasks an agent gives back unstarted', () => {
  it('move only to an endpoint among their alternates, keep their attempt, and otherwise wait again', () => {
    const [movable, pinned] = store.insertTasks('owner', [
      {
        function_id: 'f',
        endpoint_id: 'a',
        args: new Uint8Array([1]),
        max_attempts: 1,
        timeout_ms: 0,
        grp: 'g',
        alts: 'a b',
      },
      { function_id: 'f', endpoint_id: 'a', args: new Uint8Array([2]), max_attempts: 1, timeout_ms: 0, grp: 'g' },
    ]).taskIds;
    expect(labels(store.claimWaiting('a', 2))).toEqual([1, 2]);
    expect(store.recallable('a', 'b', [pinned, movable])).toEqual([movable]);
    // To an endpoint not among its alternates it does not move; to one that is, it does, as attempt 1.
    expect(store.handOver('a', 'c', [movable])).toEqual([]);
    const [moved] = store.handOver('a', 'b', [movable]);
    expect(moved).toMatchObject({ id: movable, attempts: 1 });
    expect(store.task(movable)).toMatchObject({ endpoint_id: 'b', state: 'dispatched', attempts: 1 });
    // Given back with nowhere to go: waiting again at its endpoint, its one attempt still unused.
    expect(store.unhold('a', [pinned])).toEqual([pinned]);
    expect(store.task(pinned)).toMatchObject({ endpoint_id: 'a', state: 'waiting-for-endpoint', attempts: 0 });
    expect(labels(store.claimWaiting('a', 1))).toEqual([2]);
  });
});
