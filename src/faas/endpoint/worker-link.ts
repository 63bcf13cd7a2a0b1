/**
 * The pool's view of one worker process, whatever carries its messages: a forked child (IPC, the
 * `local` pool) or a worker of a batch-job block that connected back over TCP (`WorkerListener`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { FaasConfigError } from '../errors.ts';
import { MAX_WORKER_CONTROL_BYTES } from '../protocol-schemas.ts';
import type { FromWorker, ToWorker } from './worker-messages.ts';
import {
  checkAnswer,
  KIND_CONTROL,
  KIND_DONE,
  KIND_RUN,
  MAX_SOCKET_MESSAGE,
  MessageReader,
  newNonce,
  parseFromWorker,
  writeControl,
  writeMessage,
} from './worker-socket.ts';

export interface LinkHandlers {
  message(msg: FromWorker): void;
  /** The worker is gone; `how` says why (exit code, signal, connection closed). */
  exit(how: string): void;
  error?(e: Error): void;
}

export interface WorkerLink {
  /** For logs: "worker 3", "block 12 worker 0 on node7". */
  readonly label: string;
  /** Block the worker belongs to (undefined for forked workers). */
  readonly block: string | undefined;
  /** Send a run frame; `paths` maps the frame's function hashes to their module files here. */
  run(frame: Uint8Array, paths: Record<string, string>): void;
  cancel(taskId: string): void;
  /** Stop the worker now: its running tasks are lost (a block restarts it, a pool replaces a forked one). */
  kill(): void;
  /** Ask the worker to exit for good (scale-in, shutdown). */
  bye(): void;
  /** Resolves once the worker is gone. */
  readonly closed: Promise<void>;
  setHandlers(h: LinkHandlers): void;
}

/** A worker forked by the agent, talking over Node IPC. */
export class ForkLink implements WorkerLink {
  readonly block = undefined;
  readonly closed: Promise<void>;
  private readonly proc: ChildProcess;
  private handlers: LinkHandlers | undefined;

  constructor(
    readonly label: string,
    entry: string,
    execArgv: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.proc = fork(entry, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
    });
    this.closed = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.on('message', (m: FromWorker) => this.handlers?.message(m));
    this.proc.on('exit', (code, signal) => this.handlers?.exit(signal ? `signal ${signal}` : `exit code ${code}`));
    this.proc.on('error', (e) => this.handlers?.error?.(e));
  }

  setHandlers(h: LinkHandlers): void {
    this.handlers = h;
  }

  run(frame: Uint8Array): void {
    this.proc.send({ type: 'run', frame } satisfies ToWorker);
  }

  cancel(taskId: string): void {
    this.proc.send({ type: 'cancel', task_id: taskId } satisfies ToWorker);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  bye(): void {
    this.kill();
  }
}

/** A worker of a block, connected back over TCP and authenticated (see WorkerListener). */
export class SocketLink implements WorkerLink {
  readonly closed: Promise<void>;
  private handlers: LinkHandlers | undefined;
  /** Function hashes whose code this worker already has. */
  private readonly sent = new Set<string>();
  private why: string | undefined;

  constructor(
    readonly label: string,
    readonly block: string,
    private readonly sock: Socket,
    private readonly log: (msg: string) => void,
  ) {
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()));
    sock.once('close', () => this.handlers?.exit(this.why ?? 'connection closed'));
    sock.on('error', (e) => {
      this.why ??= `connection error: ${e.message}`;
    });
  }

  setHandlers(h: LinkHandlers): void {
    this.handlers = h;
  }

  /** One message from the worker (after its hello); anything malformed ends this connection only. */
  receive(kind: number, payload: Buffer): void {
    if (this.sock.destroyed) return;
    if (kind === KIND_DONE) return this.handlers?.message({ type: 'done', frame: payload });
    if (kind !== KIND_CONTROL) return this.fail(`a message of unknown kind ${kind}`);
    let msg: ReturnType<typeof parseFromWorker>;
    try {
      msg = parseFromWorker(payload);
    } catch (e) {
      return this.fail((e as Error).message);
    }
    if (msg.type === 'ready') return this.handlers?.message({ type: 'ready' });
    this.fail('a second hello');
  }

  run(frame: Uint8Array, paths: Record<string, string>): void {
    // Compute nodes need not share the agent's disk: each worker gets the code once, by hash.
    for (const [hash, path] of Object.entries(paths)) {
      if (this.sent.has(hash)) continue;
      writeControl(this.sock, { type: 'fn', hash, code: readFileSync(path, 'utf8') });
      this.sent.add(hash);
    }
    writeMessage(this.sock, KIND_RUN, frame);
  }

  cancel(taskId: string): void {
    writeControl(this.sock, { type: 'cancel', task_id: taskId });
  }

  kill(): void {
    this.why ??= 'stopped by the agent';
    this.sock.destroy();
  }

  bye(): void {
    this.why ??= 'released by the agent';
    if (!this.sock.destroyed) writeControl(this.sock, { type: 'bye' });
    this.sock.end();
    // A worker busy in a synchronous loop reads the goodbye late; the connection is closed either way.
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }

  /** End this worker's connection for a protocol error, saying why in the agent's log. */
  fail(what: string): void {
    if (this.sock.destroyed) return;
    this.why = `protocol error: the worker sent ${what}`;
    this.log(`${this.label}: ${this.why}; connection closed`);
    this.sock.destroy();
  }
}

