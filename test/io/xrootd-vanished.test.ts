/**
 * Connections parked for the next file of a server (src/io/xrootd/idle.ts) whose path to the server
 * went dead without a FIN or a reset — a dropped network, a NAT or firewall that forgot the idle flows:
 * bytes sent on them vanish. Reproduced with a TCP relay in front of a real xrootd that stops passing
 * bytes on the connections it has (never closing them) while new ones go through. The next open waits
 * on one kept connection as long as for a login (not a read's request timeout), then drops all the kept
 * ones and connects anew — without using up a retry, and without waiting once more per kept connection.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParkedConnections } from '../../src/io/xrootd/idle.ts';
import { XrootdSource, xrootdCounters } from '../../src/io/xrootd/index.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { sharedPath } from '../shared.ts';

const missing = xrootdMissingFor('root:// parked connections whose server vanished');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const FILE = 'Run2012B_SingleMu_10000.root';

/** A loopback TCP relay to `port` whose current connections can be made to swallow every byte. */
interface Relay {
  readonly port: number;
  /** From now on, drop the bytes of every connection open now, both ways, keeping it open. */
  blackhole(): void;
  /** Blackholed connections the client has closed since. */
  readonly closedByClient: number;
  close(): Promise<void>;
}

async function startRelay(port: number): Promise<Relay> {
  const pairs: { client: Socket; up: Socket; dead: boolean }[] = [];
  let closedByClient = 0;
  const server: Server = createServer((client) => {
    const up = connect(port, '127.0.0.1');
    const pair = { client, up, dead: false };
    pairs.push(pair);
    client.on('data', (d) => pair.dead || up.write(d));
    up.on('data', (d) => pair.dead || client.write(d));
    client.on('close', () => {
      if (pair.dead) closedByClient++;
      up.destroy();
    });
    up.on('close', () => pair.dead || client.destroy());
    client.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    blackhole: () => {
      for (const p of pairs) p.dead = true;
    },
    get closedByClient() {
      return closedByClient;
    },
    close: async () => {
      for (const p of pairs) p.client.destroy(), p.up.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.skipIf(missing !== undefined)('root:// parked connections whose server vanished', () => {
  let server: XrootdServer;
  const relays: Relay[] = [];
  beforeAll(async () => {
    server = await startXrootd([NANO]);
  }, 120_000);
  afterAll(async () => {
    closeParkedConnections();
    for (const r of relays) await r.close();
    await server?.stop();
  });

  /** Four connections to `url` kept from four files read at once; returns the first 70 000 bytes read. */
  async function keepFour(url: string, opts: object): Promise<Buffer> {
    const local = readFileSync(join(server.dataDir, FILE)).subarray(0, 70_000);
    const c0 = xrootdCounters.connections;
    const sources = await Promise.all([0, 1, 2, 3].map(() => XrootdSource.open(url, opts)));
    for (const src of sources) expect(Buffer.from(await src.read(0, 70_000))).toStrictEqual(local);
    await Promise.all(sources.map((s) => s.close()));
    expect(xrootdCounters.connections - c0).toBe(4);
    return local;
  }

  it('a kept connection that times out: all kept ones dropped, the open connects anew, no retry used', async () => {
    closeParkedConnections(); // none left over from other tests of this worker
    const relay = await startRelay(server.port);
    relays.push(relay);
    const url = `root://127.0.0.1:${relay.port}/${join(server.dataDir, FILE)}`;
    // No retries: an open that fails on a dead kept connection fails. The timeouts are short to keep the
    // test short (under the 10 s a connection is kept), and still long for a loopback answer.
    const opts = { retries: 0, timeoutMs: 5000, loginTimeoutMs: 5000 };
    const c0 = xrootdCounters.connections;
    const local = await keepFour(url, opts);

    relay.blackhole();
    const src = await XrootdSource.open(url, opts);
    try {
      expect(Buffer.from(await src.read(0, 70_000))).toStrictEqual(local);
    } finally {
      await src.close();
    }
    // one new connection; the four dead ones closed by the client (one timed out, three dropped unused)
    expect(xrootdCounters.connections - c0).toBe(5);
    // the relay sees the closes in a later turn of the loop
    for (let k = 0; k < 100 && relay.closedByClient < 4; k++) await new Promise((r) => setTimeout(r, 100));
    expect(relay.closedByClient).toBe(4);
  }, 120_000);

  it('the first request on a kept connection waits as long as a login, not a read', async () => {
    closeParkedConnections();
    const relay = await startRelay(server.port);
    relays.push(relay);
    const url = `root://127.0.0.1:${relay.port}/${join(server.dataDir, FILE)}`;
    // The request timeout is longer than this test may take: only the login timeout can end the wait.
    const opts = { retries: 0, timeoutMs: 200_000, loginTimeoutMs: 1000 };
    const local = await keepFour(url, opts);
    relay.blackhole();
    const c0 = xrootdCounters.connections;
    const src = await XrootdSource.open(url, opts);
    try {
      expect(Buffer.from(await src.read(0, 70_000))).toStrictEqual(local);
    } finally {
      await src.close();
    }
    expect(xrootdCounters.connections - c0).toBe(1);
  }, 120_000);
});
