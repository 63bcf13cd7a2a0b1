/**
 * The agent's block-worker port is reachable before authentication: a peer that announces a huge
 * message must be refused from the header, not buffered until the handshake times out.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type SocketLink, WorkerListener } from '../../src/faas/endpoint/worker-link.ts';
import {
  answer,
  KIND_CONTROL,
  KIND_DONE,
  MessageReader,
  type SocketControl,
  writeControl,
  writeMessage,
} from '../../src/faas/endpoint/worker-socket.ts';

const open: { listener?: WorkerListener; sockets: Socket[] } = { sockets: [] };
afterEach(async () => {
  for (const s of open.sockets) s.destroy();
  open.sockets = [];
  await open.listener?.close();
  open.listener = undefined;
});

async function listen(onWorker: (link: SocketLink) => void = () => undefined) {
  const logs: string[] = [];
  const listener = await WorkerListener.open({
    host: '127.0.0.1',
    port: 0,
    secret: 'sekrit',
    onWorker: (link) => onWorker(link),
    log: (m) => logs.push(m),
  });
  open.listener = listener;
  return { listener, logs };
}

/** Connect and wait for the agent's challenge. */
async function dial(port: number): Promise<{ sock: Socket; nonce: string; closed: Promise<void> }> {
  const sock = connect({ host: '127.0.0.1', port });
  open.sockets.push(sock);
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  const nonce = await new Promise<string>((resolve) => {
    const reader = new MessageReader((kind, payload) => {
      if (kind === KIND_CONTROL) resolve((JSON.parse(payload.toString('utf8')) as { nonce: string }).nonce);
    });
    sock.on('data', (c: Buffer) => reader.push(c));
  });
  return { sock, nonce, closed };
}

describe('block-worker listener before authentication', () => {
  it('refuses a connection that announces a 4 GiB message, from its header, without buffering it', async () => {
    const { listener, logs } = await listen();
    const { sock, closed } = await dial(listener.port);
    const head = Buffer.alloc(5);
    head.writeUInt32LE(0xffff_ff00, 0);
    head.writeUInt8(KIND_CONTROL, 4);
    sock.write(head);
    // Keep sending: the agent must close the socket on the header alone, long before this much arrives.
    const junk = Buffer.alloc(1 << 20, 0x41);
    let sent = 0;
    const pump = () => {
      while (!sock.destroyed && sent < 256 << 20 && sock.write(junk)) sent += junk.byteLength;
    };
    sock.on('drain', pump);
    pump();
    await closed;
    expect(sent).toBeLessThan(256 << 20);
    expect(logs.join('\n')).toMatch(
      /refused worker connection from .*: message of 4294967039 bytes announced, more than the 4096 allowed/,
    );
  });

  it('after a correct hello, a large result message goes through', async () => {
    const got = new Promise<Buffer>((resolve) => {
      void listen((link) =>
        link.setHandlers({
          message: (m) => {
            if (m.type === 'done') resolve(Buffer.from(m.frame));
          },
          exit: () => undefined,
        }),
      ).then(async ({ listener }) => {
        const { sock, nonce } = await dial(listener.port);
        const hello: SocketControl = {
          type: 'hello',
          mac: answer('sekrit', nonce),
          block: 'b1',
          worker: 0,
          host: 'h',
          pid: 1,
        };
        writeControl(sock, hello);
        writeMessage(sock, KIND_DONE, Buffer.alloc(1 << 20, 7));
      });
    });
    const frame = await got;
    expect(frame.byteLength).toBe(1 << 20);
    expect(frame.every((b) => b === 7)).toBe(true);
  });
});
