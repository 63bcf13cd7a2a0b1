/**
 * A socket the service refuses (a user's 33rd result stream, 17th agent connection) that then sends
 * a malformed frame must not end the service: the ws library emits 'error' for it even while closing,
 * and an 'error' without a listener is an uncaught exception (review of session 15). A real service
 * process on loopback; the refused sockets are raw, as a hostile client's are.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { MAX_AGENT_SOCKETS_PER_USER } from '../../src/faas/service/agents.ts';
import { MAX_STREAMS_PER_USER } from '../../src/faas/service/streams.ts';
import { serviceWithUsers } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = serviceWithUsers(['mallory']);

async function open(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`${svc.url.replace(/^http/, 'ws')}${path}`, {
    headers: { authorization: `Bearer ${svc.token}` },
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** Upgrade a raw socket to `path`; once the 101 arrives, send a frame with a reserved opcode. */
async function refusedWithBadFrame(path: string): Promise<string> {
  const { hostname, port } = new URL(svc.url);
  const sock = connect(Number(port), hostname);
  sock.on('error', () => {});
  let got = '';
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('data', (d) => {
    if (!got) sock.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0])); // FIN, opcode 3 (reserved), masked, empty
    got += d.toString('latin1');
  });
  sock.on('connect', () =>
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Authorization: Bearer ${svc.token}\r\n\r\n`,
    ),
  );
  await closed;
  return got;
}

async function healthy(): Promise<boolean> {
  const r = await fetch(`${svc.url}/v1/whoami`, { headers: { authorization: `Bearer ${svc.token}` } });
  return r.ok;
}

describe('refused sockets sending malformed frames', () => {
  it('a refused result stream and a refused agent socket leave the service up', async () => {
    const streams: WebSocket[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_USER; i++) streams.push(await open('/v1/stream'));
    const agents: WebSocket[] = [];
    for (let i = 0; i < MAX_AGENT_SOCKETS_PER_USER; i++) agents.push(await open('/v1/agent'));
    for (let round = 0; round < 5; round++) {
      expect(await refusedWithBadFrame('/v1/stream')).toMatch(/^HTTP\/1\.1 101[\s\S]*Forbidden/);
      expect(await refusedWithBadFrame('/v1/agent')).toMatch(/^HTTP\/1\.1 101[\s\S]*Forbidden/);
      expect(await healthy()).toBe(true);
    }
    for (const ws of [...streams, ...agents]) ws.close();
  });
});
