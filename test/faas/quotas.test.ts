/**
 * Per-user quotas of a shared service (issue 14: one user grew the database to 931 MB with 1.2 M
 * waiting tasks in a minute, and could watch any number of ids). A real service on loopback with
 * `--max-open-tasks 5`: a submission over a user's limit of unfinished tasks is refused whole with
 * QuotaExceeded (429) over HTTP and over the stream, and nothing of it is stored; other users are not
 * affected; an admin's per-user limit applies to a running service; watched ids are bounded per
 * stream and per user. Through the real client and endpoint: more tasks than the quota, and more than
 * one submission may hold, all complete, each outcome once.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FaasClient } from '../../src/faas/client/index.ts';
import { uuidv7 } from '../../src/faas/ids.ts';
import { MAX_BATCH_TASKS } from '../../src/faas/protocol-schemas.ts';
import { endpointsPerTest, Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const LIMIT = 5;
const procs = new Procs();
const ownEndpoint = endpointsPerTest(procs);
let url = '';
const tokens: Record<string, string> = {};
/** Each user's function (identity) and an endpoint of theirs that never connects: tasks stay waiting. */
const fns: Record<string, string> = {};

beforeAll(async () => {
  ({ url } = await procs.startService(['--max-open-tasks', String(LIMIT)]));
  for (const name of ['alice', 'bob', 'carol', 'dave', 'gina']) {
    tokens[name] = await procs.addUser(name);
    const fx = new FaasClient({ serviceUrl: url, token: tokens[name] });
    fns[name] = await fx.registerFunction('export default (x) => x;');
    await fx.registerEndpoint(`${name}-idle`);
    await fx.close();
  }
  // Users with their own limits, set by the admin when created.
  tokens.erin = await procs.addUser('erin', ['--max-open-tasks', '20']);
  tokens.frank = await procs.addUser('frank', ['--max-open-tasks', '0']);
}, 300_000);

afterAll(() => procs.cleanup());

function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const submission = (name: string, n: number) => ({
  function_id: fns[name],
  endpoint: `${name}-idle`,
  tasks: Array.from({ length: n }, (_, i) => ({ args: i })),
});

const waiting = async (name: string) =>
  (await call('GET', '/v1/metrics', tokens[name])).body.tasks_by_state['waiting-for-endpoint'] ?? 0;

/** `faas user set NAME --max-open-tasks N` on the running service's database. */
async function setLimit(name: string, n: string): Promise<void> {
  const p = procs.spawnCli(['user', 'set', name, '--db', procs.db, '--max-open-tasks', n]);
  const code = await new Promise<number | null>((r) => p.once('exit', r));
  expect(code).toBe(0);
}

interface Stream {
  ws: WebSocket;
  texts: Record<string, any>[];
  frames: number;
}

