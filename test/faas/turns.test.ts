/**
 * One user's heavy messages take turns with other users' (issue 14): mallory sends six
 * 100,000-task submissions at once, on six streams (each in the limits, ~1 CPU-s to store); bob's
 * one-task submission, sent once her first is answered, is answered before her last — it used to wait
 * for all of hers. Her submissions are all stored, in full. A real service on loopback.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FaasClient } from '../../src/faas/client/index.ts';
import { MAX_BATCH_TASKS } from '../../src/faas/protocol-schemas.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
const users: Record<string, { token: string; fn: string }> = {};

beforeAll(async () => {
  ({ url } = await procs.startService());
  for (const name of ['mallory', 'bob']) {
    const token = await procs.addUser(name);
    const client = new FaasClient({ serviceUrl: url, token });
    users[name] = { token, fn: await client.registerFunction((x: unknown) => x) };
    await client.close();
    // An endpoint that never connects: what is submitted to it waits, and nothing runs.
    expect((await post(token, '/v1/endpoints', { name: `${name}-ep` })).status).toBe(200);
  }
}, 300_000);

afterAll(() => procs.cleanup());

function post(token: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method: path.startsWith('/v1/batches') ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function stream(name: string): Promise<{ ws: WebSocket; answers: any[] }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${users[name].token}` },
  });
  const answers: any[] = [];
  ws.on('message', (d, binary) => {
    if (!binary) answers.push(JSON.parse(String(d)));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, answers };
}

const submit = (name: string, tasks: number) =>
  JSON.stringify({
    type: 'submit',
    req: 1,
    watch: false,
    request: {
      function_id: users[name].fn,
      endpoint: `${name}-ep`,
      tasks: Array.from({ length: tasks }, (_, i) => ({ args: i })),
    },
  });

describe('turns', () => {
  it("another user's message does not wait behind all of one user's heavy ones", async () => {
    const heavy = await Promise.all(Array.from({ length: 6 }, () => stream('mallory')));
    const bob = await stream('bob');
    const order: string[] = [];
    for (const [i, s] of heavy.entries()) s.ws.on('message', () => order.push(`mallory-${i}`));
    bob.ws.on('message', () => order.push('bob'));
    const message = submit('mallory', MAX_BATCH_TASKS);
    for (const s of heavy) s.ws.send(message);
    await until(async () => (order.length > 0 ? true : undefined), "mallory's first answer");
    bob.ws.send(submit('bob', 1));
    await until(async () => (order.length === 7 ? true : undefined), 'every answer');
    expect(order.indexOf('bob')).toBeLessThan(6);
    expect(order.indexOf('bob')).toBeGreaterThan(0);
    // Every submission stored whole.
    for (const s of [...heavy, bob]) expect(s.answers[0]).toMatchObject({ type: 'submitted', req: 1 });
    for (const s of heavy) {
      const b = await post(users.mallory.token, `/v1/batches/${s.answers[0].batch_id}`, undefined);
      expect(b.body.size).toBe(MAX_BATCH_TASKS);
    }
    for (const s of [...heavy, bob]) s.ws.close();
  });
});
