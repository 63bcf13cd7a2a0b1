/**
 * The order in which waiting client messages run (src/faas/service/turns.ts), on the Turns queue
 * itself: the waiting user served least recently goes first, so one user's single message never
 * waits behind another user's next heavy one, and users sending one message at a time do not starve a
 * user with a backlog (issue 14).
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

function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (done() ? resolve() : setImmediate(check));
    setImmediate(check);
  });
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

  it('keeps users in round robin, each user its own order; the one that just ran goes last', async () => {
    const turns = new Turns(() => {});
    const order: string[] = [];
    turns.run('a', READ_ALREADY, spend);
    for (let i = 1; i <= 3; i++)
      for (const u of ['a', 'b', 'c']) turns.run(u, READ_ALREADY, () => order.push(`${u}${i}`));
    await settled(turns);
    expect(order).toEqual(['b1', 'c1', 'a1', 'b2', 'c2', 'a2', 'b3', 'c3', 'a3']);
  });

  it('users sending one message at a time do not starve a user with a backlog', async () => {
    const turns = new Turns(() => {});
    const order: string[] = [];
    // u1..u3 each send their next message as soon as the previous one ran, 6 each; h has 3 waiting.
    const chatty = (u: string, n: number) => () => {
      spend();
      order.push(`${u}${n}`);
      // The client sends again once it has the answer: a later event-loop turn.
      if (n < 6) setImmediate(() => turns.run(u, READ_ALREADY, chatty(u, n + 1)));
    };
    for (const u of ['u1', 'u2', 'u3']) turns.run(u, READ_ALREADY, chatty(u, 1));
    for (let i = 1; i <= 3; i++)
      turns.run('h', READ_ALREADY, () => {
        spend();
        order.push(`h${i}`);
      });
    await until(() => order.length === 21);
    // Least recently served first: h's messages take every fourth turn, not the end of the queue.
    expect(order.indexOf('h3')).toBeLessThan(order.indexOf('u16'));
    expect(order.filter((x) => x.startsWith('h'))).toEqual(['h1', 'h2', 'h3']);
  });
});
