/**
 * Results an endpoint sends are checked when they arrive (issue 14): against a real service on
 * loopback, a fake agent answers its tasks with bytes that are not a packed value — text crafted to
 * add an entry for another task to the owner's results answer, garbage, a value nested too deep, a
 * marker naming a missing blob. Each fails its own task with SerializationError; the owner's results
 * request answers every id once, with the honest endpoint's result for the task that ran there.
 */
import { request } from 'node:http';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FaasClient } from '../../src/faas/client/index.ts';
import { decodeFrame, encodeFrame, encodeFrameRaw, packValue } from '../../src/faas/codec.ts';
import { type ServiceTasks, TERMINAL_STATES } from '../../src/faas/protocol.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let token = '';
let fn = '';
let client: FaasClient;
/** The fake agent's socket and the task ids dispatched to it. */
let agent: WebSocket;
const dispatched: string[] = [];

beforeAll(async () => {
  token = await procs.addUser('alice');
  ({ url } = await procs.startService());
  await procs.startEndpoint(url, token, 'honest-ep', ['--workers', '1']);
  client = new FaasClient({ serviceUrl: url, token });
  fn = await client.registerFunction((xs: number[]) => xs.length);
  agent = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agent`, { headers: { authorization: `Bearer ${token}` } });
  const welcome = new Promise<void>((resolve, reject) => {
    agent.on('message', (data, binary) => {
      if (binary) {
        for (const t of decodeFrame<ServiceTasks>(data as Buffer).header.tasks) dispatched.push(t.task_id);
      } else if (JSON.parse(String(data)).type === 'welcome') resolve();
      else reject(new Error(`fake agent got ${String(data)}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    agent.once('open', () => resolve());
    agent.once('error', reject);
  });
  agent.send(
    JSON.stringify({
      type: 'hello',
      name: 'fake-ep',
      capacity: 8,
      prefetch: 0,
      cached_hashes: [],
      holding: [],
      agent_version: 'test',
      hostname: 'h',
    }),
  );
  await welcome;
}, 300_000);

afterAll(async () => {
  agent?.terminate();
  await client?.close();
  await procs.cleanup();
});

function post(path: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function submit(endpoint: string): Promise<string> {
  const r = await post('/v1/tasks', { function_id: fn, endpoint, tasks: [{ args: [1, 2, 3] }] });
  expect(r.status).toBe(200);
  return JSON.parse(r.text).task_ids[0];
}

/** A task given to the fake agent, answered with `blob` as its result. */
async function fakeResult(blob: Uint8Array): Promise<string> {
  const id = await submit('fake-ep');
  await until(async () => (dispatched.includes(id) ? true : undefined), `dispatch of ${id} to the fake agent`);
  const now = Date.now();
  const header = {
    type: 'results',
    results: [{ task_id: id, ok: true, blob: 0, started_at: now - 1, completed_at: now }],
  };
  agent.send(encodeFrame(header, [blob]), { binary: true });
  await until(
    async () => (TERMINAL_STATES.has((await client.getTask(id)).state) ? true : undefined),
    `result of ${id}`,
  );
  return id;
}

/** The owner's `POST /v1/tasks/results`, parsed: every entry, in order. */
async function results(ids: string[]): Promise<any[]> {
  const r = await post('/v1/tasks/results', { task_ids: ids });
  expect(r.status, r.text.slice(0, 300)).toBe(200);
  return JSON.parse(r.text).tasks;
}

describe('results sent by an endpoint', () => {
  let honest = '';
  beforeAll(async () => {
    honest = await submit('honest-ep');
    await until(async () => ((await client.getTask(honest)).state === 'success' ? true : undefined), 'honest task');
  });

  it('text that would add an entry for another task fails its own task; the honest result stands', async () => {
    const faked = await fakeResult(encodeFrameRaw(`1},{"task_id":"${honest}","state":"success","result":666`));
    for (const order of [
      [honest, faked],
      [faked, honest],
    ]) {
      const tasks = await results(order);
      expect(tasks.map((t) => t.task_id)).toEqual(order);
      const byId = new Map(tasks.map((t) => [t.task_id, t]));
      expect(byId.get(honest)).toMatchObject({ state: 'success', result: 3 });
      expect(byId.get(faked)).toMatchObject({ state: 'failed', error: { type: 'SerializationError' } });
      expect(byId.get(faked).result).toBeUndefined();
    }
    const seen = await client.getBatchResult([honest, faked]);
    expect(seen.get(honest)?.result).toBe(3);
    expect(seen.get(faked)?.error?.message).toMatch(/not a value: value is not valid JSON/);
  });

  it('bytes that are not a frame, or a value nested 200,000 deep, fail only their own task', async () => {
    const garbage = await fakeResult(Buffer.from('not a frame at all'));
    const deep = await fakeResult(encodeFrameRaw('['.repeat(200_000) + ']'.repeat(200_000)));
    const missing = await fakeResult(encodeFrameRaw('{"$type":"Float64Array","buf":3}', [new Uint8Array(8)]));
    const tasks = await results([garbage, honest, deep, missing]);
    expect(tasks.map((t) => [t.state, t.error?.type])).toEqual([
      ['failed', 'SerializationError'],
      ['success', undefined],
      ['failed', 'SerializationError'],
      ['failed', 'SerializationError'],
    ]);
    expect(tasks[0].error.message).toMatch(/frame header length \d+ exceeds frame size 18/);
    expect(tasks[2].error.message).toMatch(/nested deeper than 100 levels/);
    expect(tasks[3].error.message).toMatch(/missing blob 3/);
    expect(tasks[1].result).toBe(3);
  });

  it('a well-formed value with blobs and an empty (undefined) value are stored as sent', async () => {
    const xs = new Float64Array([1.5, -2, Number.NaN]);
    const withBlob = await fakeResult(packValue({ h: xs, n: 'x' }));
    const none = await fakeResult(packValue(undefined));
    const seen = await client.getBatchResult([withBlob, none]);
    expect(seen.get(withBlob)?.state).toBe('success');
    expect(seen.get(withBlob)?.result).toEqual({ h: xs, n: 'x' });
    expect(seen.get(none)).toMatchObject({ state: 'success', result: null });
  });

  it('a bad result stored before results were checked fails its own entry, not the answer', async () => {
    // As a database written by an older service holds it: the row is changed behind the service's back.
    const ids = [await fakeResult(packValue(1)), await fakeResult(packValue(2))];
    const db = new Database(procs.db);
    try {
      const set = db.prepare('UPDATE tasks SET result = ? WHERE id = ?');
      set.run(Buffer.from('not a frame at all'), ids[0]);
      set.run(encodeFrameRaw(`1},{"task_id":"${honest}","state":"success","result":666`), ids[1]);
    } finally {
      db.close();
    }
    const tasks = await results([ids[0], honest, ids[1]]);
    expect(tasks.map((t) => [t.task_id, t.state, t.error?.type])).toEqual([
      [ids[0], 'failed', 'SerializationError'],
      [honest, 'success', undefined],
      [ids[1], 'failed', 'SerializationError'],
    ]);
    expect(tasks[1].result).toBe(3);
    expect(tasks[2].error.message).toMatch(/stored result is not a value: value is not valid JSON/);
  });
});
