/**
 * Messages between the endpoint agent and a worker that connected back over TCP (a worker of a batch
 * job "block", see providers/). The same messages as the IPC of forked workers (worker-messages.ts),
 * plus a handshake and function code, framed as `[u32 length][u8 kind][payload]` (little-endian):
 * kind 1 = JSON control message, 2 = run frame, 3 = done frame (codec.ts frames, never re-encoded).
 *
 * Handshake: the agent sends `{type:"challenge", nonce}`; the worker answers with HMAC-SHA256 of the
 * nonce under the endpoint's secret, so the secret itself never crosses the network and a recorded
 * answer is useless for the next connection.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { FaasProtocolError } from '../errors.ts';
import { agentSocketText, byType, MAX_WORKER_CONTROL_BYTES, workerSocketText } from '../protocol-schemas.ts';
import { parseJson } from '../schema.ts';
import type { SocketControl, SocketFromWorker, SocketToWorker } from './worker-messages.ts';

export type { SocketControl } from './worker-messages.ts';

export const KIND_CONTROL = 1;
export const KIND_RUN = 2;
export const KIND_DONE = 3;

/** Largest message accepted (a frame length is a u32; results are capped far lower by the service). */
export const MAX_SOCKET_MESSAGE = 0xffff_fff0;

/** Write one message; `written` is called once it is handed to the operating system (or the write failed). */
export function writeMessage(sock: Socket, kind: number, payload: Uint8Array | string, written?: () => void): boolean {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32LE(body.byteLength + 1, 0);
  head.writeUInt8(kind, 4);
  // Two writes, no copy of a large frame; the socket coalesces them.
  sock.write(head);
  return written ? sock.write(body, () => written()) : sock.write(body);
}

export function writeControl(sock: Socket, msg: SocketControl): boolean {
  return writeMessage(sock, KIND_CONTROL, JSON.stringify(msg));
}

/**
 * Parse and validate one control message against a table of validators by `type`. A control message is
 * one flat object, so nesting and containers are capped at one before JSON.parse sees the text.
 * Throws (FaasProtocolError, JsonLimitError, SchemaError) with a message that says what is wrong.
 */
function parseControl(
  payload: Buffer,
  table: Record<string, { check(v: unknown, what: string): unknown }>,
  maxBytes: number,
): unknown {
  if (payload.byteLength > maxBytes)
    throw new FaasProtocolError(`a control message of ${payload.byteLength} bytes, over the limit of ${maxBytes}`);
  let msg: unknown;
  try {
    msg = parseJson(payload.toString('utf8'), 1, Infinity, 1);
  } catch (e) {
    throw new FaasProtocolError(`a control message that is ${(e as Error).message}`);
  }
  const v = byType(table, msg);
  if (!v) {
    const t = (msg as { type?: unknown } | null)?.type;
    throw new FaasProtocolError(`a control message of unknown type ${JSON.stringify(t ?? null).slice(0, 60)}`);
  }
  return v.check(msg, `a "${(msg as { type: string }).type}" control message`);
}

/** A control message from the agent, validated (see protocol-schemas.ts). */
export function parseToWorker(payload: Buffer): SocketToWorker {
  // Function code may be large: the schema bounds it, the frame length bounds the bytes.
  return parseControl(payload, workerSocketText, Infinity) as SocketToWorker;
}

/** A control message from a block worker, validated; at most MAX_WORKER_CONTROL_BYTES. */
export function parseFromWorker(payload: Buffer): SocketFromWorker {
  return parseControl(payload, agentSocketText, MAX_WORKER_CONTROL_BYTES) as SocketFromWorker;
}

/**
 * Splits a byte stream into messages. Chunks are kept as a list and joined only once a whole message
 * is there, so a large frame arriving in many chunks is copied once.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private have = 0;
  /**
   * Largest payload accepted now. Checked against a message's header before its body is buffered, so an
   * unauthenticated peer announcing gigabytes is refused at once instead of filling memory until the
   * handshake times out; the listener raises it once the peer has proved it knows the secret.
   */
  maxPayload = MAX_SOCKET_MESSAGE - 1;

  constructor(private readonly onMessage: (kind: number, payload: Buffer) => void) {}

  /** Feed bytes; throws on a message whose payload exceeds `maxPayload`, or of length 0. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.have += chunk.byteLength;
    for (;;) {
      if (this.have < 4) return;
      const first = this.chunks[0].byteLength >= 4 ? this.chunks[0] : this.join();
      const len = first.readUInt32LE(0);
      if (len === 0) throw new FaasProtocolError('bad message length 0');
      if (len - 1 > this.maxPayload)
        throw new FaasProtocolError(`message of ${len - 1} bytes announced, more than the ${this.maxPayload} allowed`);
      if (this.have < 4 + len) return;
      const all = this.join();
      const kind = all.readUInt8(4);
      const payload = all.subarray(5, 4 + len);
      const rest = all.subarray(4 + len);
      this.chunks = rest.byteLength ? [rest] : [];
      this.have = rest.byteLength;
      this.onMessage(kind, payload);
    }
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }
}

/** A fresh challenge nonce. */
export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

/** The worker's answer to a challenge. */
export function answer(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(nonce).digest('base64url');
}

/** Constant-time check of an answer. */
export function checkAnswer(secret: string, nonce: string, mac: unknown): boolean {
  if (typeof mac !== 'string') return false;
  const want = Buffer.from(answer(secret, nonce));
  const got = Buffer.from(mac);
  return want.byteLength === got.byteLength && timingSafeEqual(want, got);
}
