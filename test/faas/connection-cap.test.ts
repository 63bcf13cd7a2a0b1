/**
 * Anyone who reaches the service's port can open connections without a token. Half-sent request
 * headers were held for minutes and nothing capped connections: 20,000 of them used up the service's
 * open-file limit and every other client failed to connect (issue 14, probe D13). Raw sockets against
 * a real service process; the second loopback address (127.0.0.2) plays the flooding client.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Procs, until } from './helpers.ts';
import { ScriptedAgent } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const CAP = 20;
const procs = new Procs();
let url = '';
let port = 0;
let token = '';

beforeAll(async () => {
  token = await procs.addUser('fay');
  ({ url, port } = await procs.startService(['--max-connections-per-address', String(CAP)]));
});

afterAll(async () => {
  await procs.cleanup();
});

interface Raw {
  socket: Socket;
  received: string;
  closed: boolean;
}

/** A connection from `from` that sends the start of a request and then nothing. */
async function halfSent(from: string): Promise<Raw> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  const raw: Raw = { socket, received: '', closed: false };
  socket.on('data', (d) => {
    raw.received += String(d);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    raw.closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write('POST /v1/tasks HTTP/1.1\r\nHost: x\r\n');
  return raw;
}

describe('connections of one address', () => {
  it('are capped with a refusal, half-sent headers are closed, other addresses and WebSockets go on', async () => {
    const agent = new ScriptedAgent(url, token);
    expect((await agent.hello('fay-ep')).type).toBe('welcome');
    const held: Raw[] = [];
    for (let i = 0; i < CAP; i++) held.push(await halfSent('127.0.0.2'));
    // The flooding address is refused, with the protocol's error body.
    const over = await halfSent('127.0.0.2');
    await until(async () => (over.closed ? true : undefined), 'the connection over the cap closed');
    expect(over.received).toMatch(/^HTTP\/1\.1 429 /);
    expect(JSON.parse(over.received.slice(over.received.indexOf('\r\n\r\n') + 4)).error.code).toBe('QuotaExceeded');
    // Another address is not.
    const health = await fetch(`${url}/v1/health`);
    expect(health.status).toBe(200);
    // The held headers never complete: the service ends them (408) instead of holding them for minutes.
    await until(async () => (held.every((r) => r.closed) ? true : undefined), 'half-sent requests closed', 200_000);
    for (const r of held) expect(r.received).toMatch(/^HTTP\/1\.1 408 /);
    // Their slots are free again.
    const again = await halfSent('127.0.0.2');
    await new Promise((r) => setTimeout(r, 500));
    expect(again.closed).toBe(false);
    again.socket.destroy();
    // The agent's WebSocket, open all along and longer than the header deadline, stays.
    expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    agent.stop();
  });
});
