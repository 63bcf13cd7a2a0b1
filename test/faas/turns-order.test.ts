/**
 * The order in which waiting client messages run (src/faas/service/turns.ts), on the Turns queue
 * itself: a user whose message starts to wait goes before a user that has had a turn already, so one
 * user's single message never waits behind another user's next heavy one (issue 14).
 */
import { describe, expect, it } from 'vitest';
import { READ_ALREADY, TURN_BUDGET_MS, Turns } from '../../src/faas/service/turns.ts';

/** Work that uses up this turn's budget, so that the next messages wait for a later turn. */
function spend(): void {
  const end = performance.now() + TURN_BUDGET_MS + 5;
  while (performance.now() < end) {
    /* busy */
  }
}

function settled(turns: Turns): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (turns.size === 0 ? resolve() : setImmediate(check));
    setImmediate(check);
  });
}

describe('Turns', () => {
  it("runs a newly waiting user's message before the next of a user that just had its turn", async () => {
    const errors: unknown[] = [];
    const turns = new Turns((e) => errors.push(e));
    const order: string[] = [];
    turns.run('mallory', READ_ALREADY, spend); // runs at once and uses the budget: the rest waits
    turns.run('mallory', READ_ALREADY, () => {
      order.push('mallory-1');
      // Bob's message is read while mallory's first runs; mallory has another waiting.
      turns.run('bob', READ_ALREADY, () => order.push('bob'));
    });
    turns.run('mallory', READ_ALREADY, () => order.push('mallory-2'));
    turns.run('mallory', READ_ALREADY, () => order.push('mallory-3'));
    await settled(turns);
    expect(order).toEqual(['mallory-1', 'bob', 'mallory-2', 'mallory-3']);
    expect(errors).toEqual([]);
  });

  it('keeps users that all had their turn in round robin, and each user its own order', async () => {
    const turns = new Turns(() => {});
    const order: string[] = [];
    turns.run('a', READ_ALREADY, spend);
    for (let i = 1; i <= 3; i++)
      for (const u of ['a', 'b', 'c']) turns.run(u, READ_ALREADY, () => order.push(`${u}${i}`));
    await settled(turns);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
  });
});
