/**
 * A real endpoint agent's block-worker port (local provider): a connection that sends a malformed
 * control message after a correct hello is closed and logged by the worker's name, and the agent
 * goes on running tasks in its own blocks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { answer, KIND_CONTROL, MessageReader, writeControl } from '../../src/faas/endpoint/worker-socket.ts';
import { Procs, until } from './helpers.ts';
import { freePort } from '../helpers/free-port.ts';

const procs = new Procs();
let token = '';
let url = '';

beforeAll(async () => {
  token = await procs.addUser('ctl');
  url = (await procs.startService()).url;
}, 240_000);

afterAll(() => procs.cleanup());

/** Authenticate on the agent's worker port as block "intruder", then send `bad` raw. */
async function sendAfterHello(port: number, secret: string, bad: Buffer): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port });
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  const nonce = await new Promise<string>((resolve) => {
    const reader = new MessageReader((kind, payload) => {
      if (kind === KIND_CONTROL) resolve((JSON.parse(payload.toString('utf8')) as { nonce: string }).nonce);
    });
    sock.on('data', (c: Buffer) => reader.push(c));
  });
  writeControl(sock, { type: 'hello', mac: answer(secret, nonce), block: 'intruder', worker: 0, host: 'h', pid: 1 });
  const body = Buffer.from(bad);
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.byteLength + 1, 0);
  head.writeUInt8(KIND_CONTROL, 4);
  sock.write(Buffer.concat([head, body]));
  await closed;
}

describe('a real agent refuses malformed block-worker control messages', () => {
  it('closes that connection with a logged reason and keeps running tasks', async () => {
    const blockDir = `${procs.dir}/blocks-ctl`;
    const port = await freePort();
    const ep = await procs.startEndpoint(url, token, 'ctl', [
      '--provider',
      'local',
      '--max-blocks',
      '1',
      '--workers-per-block',
      '1',
      '--block-dir',
      blockDir,
      '--listen-port',
      String(port),
    ]);
    await until(async () => (existsSync(`${blockDir}/secret`) ? true : undefined), 'the endpoint secret', 60_000);
    const secret = readFileSync(`${blockDir}/secret`, 'utf8').trim();
    await sendAfterHello(port, secret, Buffer.from('{"type":"ready","x":1}'));
    await until(
      async () =>
        /block intruder worker 0 on h: protocol error: the worker sent a "ready" control message: unknown property "x"/.test(
          procs.log,
        )
          ? true
          : undefined,
      'the protocol error logged by worker name',
      60_000,
    );
    await sendAfterHello(port, secret, Buffer.from('[[[[[[[[]]]]]]]]'));
    await until(
      async () =>
        /block intruder worker 0 on h: protocol error: .*nested deeper than 1 levels/.test(procs.log)
          ? true
          : undefined,
      'the second protocol error logged',
      60_000,
    );
    const fx = new FaasClient({ serviceUrl: url, token });
    try {
      const fn = await fx.registerFunction(async (x: number) => x * 3);
      const ids = await fx.batchRun([1, 2, 3].map((x) => ({ functionId: fn, endpoint: 'ctl', args: x })));
      const got = new Map<string, unknown>();
      for await (const o of fx.results(ids)) {
        expect(o.error).toBeUndefined();
        got.set(o.taskId, o.result);
      }
      expect(ids.map((id) => got.get(id))).toEqual([3, 6, 9]);
    } finally {
      await fx.close();
    }
    await procs.kill(ep.proc, 'SIGTERM');
    expect(ep.proc.exitCode).toBe(0);
  }, 600_000);
});
