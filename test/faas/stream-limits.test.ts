/**
 * One user may hold at most MAX_STREAMS_PER_USER result streams (issue 14: one user opened 3,000, each
 * able to hold results and a half-received message). A real service on loopback: the stream over the
 * limit is refused with a typed error naming it; a closed stream frees its place; other users are not
 * counted against it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { MAX_STREAMS_PER_USER } from '../../src/faas/service/streams.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
const tokens: Record<string, string> = {};

beforeAll(async () => {
  ({ url } = await procs.startService());
  for (const name of ['mallory', 'bob']) tokens[name] = await procs.addUser(name);
}, 300_000);

afterAll(() => procs.cleanup());

interface Stream {
  ws: WebSocket;
  inbox: unknown[];
  closed: Promise<number>;
}

async function stream(name: string): Promise<Stream> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${tokens[name]}` },
  });
  const inbox: unknown[] = [];
  ws.on('message', (d, binary) => inbox.push(binary ? d : JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, inbox, closed };
}

/**
 * Open a stream and watch an unknown id: 'served' when the watch is answered (a results frame saying not
 * found), 'refused' when the service closes the stream instead.
 */
async function attempt(name: string): Promise<{ s: Stream; outcome: 'served' | 'refused' }> {
  const s = await stream(name);
  let closed = false;
  void s.closed.then(() => (closed = true));
  s.ws.send(JSON.stringify({ type: 'watch', task_ids: ['01a24f00-0000-7000-8000-000000000001'] }));
  const outcome = await until(
    async () => (s.inbox.some((m) => Buffer.isBuffer(m)) ? 'served' : closed ? 'refused' : undefined),
    'an answer to the watch, or the close',
  );
  return { s, outcome };
}

describe('result streams per user', () => {
  it('the one over the limit is refused; closing one frees its place; other users are not counted', async () => {
    const tries = await Promise.all(Array.from({ length: MAX_STREAMS_PER_USER }, () => attempt('mallory')));
    expect(tries.map((t) => t.outcome)).toEqual(Array(MAX_STREAMS_PER_USER).fill('served'));
    const open = tries.map((t) => t.s);
    const { s: over, outcome } = await attempt('mallory');
    expect(outcome).toBe('refused');
    expect(await over.closed).toBe(1008);
    expect(over.inbox[0]).toMatchObject({ type: 'error', code: 'Forbidden', details: { limit: MAX_STREAMS_PER_USER } });
    expect((over.inbox[0] as { message: string }).message).toMatch(/result streams open, the most one user may have/);

    const bob = await attempt('bob');
    expect(bob.outcome).toBe('served');

    open[0].ws.close();
    await open[0].closed;
    // The service sees the close after the client does: retry until the freed place is taken.
    const again = await until(async () => {
      const t = await attempt('mallory');
      return t.outcome === 'served' ? t.s : undefined;
    }, 'a stream in the freed place');
    for (const s of [...open.slice(1), bob.s, again]) s.ws.close();
  });
});
