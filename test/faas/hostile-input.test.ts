/**
 * Inputs that used to stop the service or answer 500 (issue 14), against a real service and endpoint
 * on loopback: each is answered with a typed 4xx error, and the service keeps running other users' work.
 * Bob's one endpoint is that witness in every test; each test waits for every task it gives it, so
 * none leaves it anything queued or running.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let malloryToken = '';
let bobToken = '';
let adminToken = '';
let bob: FaasClient;
let bobFn = '';
/** Mallory's own function and (never connected) endpoint: her requests pass the access checks. */
let target = { function_id: '', endpoint: 'mallory-ep' };

beforeAll(async () => {
  malloryToken = await procs.addUser('mallory');
  bobToken = await procs.addUser('bob');
  adminToken = await procs.addUser('root', ['--admin']);
  ({ url } = await procs.startService());
  await procs.startEndpoint(url, bobToken, 'bob-ep', ['--workers', '1']);
  bob = new FaasClient({ serviceUrl: url, token: bobToken });
  bobFn = await bob.registerFunction((x: number) => x * 2);
  const mallory = new FaasClient({ serviceUrl: url, token: malloryToken });
  target = { function_id: await mallory.registerFunction((x: unknown) => x), endpoint: 'mallory-ep' };
  expect((await http('POST', '/v1/endpoints', JSON.stringify({ name: 'mallory-ep' }))).status).toBe(200);
  await mallory.close();
}, 300_000);

afterAll(async () => {
  await bob?.close();
  await procs.cleanup();
});

