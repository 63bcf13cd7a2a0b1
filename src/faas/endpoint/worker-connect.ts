/**
 * The worker side of a block worker's connection to its endpoint agent (see worker-socket.ts). A
 * worker started by a batch job knows the agent's address and the endpoint secret from its
 * environment (set by the block script the provider submitted):
 *
 * - `RISTRETTO_AGENT`: `host:port` of the agent's worker listener
 * - `RISTRETTO_AGENT_SECRET_FILE` (or `RISTRETTO_AGENT_SECRET`): the endpoint secret
 * - `RISTRETTO_BLOCK_ID`, `RISTRETTO_WORKER_INDEX`: who it is, for the agent's logs
 *
 * Exit codes tell the block script what to do: 0 = the agent released it or is gone (the block ends),
 * {@link RESTART_EXIT} = the agent dropped the connection on purpose (a timed-out or cancelled task):
 * start a fresh worker.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokenInvariant } from '../../errors/index.ts';
import { FaasProtocolError } from '../errors.ts';
import { FunctionCache } from './function-cache.ts';
import type { FromWorker, SocketToWorker, ToWorker } from './worker-messages.ts';
import {
  answer,
  KIND_CONTROL,
  KIND_DONE,
  KIND_RUN,
  MessageReader,
  parseToWorker,
  writeControl,
  writeMessage,
} from './worker-socket.ts';

/** Exit code asking the block script for a fresh worker. */
export const RESTART_EXIT = 75;

export interface WorkerTransport {
  /** Send a message; `written` is called once it is out of this process (or could not be sent). */
  send(msg: FromWorker, written?: () => void): void;
  onMessage(handler: (msg: ToWorker) => void): void;
  /** Module path of a function this worker received by hash (socket workers), else undefined. */
  localPath(hash: string): string | undefined;
}

/** The IPC channel of a forked worker. */
export function ipcTransport(): WorkerTransport {
  const send = process.send?.bind(process) ?? brokenInvariant('an IPC worker started without an IPC channel');
  process.on('disconnect', () => process.exit(0));
  return {
    send: (msg, written) => {
      if (written) send(msg, () => written());
      else send(msg);
    },
    onMessage: (h) => process.on('message', (m: ToWorker) => h(m)),
    localPath: () => undefined,
  };
}

function fail(msg: string, code: number): never {
  process.stderr.write(`[faas-worker] ${msg}\n`);
  process.exit(code);
}

/** Connect to the agent named by the environment and authenticate; resolves once accepted. */
export function socketTransport(env: NodeJS.ProcessEnv = process.env): Promise<WorkerTransport> {
  const addr = env.RISTRETTO_AGENT ?? '';
  const m = /^(.+):(\d+)$/.exec(addr);
  if (!m) fail(`RISTRETTO_AGENT must be host:port of the endpoint agent, got "${addr}"`, 2);
  let secret = env.RISTRETTO_AGENT_SECRET ?? '';
  if (env.RISTRETTO_AGENT_SECRET_FILE) {
    try {
      secret = readFileSync(env.RISTRETTO_AGENT_SECRET_FILE, 'utf8').trim();
    } catch (e) {
      fail(`cannot read the endpoint secret: ${(e as Error).message}`, 2);
    }
  }
  if (!secret) fail('no endpoint secret (RISTRETTO_AGENT_SECRET_FILE or RISTRETTO_AGENT_SECRET)', 2);
  const block = env.RISTRETTO_BLOCK_ID ?? 'unknown';
  const worker = Number(env.RISTRETTO_WORKER_INDEX ?? 0);
  // Content-addressed, so the workers of a node share it safely (write-then-rename, hash checked).
  const cache = new FunctionCache(
    env.RISTRETTO_WORKER_CACHE || join(tmpdir(), `ristretto-worker-functions-${process.getuid?.() ?? 0}`),
  );
  const paths = new Map<string, string>();
  let handler: ((msg: ToWorker) => void) | undefined;
  let released = false;

  return new Promise((resolve) => {
    const sock = connect({ host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) });
    sock.setNoDelay(true);
    let connected = false;
    const transport: WorkerTransport = {
      send(msg, written) {
        if (msg.type === 'done') return void writeMessage(sock, KIND_DONE, msg.frame, written);
        writeControl(sock, { type: 'ready' });
        written?.();
      },
      onMessage: (h) => (handler = h),
      localPath: (hash) => paths.get(hash),
    };
    const who = `block ${block} worker ${worker}`;
    const reader = new MessageReader((kind, payload) => {
      if (kind === KIND_RUN) return handler?.({ type: 'run', frame: payload });
      if (kind !== KIND_CONTROL) fail(`${who}: the agent sent a message of unknown kind ${kind}`, 1);
      let msg: SocketToWorker;
      try {
        msg = parseToWorker(payload);
      } catch (e) {
        // A different agent version or a corrupted stream: restarting would only meet it again.
        fail(`${who}: the agent at ${addr} sent ${(e as Error).message}; exiting`, 1);
      }
      switch (msg.type) {
        case 'challenge':
          writeControl(sock, {
            type: 'hello',
            mac: answer(secret, msg.nonce),
            block,
            worker,
            host: hostname(),
            pid: process.pid,
          });
          resolve(transport);
          return;
        case 'fn':
          paths.set(msg.hash, cache.put(msg.hash, msg.code));
          return;
        case 'cancel':
          return handler?.({ type: 'cancel', task_id: msg.task_id });
        case 'bye':
          released = true;
          sock.end();
          return;
      }
    });
    sock.on('connect', () => (connected = true));
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (e) {
        // The reader throws only on a bad frame header; the task handlers' own errors stay uncaught.
        if (!(e instanceof FaasProtocolError)) throw e;
        fail(`${who}: bad frame from the agent at ${addr}: ${e.message}; exiting`, 1);
      }
    });
    sock.on('error', (e) => {
      // No agent at that address: it stopped (or never ran); the block has nothing to do.
      if (!connected) fail(`cannot reach the endpoint agent at ${addr}: ${e.message}`, 0);
    });
    sock.on('close', () => {
      if (released) process.exit(0);
      if (connected) fail(`the endpoint agent at ${addr} closed the connection`, RESTART_EXIT);
      process.exit(0);
    });
  });
}