export interface ListenerOptions {
  /** Interface to bind (default all interfaces, so compute nodes can reach the agent). */
  host?: string;
  /** Port (default 0 = any free port). */
  port?: number;
  /** Per-endpoint secret the workers prove they know. */
  secret: string;
  onWorker(link: SocketLink, info: { block: string; worker: number; host: string; pid: number }): void;
  log(msg: string): void;
}

/** Longest a connection may take to authenticate. */
const HANDSHAKE_MS = 10_000;
/** Largest message before authentication (a hello is ~200 bytes). */
const MAX_HELLO = MAX_WORKER_CONTROL_BYTES;

/** TCP listener of the agent: block workers connect here and prove they know the endpoint secret. */
export class WorkerListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly opts: ListenerOptions) {
    this.server = createServer((sock) => this.onConnection(sock));
  }

  static async open(opts: ListenerOptions): Promise<WorkerListener> {
    const l = new WorkerListener(opts);
    const where = `${opts.host ?? '0.0.0.0'}:${opts.port ?? 0}`;
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new FaasConfigError(
            `cannot listen for block workers on ${where}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`,
            { where },
            'choose another --listen-port (or leave it out for any free port)',
            { cause: e },
          ),
        ),
      );
      l.server.listen(opts.port ?? 0, opts.host ?? '0.0.0.0', () => resolve());
    });
    return l;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(sock: Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    sock.setNoDelay(true);
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    const nonce = newNonce();
    let link: SocketLink | undefined;
    const timer = setTimeout(() => {
      this.opts.log(`worker connection from ${peer} did not authenticate within ${HANDSHAKE_MS / 1000} s; closed`);
      sock.destroy();
    }, HANDSHAKE_MS);
    timer.unref();
    const reject = (why: string) => {
      clearTimeout(timer);
      this.opts.log(`refused worker connection from ${peer}: ${why}`);
      sock.destroy();
    };
    const reader = new MessageReader((kind, payload) => {
      if (link) return link.receive(kind, payload);
      if (sock.destroyed) return;
      if (kind !== KIND_CONTROL) return reject('it did not start with a hello');
      let hello: ReturnType<typeof parseFromWorker>;
      try {
        hello = parseFromWorker(payload);
      } catch (e) {
        return reject(`it sent ${(e as Error).message}`);
      }
      if (hello.type !== 'hello') return reject('it did not start with a hello');
      if (!checkAnswer(this.opts.secret, nonce, hello.mac))
        return reject('wrong endpoint secret (a worker of another endpoint, or a stale block?)');
      clearTimeout(timer);
      reader.maxPayload = MAX_SOCKET_MESSAGE - 1;
      const { block, worker, host, pid } = hello;
      link = new SocketLink(`block ${block} worker ${worker} on ${host || '?'}`, block, sock, this.opts.log);
      this.opts.onWorker(link, { block, worker, host, pid });
    });
    reader.maxPayload = MAX_HELLO;
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (e) {
        // A bad frame header: before the hello the peer is refused, after it the worker is named.
        if (link) link.fail((e as Error).message.replace(/^message/, 'a message'));
        else reject((e as Error).message);
      }
    });
    sock.on('error', () => {});
    writeControl(sock, { type: 'challenge', nonce });
  }
}
