/**
 * One malformed entry in a results frame fails its own task only (issue 14): the client used to drop
 * the whole frame, losing the other outcomes in it silently, and a run waited for them forever. Here:
 * a small WebSocket server on loopback speaking the stream protocol (real sockets, frames built with
 * the protocol's codec) sends frames with broken parts among good ones; and a real service whose
 * stored row is corrupted in its SQLite file sends one.
 */
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { FaasClient } from '../../src/faas/client/index.ts';
import { HttpApi } from '../../src/faas/client/http.ts';
import { MAX_RESYNCS, ResultStream, type TaskOutcome } from '../../src/faas/client/stream.ts';
import { encodeFrame, packValue } from '../../src/faas/codec.ts';
import { FaasProtocolError, TaskFailedError } from '../../src/faas/errors.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const ids = ['t-good-1', 't-bad', 't-good-2'];

/**
 * A stand-in for the service's `/v1/stream`: answers each `watch` with `frame(connection number, ids)`
 * (undefined: no answer). Counts connections.
 */
async function fakeService(frame: (conn: number, ids: string[]) => Buffer | undefined) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let conns = 0;
  wss.on('connection', (ws: WebSocket) => {
    const n = ++conns;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type !== 'watch') return;
      const f = frame(n, msg.task_ids);
      if (f) ws.send(f);
    });
  });
  const { port } = wss.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, conns: () => conns, close: () => wss.close() };
}

const good = (id: string, i: number) => ({
  task_id: id,
  state: 'success',
  endpoint_id: 'ep-1',
  attempts: 1,
  blob: i,
});

/** Watch `ids` on a ResultStream to `url`; resolves with each id's outcome once all have one. */
async function watchAll(url: string, watched: string[]): Promise<Map<string, TaskOutcome>> {
  const stream = new ResultStream(url, 'rst_test');
  const got = new Map<string, TaskOutcome>();
  stream.watch(watched, (o) => got.set(o.taskId, o));
  try {
    await until(async () => (got.size === watched.length ? true : undefined), 'an outcome for every id');
  } finally {
    stream.close();
  }
  return got;
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('a results frame with one malformed entry', () => {
  it('delivers the good entries and fails the bad one, naming its task and field', async () => {
    const svc = await fakeService(() =>
      encodeFrame(
        {
          type: 'results',
          results: [good('t-good-1', 0), { ...good('t-bad', 1), attempts: 'three' }, good('t-good-2', 2)],
        },
        [packValue({ n: 1 }), packValue({ n: 2 }), packValue({ n: 3 })],
      ),
    );
    closers.push(svc.close);
    const got = await watchAll(svc.url, ids);
    expect(got.get('t-good-1')).toMatchObject({ state: 'success', result: { n: 1 } });
    expect(got.get('t-good-2')).toMatchObject({ state: 'success', result: { n: 3 } });
    const bad = got.get('t-bad');
    expect(bad?.state).toBe('failed');
    expect(bad?.error).toBeInstanceOf(FaasProtocolError);
    expect(bad?.error?.message).toMatch(/task t-bad: .*malformed field attempts/);
  });

  it('an entry naming no task: the stream watches again and gets every outcome', async () => {
    const svc = await fakeService((conn, watched) =>
      encodeFrame(
        {
          type: 'results',
          // First connection: the middle entry has lost its task id; then a correct replay.
          results: watched.map((id, i) => (conn === 1 && i === 1 ? { ...good(id, i), task_id: 7 } : good(id, i))),
        },
        watched.map((_, i) => packValue(i)),
      ),
    );
    closers.push(svc.close);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const got = await watchAll(svc.url, ids);
      for (const id of ids) expect(got.get(id)?.state).toBe('success');
    } finally {
      process.off('warning', onWarning);
    }
    expect(svc.conns()).toBe(2);
    expect(warnings.join('\n')).toMatch(/results\[1\] names no task; reconnecting/);
  });

  it(`frames that never make sense: every watched task fails after ${MAX_RESYNCS} tries, none waits forever`, async () => {
    const svc = await fakeService(() => Buffer.from('not a frame at all'));
    closers.push(svc.close);
    process.on('warning', () => {});
    const got = await watchAll(svc.url, ids);
    for (const id of ids) {
      expect(got.get(id)?.state).toBe('failed');
      expect(got.get(id)?.error).toBeInstanceOf(FaasProtocolError);
    }
    expect(svc.conns()).toBe(MAX_RESYNCS + 1);
  });
});

describe('a real service with a corrupted row', () => {
  const procs = new Procs();
  afterAll(() => procs.cleanup());

  it("one task fails loudly, naming the field; a damaged stored error is that task's own; the others arrive", async () => {
    const token = await procs.addUser('carol');
    const { url } = await procs.startService();
    const api = new HttpApi(url, token);
    const { function_id } = await api.request<{ function_id: string }>(
      'POST',
      '/v1/functions',
      JSON.stringify({ code: 'export default (x) => x;' }),
    );
    // An endpoint that never connects; the tasks are cancelled, so they are finished without running.
    await api.request('POST', '/v1/endpoints', JSON.stringify({ name: 'carol-ep' }));
    const { task_ids } = await api.request<{ task_ids: string[] }>(
      'POST',
      '/v1/tasks',
      JSON.stringify({
        function_id,
        endpoint: 'carol-ep',
        tasks: [{ args: 1 }, { args: 2 }, { args: 3 }, { args: 4 }],
      }),
    );
    await api.request('POST', '/v1/tasks/cancel', JSON.stringify({ task_ids }));
    api.close();
    // The stored row of the middle task goes bad behind the service's back.
    const db = new Database(procs.db);
    db.prepare('UPDATE tasks SET attempts = 5000 WHERE id = ?').run(task_ids[1]);
    // And the stored error of the last one is not JSON any more: the service says so for that task only.
    db.prepare("UPDATE tasks SET error = '{not json' WHERE id = ?").run(task_ids[3]);
    db.close();

    const client = new FaasClient({ serviceUrl: url, token });
    const got = new Map<string, TaskOutcome>();
    try {
      for await (const o of client.results(task_ids as string[])) got.set(o.taskId, o);
    } finally {
      await client.close();
    }
    expect(got.size).toBe(4);
    const [first, middle, last, damaged] = (task_ids as string[]).map((id) => got.get(id));
    for (const o of [first, last]) {
      expect(o?.state).toBe('cancelled');
      expect(o?.error).toBeInstanceOf(TaskFailedError);
    }
    expect(damaged?.error).toBeInstanceOf(TaskFailedError);
    expect((damaged?.error as TaskFailedError | undefined)?.remoteType).toBe('SerializationError');
    expect(damaged?.error?.message).toMatch(/stored error of task .* is damaged/);
    expect(middle?.state).toBe('failed');
    expect(middle?.error).toBeInstanceOf(FaasProtocolError);
    expect(middle?.error?.message).toContain(`task ${task_ids[1]}`);
    expect(middle?.error?.message).toMatch(/malformed field attempts \(attempts must be <= 1000\)/);

    // Over HTTP, the same rows: one answer with every task, the damaged error as that task's own.
    const http = new HttpApi(url, token);
    const answer = await http.request<{ tasks: { task_id: string; error: { message: string } | null }[] }>(
      'POST',
      '/v1/tasks/results',
      JSON.stringify({ task_ids }),
    );
    http.close();
    expect(answer.tasks.map((t) => t.task_id)).toEqual(task_ids);
    expect(answer.tasks[3]?.error?.message).toMatch(/is damaged/);
  });
});
