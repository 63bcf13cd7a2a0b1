/**
 * TCP for a thread that must block: a tiny worker thread owns the sockets and the owning thread waits
 * for their bytes with `Atomics.wait`, so an XRootD request can be answered without returning to the
 * event loop. This is what lets a remote file be read synchronously (`XrootdSource.readSync`) on the
 * thread whose processor just touched a column, instead of in the sync-read helper thread, which has to
 * load the readers and open the file a second time (0.3–1.2 s on the first chunk of every run).
 *
 * The thread is a byte pipe and nothing more: its code is the string below, run with `eval` and no
 * loader flags, so it starts in tens of milliseconds from the sources, from a bundle or under tsx alike
 * and imports only node:net. The XRootD protocol itself stays in connection.ts on the owning thread.
 * Every event (connected, bytes, error, closed) is a message on a MessagePort followed by a bump of a
 * shared counter; `pump` drains the port with `receiveMessageOnPort` and sleeps on the counter.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** The relay thread: connect / write / destroy requests in, socket events out. Plain CommonJS (eval). */
const RELAY_SOURCE = `
const { workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, flag } = workerData;
const sockets = new Map();
const post = (m, transfer) => {
  port.postMessage(m, transfer);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
};
process.on('uncaughtException', (e) => post({ ev: 'fatal', id: 0, message: String(e && e.message || e) }));
port.on('message', (m) => {
  if (m.op === 'connect') {
    const s = net.connect({ host: m.host, port: m.port });
    s.setNoDelay(true);
    sockets.set(m.id, s);
    s.on('connect', () => post({ ev: 'connect', id: m.id }));
    s.on('data', (d) => {
      const c = new Uint8Array(d.length);
      c.set(d);
      post({ ev: 'data', id: m.id, data: c }, [c.buffer]);
    });
    s.on('error', (e) => post({ ev: 'error', id: m.id, message: e.message }));
    s.on('close', () => {
      sockets.delete(m.id);
      post({ ev: 'close', id: m.id });
    });
  } else if (m.op === 'write') {
    sockets.get(m.id)?.write(m.data);
  } else if (m.op === 'destroy') {
    sockets.get(m.id)?.destroy();
    sockets.delete(m.id);
  }
});
`;

type RelayRequest =
  | { op: 'connect'; id: number; host: string; port: number }
  | { op: 'write'; id: number; data: Uint8Array }
  | { op: 'destroy'; id: number };

type RelayEvent =
  | { ev: 'connect'; id: number }
  | { ev: 'data'; id: number; data: Uint8Array }
  | { ev: 'error'; id: number; message: string }
  | { ev: 'close'; id: number }
  | { ev: 'fatal'; id: 0; message: string };

/** One socket of the relay, seen from the owning thread; its handlers run inside `Relay.pump`. */
export class RelaySocket {
  connected = false;
  closed = false;
  onData: (b: Buffer) => void = () => {};
  onError: (message: string) => void = () => {};
  onClose: () => void = () => {};

  constructor(
    private readonly relay: Relay,
    readonly id: number,
  ) {}

  write(b: Uint8Array): void {
    if (!this.closed) this.relay.send({ op: 'write', id: this.id, data: b });
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.relay.forget(this.id);
    this.relay.send({ op: 'destroy', id: this.id });
  }
}

/** The owning thread's end of one relay thread. */
export class Relay {
  /** Why the relay thread is unusable (it could not start or it died); a new one is then started. */
  dead: string | undefined;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly sockets = new Map<number, RelaySocket>();
  private nextId = 1;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // execArgv []: no tsx or other loader in a thread that runs plain JS from a string.
    this.worker = new Worker(RELAY_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { port: port2, flag: this.flag },
      transferList: [port2],
    });
    // Never keep the process (or a pool worker) alive for the relay's sake.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', (e) => this.die(`the XRootD relay thread failed: ${e.message}`));
    this.worker.on('exit', () => this.die('the XRootD relay thread exited'));
  }

  /** Open a TCP connection; `pump` until `connected` (or an error/close) before writing. */
  connect(host: string, port: number): RelaySocket {
    const s = new RelaySocket(this, this.nextId++);
    this.sockets.set(s.id, s);
    this.send({ op: 'connect', id: s.id, host, port });
    return s;
  }

  /**
   * Deliver socket events on this thread until `done()` holds or `deadline` (performance.now() ms)
   * passes; returns `done()`. Blocks the thread in between: only for callers that must.
   */
  pump(done: () => boolean, deadline: number): boolean {
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port))
        this.dispatch(m.message as RelayEvent);
      if (done()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (this.dead) {
        // A dead thread sends nothing more: fail its sockets rather than sleep until the deadline.
        for (const s of [...this.sockets.values()]) this.dispatch({ ev: 'error', id: s.id, message: this.dead });
        if (done()) return true;
      }
      Atomics.wait(this.flag, 0, seen, left);
    }
  }

  /** @internal */
  send(m: RelayRequest): void {
    this.port.postMessage(m);
  }

  /** @internal */
  forget(id: number): void {
    this.sockets.delete(id);
  }

  private dispatch(m: RelayEvent): void {
    if (m.ev === 'fatal') {
      this.die(`the XRootD relay thread failed: ${m.message}`);
      return;
    }
    const s = this.sockets.get(m.id);
    if (!s) return; // destroyed by this side already
    switch (m.ev) {
      case 'connect':
        s.connected = true;
        return;
      case 'data':
        s.onData(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        return;
      case 'error':
        s.onError(m.message);
        return;
      case 'close':
        this.sockets.delete(s.id);
        s.closed = true;
        s.onClose();
    }
  }

  private die(message: string): void {
    this.dead ??= message;
    if (relay === this) relay = undefined;
  }
}

let relay: Relay | undefined;

/** This thread's relay, started on first use (and again after one died). */
export function relayThread(): Relay {
  if (!relay || relay.dead) relay = new Relay();
  return relay;
}
