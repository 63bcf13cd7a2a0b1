/**
 * A result stream that stops half-way through a frame, or whose client went away without closing, held
 * its buffered bytes forever (outside probe, finding 7). The service pings its streams every heartbeat
 * and closes those that answer nothing for the idle limit; a quiet but live client (its WebSocket
 * answers pings) keeps its stream. The service runs in this process with a short heartbeat.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ROUTES } from '../../src/faas/protocol.ts';
import { type FaasService, startService } from '../../src/faas/service/server.ts';
import { Procs } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const HEARTBEAT_MS = 500;
const procs = new Procs();
const log: string[] = [];
let svc: FaasService;
let token = '';

beforeAll(async () => {
  token = await procs.addUser('alice');
  svc = await startService({ dbFile: procs.db, heartbeatMs: HEARTBEAT_MS, streamIdleMs: 0, log: (m) => log.push(m) });
}, 300_000);

afterAll(async () => {
  await procs.cleanup();
  await svc?.close();
});

async function openStream(): Promise<{ ws: WebSocket; closed: Promise<void> }> {
  const ws = new WebSocket(`${svc.url.replace(/^http/, 'ws')}${ROUTES.stream}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  ws.on('error', () => undefined);
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return { ws, closed };
}

describe('result streams that go silent', () => {
  it('a half-sent frame is closed after the idle limit; a quiet live client keeps its stream', async () => {
    const quiet = await openStream();
    const stuck = await openStream();
    // Half of a masked binary frame announcing 1 MiB, then nothing: the service buffers it and cannot
    // read the client's pongs behind it.
    const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]);
    const sock = (stuck.ws as unknown as { _socket: import('node:net').Socket })._socket;
    sock.write(Buffer.concat([head, Buffer.alloc(4096, 7)]));
    await stuck.closed;
    expect(log.some((l) => /stream of user alice: nothing heard for \d+ ms, closing/.test(l))).toBe(true);
    // Several more idle limits pass: the quiet client answered every ping and is still there, and works.
    await settle();
    expect(quiet.ws.readyState).toBe(WebSocket.OPEN);
    const answer = new Promise<string>((r) => quiet.ws.once('message', (d) => r(String(d))));
    quiet.ws.send(JSON.stringify({ type: 'watch', task_ids: ['no-such-task'] }));
    expect(await answer).toContain('no-such-task');
    quiet.ws.close();
    await quiet.closed;
  });

  it("the service's past stalls do not lengthen a new stream's idle limit", async () => {
    // The service (this process) stalls for 20 heartbeats: its sweep counts that as its own stall.
    const quiet = await openStream();
    let pings = 0;
    quiet.ws.on('ping', () => pings++);
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    const end = Date.now() + 20 * HEARTBEAT_MS;
    while (Date.now() < end) {
      // busy: the service's event loop is blocked
    }
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    // A stream opened after the stall that goes silent mid-frame is closed after about its idle limit
    // (three heartbeats), counted in sweeps (the quiet stream's pings), not after 20 more.
    const stuck = await openStream();
    const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]);
    const sock = (stuck.ws as unknown as { _socket: import('node:net').Socket })._socket;
    sock.write(Buffer.concat([head, Buffer.alloc(4096, 7)]));
    const before = pings;
    await stuck.closed;
    expect(pings - before).toBeLessThan(12);
    quiet.ws.close();
    await quiet.closed;
  });
});

/** Six heartbeats (two idle limits) of this process's event loop. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 6 * HEARTBEAT_MS));
}
