/**
 * Task ids made by the client (TaskSpec.id) and the `submitted` answer that rides along with results
 * (StreamSubmit.defer_reply), against a real service and endpoint on loopback: the service stores the
 * ids it is given, refuses bad and clashing ones with typed errors (saying when the clash is the
 * user's own earlier submission), and a deferred answer costs no text message of its own. Each test
 * submits to an endpoint of its own (killed after it), so none meets another's tasks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FaasClient, FaasRequestError, uuidv7 } from '../../src/faas/client/index.ts';
import { decodeFrame } from '../../src/faas/codec.ts';
import type { StreamResults } from '../../src/faas/protocol.ts';
import { endpointsPerTest, Procs } from './helpers.ts';

// Real processes on a machine that may be busy: generous limits, never timing assertions.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let aliceToken = '';
let bobToken = '';
let alice: FaasClient;
let fn = '';
const startOwn = endpointsPerTest(procs);
/** Start an endpoint of alice's (one worker) for the running test alone; its name. */
async function ownEndpoint(name: string): Promise<string> {
  await startOwn(url, aliceToken, name, ['--workers', '1']);
  return name;
}

beforeAll(async () => {
  aliceToken = await procs.addUser('alice');
  bobToken = await procs.addUser('bob');
  ({ url } = await procs.startService());
  alice = new FaasClient({ serviceUrl: url, token: aliceToken });
  fn = await alice.registerFunction((x: number) => x * 3);
}, 300_000);

afterAll(async () => {
  await alice?.close();
  await procs.cleanup();
});

