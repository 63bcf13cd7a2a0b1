/**
 * A raw `/v1/agent` connection that says what a test tells it to (hello, started, results) and
 * heartbeats while `beating`: for tests of what the service does with an agent's connection.
 */
import { afterAll } from 'vitest';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame, packValue } from '../../src/faas/codec.ts';
import type { ServiceTasks } from '../../src/faas/protocol.ts';
import { agentHello, type FileService, until } from './helpers.ts';

export class ScriptedAgent {
  readonly ws: WebSocket;
  /** Every dispatch seen: task id and the attempt number it came with. */
  readonly dispatched: { id: string; attempt: number }[] = [];
  /** Size in bytes of every binary (dispatch) frame seen, in order. */
  readonly frames: number[] = [];
  /** Text messages from the service, in order. */
  readonly texts: { type: string; code?: string; message?: string }[] = [];
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
  beating = true;
  private readonly timer: NodeJS.Timeout;

  constructor(url: string, token: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agent`, {
      headers: { authorization: `Bearer ${token}` },
    });
    this.ws.on('message', (data, binary) => {
      if (binary) this.frames.push((data as Buffer).byteLength);
      if (binary)
        for (const t of decodeFrame<ServiceTasks>(data as Buffer).header.tasks)
          this.dispatched.push({ id: t.task_id, attempt: t.attempt });
      else this.texts.push(JSON.parse(String(data)));
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((r) => this.ws.once('close', (code) => r(code)));
    this.timer = setInterval(() => {
      if (this.beating && this.ws.readyState === WebSocket.OPEN && this.texts.some((t) => t.type === 'welcome'))
        this.ws.send(JSON.stringify({ type: 'heartbeat', capacity: 1, prefetch: 0, busy: 0, queued: 0 }));
    }, 200);
  }

  /** Resolves once the socket is open. */
  async opened(): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN)
      await new Promise<void>((resolve, reject) => {
        this.ws.once('open', () => resolve());
        this.ws.once('error', reject);
      });
  }

  /** Open and say hello (capacity 1); resolves with the service's first answer (welcome or error). */
  async hello(
    name: string,
    holding: string[] = [],
    who?: { instance: string; pid: number },
  ): Promise<{ type: string; code?: string; message?: string }> {
    await this.opened();
    this.ws.send(agentHello(name, { holding, hostname: `host-${who?.instance ?? 'x'}`, ...who }));
    return until(async () => this.texts[0], `answer to ${name}'s hello`);
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** A successful result for `id`. */
  result(id: string, value: unknown, startedAt: number): void {
    const entry = { task_id: id, ok: true, blob: 0, started_at: startedAt, completed_at: Date.now() };
    this.ws.send(encodeFrame({ type: 'results', results: [entry] }, [packValue(value)]), { binary: true });
  }

  /** Resolves true once `n` tasks were dispatched here, false if the connection closed first. */
  async received(n: number, timeoutMs = 300_000): Promise<boolean> {
    let closed = false;
    void this.closed.then(() => (closed = true));
    await until(
      async () => (this.dispatched.length >= n || closed ? true : undefined),
      `${n} tasks dispatched`,
      timeoutMs,
    );
    return this.dispatched.length >= n;
  }

  /** Stop heartbeats and drop the socket at once (no close handshake). */
  stop(): void {
    clearInterval(this.timer);
    this.ws.terminate();
  }
}

/** Scripted agents of one test file on `svc`: the returned function makes one; afterAll stops them all. */
export function scriptedAgents(svc: FileService): () => ScriptedAgent {
  const agents: ScriptedAgent[] = [];
  afterAll(() => {
    for (const a of agents) a.stop();
  });
  return () => {
    const a = new ScriptedAgent(svc.url, svc.token);
    agents.push(a);
    return a;
  };
}