function http(
  method: string,
  path: string,
  body: string | undefined,
  token = malloryToken,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(url),
      { method, path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Open a WebSocket on `path`; resolves once open. Messages are collected in `inbox`. */
async function socket(
  path: string,
  token = malloryToken,
): Promise<{ ws: WebSocket; inbox: unknown[]; closed: Promise<number> }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + path, { headers: { authorization: `Bearer ${token}` } });
  const inbox: unknown[] = [];
  ws.on('message', (d, binary) => inbox.push(binary ? d : JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, inbox, closed };
}

async function next(inbox: unknown[], n: number): Promise<any> {
  return until(async () => (inbox.length >= n ? inbox[n - 1] : undefined), `stream answer ${n}`);
}

/** Bob's work still runs: the service is up and dispatching. */
async function bobStillWorks(): Promise<void> {
  expect(await bob.submit(bobFn, 'bob-ep', 21)).toBe(42);
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('hostile input', () => {
  it('a stream submit with a non-object task is answered with BadRequest, naming the request', async () => {
    const { ws, inbox } = await socket('/v1/stream');
    ws.send(JSON.stringify({ type: 'submit', req: 7, watch: true, request: { ...target, tasks: [5] } }));
    const a = await next(inbox, 1);
    expect(a).toMatchObject({ type: 'error', req: 7, code: 'BadRequest' });
    expect(a.message).toMatch(/tasks\[0\] must be object/);
    ws.send(JSON.stringify({ type: 'submit', req: 8, watch: false, request: { ...target, tasks: [null, 'x'] } }));
    expect(await next(inbox, 2)).toMatchObject({ type: 'error', req: 8, code: 'BadRequest' });
    ws.close();
    await bobStillWorks();
  });

  it('a stream submit with arguments 100,000 arrays deep is refused before parsing', async () => {
    const { ws, inbox } = await socket('/v1/stream');
    ws.send(
      `{"type":"submit","req":1,"watch":false,"request":{"function_id":"${target.function_id}","endpoint":"mallory-ep","tasks":[{"args":${deep(100_000)}}]}}`,
    );
    const a = await next(inbox, 1);
    expect(a).toMatchObject({ type: 'error', code: 'BadRequest', req: 1 });
    expect(a.message).toMatch(/nested deeper than/);
    // Garbage of every kind on the same stream: each answered, the stream stays open.
    ws.send('not json');
    ws.send(Buffer.from([1, 2, 3]));
    ws.send('null');
    ws.send(JSON.stringify({ type: 'watch', task_ids: [1, 2] }));
    ws.send(JSON.stringify({ type: 'nope' }));
    for (let i = 2; i <= 6; i++) expect(await next(inbox, i)).toMatchObject({ type: 'error', code: 'BadRequest' });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await bobStillWorks();
  });

  it('HTTP: null bodies, bad tasks, deep arguments and bad %-escapes are 400, not 500', async () => {
    const t = JSON.stringify(target).slice(1, -1);
    for (const body of [
      'null',
      `{${t},"tasks":[null,"x"]}`,
      `{${t},"tasks":[5]}`,
      `{${t},"tasks":[{"args":${deep(100_000)}}]}`,
      '[]',
      '"x"',
      `{${t},"tasks":[{}],"bogus":1}`,
    ]) {
      const r = await http('POST', '/v1/tasks', body);
      expect(r.status, body.slice(0, 40)).toBe(400);
      expect(r.body.error.code).toBe('BadRequest');
    }
    for (const path of ['/v1/functions', '/v1/endpoints', '/v1/tasks/results', '/v1/tasks/cancel']) {
      const r = await http('POST', path, 'null');
      expect(r.status, path).toBe(400);
    }
    for (const path of ['/v1/tasks/%E0%A4%A', '/v1/functions/%', '/v1/endpoints/%zz', '/v1/batches/%C0']) {
      const r = await http('GET', path, undefined);
      expect(r.status, path).toBe(400);
      expect(r.body.error.message).toMatch(/%-escape/);
    }
    await bobStillWorks();
  });

  it('names have length limits', async () => {
    const f = await http(
      'POST',
      '/v1/functions',
      JSON.stringify({ code: 'export default () => 1', name: 'n'.repeat(201) }),
    );
    expect(f.status).toBe(400);
    expect(f.body.error.message).toMatch(/name must NOT have more than 200 characters/);
    const e = await http('POST', '/v1/endpoints', JSON.stringify({ name: 'e'.repeat(101) }));
    expect(e.status).toBe(400);
    const s = await http(
      'POST',
      '/v1/functions',
      JSON.stringify({ code: 'export default () => 1', sharing: { visibility: 'users', users: ['u'.repeat(101)] } }),
    );
    expect(s.status).toBe(400);
  });

  it('an agent hello announcing capacity 1e12 is refused', async () => {
    const { ws, inbox, closed } = await socket('/v1/agent');
    ws.send(
      JSON.stringify({
        type: 'hello',
        name: 'huge',
        capacity: 1e12,
        prefetch: 0,
        cached_hashes: [],
        holding: [],
        agent_version: '1',
        hostname: 'h',
      }),
    );
    expect(await next(inbox, 1)).toMatchObject({
      type: 'error',
      code: 'BadRequest',
      message: expect.stringMatching(/capacity must be <= /),
    });
    expect(await closed).toBe(1008);
    const eps = await new FaasClient({ serviceUrl: url, token: malloryToken }).listEndpoints();
    expect(eps.find((x) => x.name === 'huge')).toBeUndefined();
    await bobStillWorks();
  });

  it('a body over the request limit is 413; a client splits a large submission into requests under it', async () => {
    // 65 MiB of JSON: refused as a whole (the service's default limit is 64 MiB), others keep working
    const huge = `{"function_id":"${target.function_id}","endpoint":"mallory-ep","tasks":[{"args":"${'x'.repeat(65 * 1024 * 1024)}"}]}`;
    expect((await http('POST', '/v1/tasks', huge)).status).toBe(413);
    await bobStillWorks();
    // 8 tasks of 9 MB arguments (each under the 10 MiB payload limit, 72 MB together): the client sends
    // them in several requests, and every result comes back
    const len = await bob.registerFunction((text: string) => text.length);
    const outcomes = new Map<string, unknown>();
    const ids = await bob.submitWatched(
      Array.from({ length: 8 }, (_, i) => ({ functionId: len, endpoint: 'bob-ep', args: String(i).repeat(9_000_000) })),
      (o) => outcomes.set(o.taskId, o.error ?? o.result),
    );
    expect(ids).toHaveLength(8);
    await until(async () => (outcomes.size === 8 ? true : undefined), 'the 8 results');
    expect(ids.map((id) => outcomes.get(id))).toEqual(Array(8).fill(9_000_000));
  });

  it('a revoked token loses its open result stream', async () => {
    const token = await procs.addUser('carol');
    const { inbox, closed } = await socket('/v1/stream', token);
    const list = procs.spawnCli(['token', 'list', '--user', 'carol', '--db', procs.db]);
    const [, id] = await procs.waitLine(list, /^([0-9a-f]{12})\tcarol/);
    await procs.waitLine(procs.spawnCli(['token', 'revoke', id, '--db', procs.db]), /^revoked/);
    expect(await closed).toBe(1008);
    expect(inbox).toContainEqual({ type: 'error', code: 'Unauthorized', message: 'token revoked' });
  });

  it('/v1/metrics shows a user their own numbers; service-wide ones only to an admin', async () => {
    // A task of bob's of this test's own, so the counts below do not rest on other tests' work.
    await bobStillWorks();
    const own = (await http('GET', '/v1/metrics', undefined, bobToken)).body;
    expect(own.admin).toBe(false);
    expect(own.tasks_by_state.success).toBeGreaterThanOrEqual(1);
    expect(own.endpoints_online).toBe(1);
    expect(own.http_requests).toBeUndefined();
    const none = (await http('GET', '/v1/metrics', undefined, malloryToken)).body;
    expect(none.tasks_by_state).toEqual({});
    expect(none.endpoints_online).toBe(0);
    const all = (await http('GET', '/v1/metrics', undefined, adminToken)).body;
    expect(all.admin).toBe(true);
    expect(all.http_requests).toBeGreaterThan(0);
    expect(all.tasks_by_state.success).toBeGreaterThanOrEqual(own.tasks_by_state.success);
  });
});