async function stream(name: string): Promise<Stream> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${tokens[name]}` },
  });
  const s: Stream = { ws, texts: [], frames: 0 };
  ws.on('message', (d, binary) => (binary ? s.frames++ : s.texts.push(JSON.parse(String(d)))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return s;
}

/**
 * Watch `ids` and an unknown id on `s`: 'watched' when the unknown one is answered (a results frame:
 * the watch was taken), else the refusal.
 */
async function watch(s: Stream, ids: string[]): Promise<'watched' | Record<string, any>> {
  const frames = s.frames;
  const texts = s.texts.length;
  s.ws.send(JSON.stringify({ type: 'watch', task_ids: [...ids, uuidv7()] }));
  return until(
    async () => (s.frames > frames ? 'watched' : s.texts.length > texts ? s.texts[texts] : undefined),
    'an answer to the watch',
  );
}

describe('quota of unfinished tasks', () => {
  it('refuses a submission over it whole, over HTTP and over the stream; other users are not affected', async () => {
    expect((await call('POST', '/v1/tasks', tokens.alice, submission('alice', 4))).status).toBe(200);
    const over = await call('POST', '/v1/tasks', tokens.alice, submission('alice', 3));
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({
      code: 'QuotaExceeded',
      details: { quota: 'open_tasks', limit: LIMIT, open: 4, asked: 3 },
    });
    expect(await waiting('alice')).toBe(4);

    // Over the stream, submitted and watched in one step: refused with its req, nothing stored.
    const s = await stream('alice');
    const task = { id: uuidv7(), args: 1 };
    s.ws.send(
      JSON.stringify({
        type: 'submit',
        req: 7,
        watch: true,
        request: { function_id: fns.alice, endpoint: 'alice-idle', tasks: [task, { id: uuidv7(), args: 2 }] },
      }),
    );
    const answer = await until(async () => s.texts[0], 'the answer');
    expect(answer).toMatchObject({
      type: 'error',
      code: 'QuotaExceeded',
      req: 7,
      details: { quota: 'open_tasks', limit: LIMIT, open: 4, asked: 2 },
    });
    expect((await call('GET', `/v1/tasks/${task.id}`, tokens.alice)).status).toBe(404);
    s.ws.close();

    // Bob has his own quota: alice's full one does not touch it.
    expect((await call('POST', '/v1/tasks', tokens.bob, submission('bob', LIMIT))).status).toBe(200);
    expect(await waiting('bob')).toBe(LIMIT);

    // Finished (here: cancelled) tasks leave room; exactly the limit fits.
    expect((await call('GET', '/v1/metrics', tokens.alice)).body).toMatchObject({
      open_tasks: 4,
      max_open_tasks: LIMIT,
    });
    const batch = await call('POST', '/v1/tasks', tokens.alice, submission('alice', 1));
    expect(batch.status).toBe(200);
    expect((await call('POST', '/v1/tasks/cancel', tokens.alice, { batch_id: batch.body.batch_id })).status).toBe(200);
    expect((await call('POST', '/v1/tasks', tokens.alice, submission('alice', 2))).status).toBe(429);
    expect((await call('POST', '/v1/tasks', tokens.alice, submission('alice', 1))).status).toBe(200);
    expect(await waiting('alice')).toBe(LIMIT);
  });

  it("applies an admin's per-user limit to the running service (faas user set)", async () => {
    await setLimit('carol', '2');
    const over = await call('POST', '/v1/tasks', tokens.carol, submission('carol', 3));
    expect(over.body.error).toMatchObject({ code: 'QuotaExceeded', details: { limit: 2, open: 0, asked: 3 } });
    await setLimit('carol', '0');
    expect((await call('POST', '/v1/tasks', tokens.carol, submission('carol', LIMIT + 3))).status).toBe(200);
    await setLimit('carol', 'default');
    expect((await call('POST', '/v1/tasks', tokens.carol, submission('carol', 1))).body.error).toMatchObject({
      code: 'QuotaExceeded',
      details: { limit: LIMIT, open: LIMIT + 3, asked: 1 },
    });
    expect(await waiting('carol')).toBe(LIMIT + 3);
  });
});

describe('watched ids', () => {
  it('are bounded per user (twice the open-task limit) and per stream (the limit)', async () => {
    const r = await call('POST', '/v1/tasks', tokens.dave, submission('dave', LIMIT));
    const ids: string[] = r.body.task_ids;
    const [s1, s2, s3] = [await stream('dave'), await stream('dave'), await stream('dave')];
    expect(await watch(s1, ids)).toBe('watched');
    expect(await watch(s2, ids)).toBe('watched');
    expect(await watch(s3, ids.slice(0, 1))).toMatchObject({
      type: 'error',
      code: 'QuotaExceeded',
      details: { quota: 'watched_per_user', limit: 2 * LIMIT, watched: 2 * LIMIT, asked: 1 },
    });
    // An id watched again on the same stream takes no more room.
    expect(await watch(s1, ids)).toBe('watched');

    // The admin lowers dave's limit: a stream may watch 3, and all of his together 6.
    await setLimit('dave', '3');
    const s4 = await stream('dave');
    expect(await watch(s4, ids)).toMatchObject({
      code: 'QuotaExceeded',
      details: { quota: 'watched_per_stream', limit: 3, watched: 0, asked: LIMIT },
    });
    // A closed stream frees what it watched.
    s1.ws.close();
    await until(async () => ((await watch(s3, ids.slice(0, 1))) === 'watched' ? true : undefined), 'room freed');
    for (const s of [s2, s3, s4]) s.ws.close();
  });
});

describe('clients under a quota', () => {
  it('a client whose watch is refused watches again, and gets every outcome', async () => {
    const ids: string[] = (await call('POST', '/v1/tasks', tokens.gina, submission('gina', LIMIT))).body.task_ids;
    // Two streams watch all of gina's tasks: her streams may watch no more (2 x LIMIT).
    const held = [await stream('gina'), await stream('gina')];
    for (const s of held) expect(await watch(s, ids)).toBe('watched');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const fx = new FaasClient({ serviceUrl: url, token: tokens.gina });
    try {
      const states: string[] = [];
      const watching = (async () => {
        for await (const o of fx.results(ids)) states.push(o.state);
      })();
      await until(async () => (warnings.some((w) => /watching again/.test(w)) ? true : undefined), 'the refusal');
      // The tasks end (cancelled): the streams holding them stop watching, and the client's next watch fits.
      expect((await call('POST', '/v1/tasks/cancel', tokens.gina, { task_ids: ids })).body.cancelled).toHaveLength(
        LIMIT,
      );
      await watching;
      expect(states).toEqual(ids.map(() => 'cancelled'));
    } finally {
      process.off('warning', onWarning);
      await fx.close();
      for (const s of held) s.ws.close();
    }
  });

  it('submitWatched and batchRun of more tasks than the quota complete, each outcome once, said once', async () => {
    const { id } = await ownEndpoint(url, tokens.erin, 'erin-ep', ['--workers', '2']);
    const notes: string[] = [];
    const fx = new FaasClient({ serviceUrl: url, token: tokens.erin, note: (m) => notes.push(m) });
    try {
      const fn = await fx.registerFunction('export default (x) => x * 2;');
      const n = 47;
      const seen = new Map<number, number>();
      let done = 0;
      await fx.submitWatched(
        Array.from({ length: n }, (_, i) => ({ functionId: fn, endpoint: id, args: i })),
        (o) => {
          expect(o.error).toBeUndefined();
          seen.set(o.result as number, (seen.get(o.result as number) ?? 0) + 1);
          done++;
        },
      );
      await until(async () => (done === n ? true : undefined), 'every outcome');
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => 2 * i));
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/at most 20 unfinished tasks.*as earlier ones finish/);

      const ids = await fx.batchRun(Array.from({ length: 33 }, (_, i) => ({ functionId: fn, endpoint: id, args: i })));
      expect(new Set(ids).size).toBe(33);
      const results: number[] = [];
      for await (const o of fx.results(ids)) results.push(o.result as number);
      expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 33 }, (_, i) => 2 * i));
      expect(notes).toHaveLength(1);
    } finally {
      await fx.close();
    }
  });

  it('splits a submission larger than one request may hold; every outcome arrives once', async () => {
    const { id } = await ownEndpoint(url, tokens.frank, 'frank-ep', ['--workers', '2', '--concurrency', '8']);
    // Asked for more per request than the service takes: the client holds to MAX_BATCH_TASKS.
    const fx = new FaasClient({ serviceUrl: url, token: tokens.frank, submitBatchSize: 4 * MAX_BATCH_TASKS });
    try {
      const fn = await fx.registerFunction('export default (x) => x;');
      const n = MAX_BATCH_TASKS + 7;
      const counts = new Uint8Array(n);
      let done = 0;
      await fx.submitWatched(
        Array.from({ length: n }, (_, i) => ({ functionId: fn, endpoint: id, args: i })),
        (o) => {
          counts[o.result as number]++;
          done++;
        },
      );
      await until(async () => (done === n ? true : undefined), 'every outcome');
      expect(counts.every((c) => c === 1)).toBe(true);
    } finally {
      await fx.close();
    }
  });
});
