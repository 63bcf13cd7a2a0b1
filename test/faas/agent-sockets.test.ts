/**
 * Agent sockets are bounded per user, and one that never says hello is closed (issue 14): any user
 * could open `/v1/agent` sockets and leave a large frame half-sent on each, pinning up to the payload
 * limit per socket for good. A real service on loopback; the sockets are raw, as a hostile user's are.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { MAX_AGENT_SOCKETS_PER_USER } from '../../src/faas/service/agents.ts';
import { type AgentSocket, agentHello, agentSocket, serviceWithUsers, until } from './helpers.ts';

// Real processes on a machine that may be busy: generous limits, never timing assertions.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const svc = serviceWithUsers(['mallory', 'alice']);
type Agent = AgentSocket;
const agent = (token: string) => agentSocket(svc.url, token);

/**
 * A raw socket upgraded to `/v1/agent` that starts a binary frame of `announced` bytes and sends only
 * `sent` of them: what the ws library must buffer while it waits for the rest.
 */
async function halfFrame(
  token: string,
  announced: number,
  sent: number,
): Promise<{ sock: Socket; closed: Promise<void> }> {
  const { hostname, port } = new URL(svc.url);
  const sock = connect(Number(port), hostname);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  sock.write(
    'GET /v1/agent HTTP/1.1\r\n' +
      `Host: ${hostname}:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      `Authorization: Bearer ${token}\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve) => sock.once('data', (d) => resolve(String(d))));
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  // FIN + binary opcode, masked, 64-bit length; the mask is zero so the payload goes as is.
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(announced), 2);
  sock.write(header);
  sock.write(Buffer.alloc(sent, 0x61));
  return { sock, closed };
}

describe('agent sockets', () => {
  it(`a user has at most ${MAX_AGENT_SOCKETS_PER_USER} open; another user is not affected`, async () => {
    const open: Agent[] = [];
    for (let i = 0; i < MAX_AGENT_SOCKETS_PER_USER; i++) open.push(await agent(svc.tokens.mallory));
    const over = await agent(svc.tokens.mallory);
    await until(async () => over.inbox[0], 'answer to the socket over the bound');
    expect(over.inbox[0]).toMatchObject({
      type: 'error',
      code: 'Forbidden',
      details: { limit: MAX_AGENT_SOCKETS_PER_USER },
    });
    expect(over.inbox[0].message).toMatch(/agent connections open/);
    expect(await over.closed).toBe(1008);
    // Those within the bound are still open, and alice attaches an endpoint as usual.
    expect(open.every((a) => a.ws.readyState === WebSocket.OPEN)).toBe(true);
    const a = await agent(svc.tokens.alice);
    a.ws.send(agentHello('alice-ep'));
    await until(async () => a.inbox[0], 'welcome');
    expect(a.inbox[0]).toMatchObject({ type: 'welcome', name: 'alice-ep' });
    a.ws.close();
    for (const s of open) s.ws.close();
    await Promise.all(open.map((s) => s.closed));
  });

  it('a socket that never says hello, or leaves a frame half-sent, is closed by the service', async () => {
    const quiet = await agent(svc.tokens.mallory);
    const half = await halfFrame(svc.tokens.mallory, 32 * 1024 * 1024, 1024 * 1024);
    // The service closes both (after its hello wait); `until` only bounds a hang.
    let quietClosed = false;
    let halfClosed = false;
    void quiet.closed.then(() => (quietClosed = true));
    void half.closed.then(() => (halfClosed = true));
    await until(async () => (quietClosed && halfClosed) || undefined, 'service closing both sockets', 120_000);
    // Their places are free again: a full set of sockets opens.
    const again: Agent[] = [];
    for (let i = 0; i < MAX_AGENT_SOCKETS_PER_USER; i++) again.push(await agent(svc.tokens.mallory));
    expect(again.every((a) => a.ws.readyState === WebSocket.OPEN)).toBe(true);
    for (const s of again) s.ws.close();
    await Promise.all(again.map((s) => s.closed));
  });
});