/** POST /v1/tasks as `token`; the status and parsed body. */
async function submit(token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL('/v1/tasks', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('task ids made by the client', () => {
  it('are stored as given; outcomes come back under them', async () => {
    const ep = await ownEndpoint('ids-given');
    const ids = [uuidv7(), uuidv7()];
    const r = await submit(aliceToken, {
      function_id: fn,
      endpoint: ep,
      tasks: [
        { id: ids[0], args: 2 },
        { id: ids[1], args: 5 },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.task_ids).toEqual(ids);
    const got = new Map<string, unknown>();
    for await (const o of alice.results(ids)) got.set(o.taskId, o.result);
    // 3 × the arguments given above.
    expect(got).toEqual(
      new Map([
        [ids[0], 6],
        [ids[1], 15],
      ]),
    );
  });

  it('refuses malformed ids, ids given twice and submissions naming only some tasks (400)', async () => {
    const base = { function_id: fn, endpoint: await ownEndpoint('ids-malformed') };
    const v4 = '3b241101-e2bb-4255-8caf-4136c566a962';
    for (const tasks of [
      [{ id: 'not-an-id', args: 1 }],
      [{ id: v4, args: 1 }], // a UUID, but not version 7: ids must sort by time
      [{ id: uuidv7().toUpperCase(), args: 1 }],
    ]) {
      const r = await submit(aliceToken, { ...base, tasks });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'BadRequest' } });
      expect(JSON.stringify(r.body)).toMatch(/id/);
    }
    const twice = uuidv7();
    const dup = await submit(aliceToken, {
      ...base,
      tasks: [
        { id: twice, args: 1 },
        { id: twice, args: 2 },
      ],
    });
    expect(dup.status).toBe(400);
    expect(JSON.stringify(dup.body)).toContain(`task 1: id ${twice} is given twice`);
    const some = await submit(aliceToken, { ...base, tasks: [{ id: uuidv7(), args: 1 }, { args: 2 }] });
    expect(some.status).toBe(400);
    expect(JSON.stringify(some.body)).toContain('task 1 has no id but task 0 has one');
  });

  it('refuses ids in use with a Conflict that says whether they are the user own tasks, storing nothing', async () => {
    const ep = await ownEndpoint('ids-conflict');
    const mine = uuidv7();
    const first = await submit(aliceToken, { function_id: fn, endpoint: ep, tasks: [{ id: mine, args: 1 }] });
    expect(first.status).toBe(200);
    // The same submission again (a retry whose first answer was lost): alice's own task.
    const again = await submit(aliceToken, { function_id: fn, endpoint: ep, tasks: [{ id: mine, args: 1 }] });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      error: { code: 'Conflict', details: { task_ids: [mine], count: 1, yours: true } },
    });
    // Bob reusing alice's id learns only that it is taken. His own function and endpoint pass the checks.
    const bobClient = new FaasClient({ serviceUrl: url, token: bobToken });
    const bobFn = await bobClient.registerFunction((x: number) => x);
    await bobClient.registerEndpoint('bob-ep');
    const fresh = uuidv7();
    const clash = await submit(bobToken, {
      function_id: bobFn,
      endpoint: 'bob-ep',
      tasks: [
        { id: fresh, args: 1 },
        { id: mine, args: 1 },
      ],
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({
      error: { code: 'Conflict', details: { task_ids: [mine], count: 1, yours: false } },
    });
    expect(JSON.stringify(clash.body)).not.toContain('alice');
    // Nothing of the refused submission was stored: its other id is unknown to bob.
    const [o] = await collect(bobClient, [fresh]);
    expect(o.error).toBeInstanceOf(FaasRequestError);
    expect((o.error as FaasRequestError).code).toBe('NotFound');
    await bobClient.close();
  });

  it('a client retry of a stored submission is taken as accepted: the task runs once, each call hears of it', async () => {
    const id = uuidv7();
    const task = { id, functionId: fn, endpoint: await ownEndpoint('ids-retry'), args: 7 };
    const heard = (into: unknown[]) => {
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      return {
        finished,
        listener: (o: { taskId: string; result?: unknown }) => {
          into.push([o.taskId, o.result]);
          done();
        },
      };
    };
    const first: unknown[] = [];
    const second: unknown[] = [];
    const a = heard(first);
    const b = heard(second);
    expect(await alice.submitWatched([task], a.listener)).toEqual([id]);
    // The same task again, as the executor's channel does after a lost answer: no error, same id.
    expect(await alice.submitWatched([task], b.listener)).toEqual([id]);
    await Promise.all([a.finished, b.finished]);
    // One run (3 × 7), told to each caller once.
    expect(first).toEqual([[id, 21]]);
    expect(second).toEqual([[id, 21]]);
    expect((await alice.getTask(id)).attempts).toBe(1);
  });
});

describe('a deferred submitted answer', () => {
  it('rides along with a results frame: no text message for an accepted submission', async () => {
    const ep = await ownEndpoint('ids-deferred');
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });
    const texts: unknown[] = [];
    const frames: StreamResults[] = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) frames.push(decodeFrame(data as Buffer).header as StreamResults);
      else texts.push(JSON.parse(String(data)));
    });
    const ids = [uuidv7(), uuidv7(), uuidv7()];
    const request = (req: number, id: string, args: number) =>
      `{"type":"submit","req":${req},"watch":true,"defer_reply":true,"request":{"function_id":"${fn}","endpoint":"${ep}","tasks":[{"id":"${id}","args":${args}}]}}`;
    ws.send(request(1, ids[0], 1));
    ws.send(request(2, ids[1], 2));
    ws.send(request(3, ids[2], 3));
    // A refused one is answered at once, as a text message naming its req.
    ws.send(request(4, ids[0], 4));
    const all = () => frames.flatMap((f) => f.results.map((e) => e.task_id));
    while (all().length < 3 || texts.length < 1) await new Promise((r) => setTimeout(r, 50));
    ws.close();
    expect(texts).toEqual([expect.objectContaining({ type: 'error', code: 'Conflict', req: 4 })]);
    const answered = frames.flatMap((f) => f.submitted ?? []);
    expect(answered.map((s) => s.req)).toEqual([1, 2, 3]);
    // Each answer comes no later than the first outcome of its submission.
    for (const [i, id] of ids.entries()) {
      const answeredAt = frames.findIndex((f) => f.submitted?.some((s) => s.req === i + 1));
      const outcomeAt = frames.findIndex((f) => f.results.some((e) => e.task_id === id));
      expect(answeredAt).toBeGreaterThanOrEqual(0);
      expect(answeredAt).toBeLessThanOrEqual(outcomeAt);
    }
    expect(new Set(all())).toEqual(new Set(ids));
  });
});

/** Outcomes of `ids` through the client's result stream. */
async function collect(fx: FaasClient, ids: string[]) {
  const out = [];
  for await (const o of fx.results(ids)) out.push(o);
  return out;
}
