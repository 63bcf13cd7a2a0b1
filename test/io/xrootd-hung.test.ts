/**
 * A real xrootd that accepts connections but answers nothing (SIGSTOPped): a new connection gives up
 * after the login timeout, not after a read's request timeout, over this thread's sockets and over the
 * relay thread (`readSync`); an open then stops after two login timeouts. A read already under way on a
 * logged-in connection keeps the request timeout: a server that stalls for longer than a login may take
 * still answers it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParkedConnections } from '../../src/io/xrootd/idle.ts';
import { XrootdSource } from '../../src/io/xrootd/index.ts';
import { statXrootd } from '../../src/io/xrootd/source.ts';
import { SourceUnreachableError } from '../../src/io/source.ts';
import { caught } from '../helpers/caught.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { sharedPath } from '../shared.ts';

const missing = xrootdMissingFor('root:// against a hung server');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const FILE = 'Run2012B_SingleMu_10000.root';

describe.skipIf(missing !== undefined)('root:// against a hung server', () => {
  let server: XrootdServer;
  beforeAll(async () => {
    server = await startXrootd([NANO]);
  }, 120_000);
  afterAll(async () => {
    closeParkedConnections();
    await server?.stop();
  });

  /** Run `fn` with the server stopped (SIGSTOP), continuing it afterwards whatever happens. */
  async function stopped<T>(fn: () => Promise<T> | T): Promise<T> {
    closeParkedConnections(); // a kept connection would be a logged-in one
    process.kill(server.proc.pid!, 'SIGSTOP');
    try {
      return await fn();
    } finally {
      process.kill(server.proc.pid!, 'SIGCONT');
    }
  }

  it('a new connection gives up at the login timeout; the open after two of them', async () => {
    // The request timeout is longer than this test may take: only the login timeout can end it in time.
    const opts = { retries: 5, backoffMs: 20, timeoutMs: 200_000, loginTimeoutMs: 1000 };
    const e = await stopped(() => caught(statXrootd(server.url(FILE), opts)));
    expect(e).toBeInstanceOf(SourceUnreachableError);
    expect(e.message).toContain('(logging in)');
    // the second attempt ends more than a login timeout after the first failure
    expect(e.message).toContain('after 2 attempts');
  }, 120_000);

  it('a blocking read opening its session over the relay thread gives up at the login timeout', async () => {
    const src = await XrootdSource.open(server.url(FILE), { retries: 0, timeoutMs: 40_000, loginTimeoutMs: 1000 });
    try {
      // readSync opens a second session of the file on first use, through a new connection
      const e = await stopped(() => {
        try {
          src.readSync(0, 1000);
          return undefined;
        } catch (x) {
          return x as Error;
        }
      });
      expect(e).toBeInstanceOf(SourceUnreachableError);
      expect(e?.message).toContain('(logging in)');
    } finally {
      await src.close();
    }
  }, 120_000);

  it('a read on a logged-in connection outlasts a stall longer than the login timeout', async () => {
    const local = readFileSync(join(server.dataDir, FILE));
    const src = await XrootdSource.open(server.url(FILE), { retries: 0, timeoutMs: 100_000, loginTimeoutMs: 300 });
    try {
      const { read } = await stopped(async () => {
        const read = src.read(0, 70_000);
        // the server stalls ten login timeouts long, then answers
        await new Promise((r) => setTimeout(r, 3000));
        return { read };
      });
      expect(Buffer.from(await read)).toStrictEqual(local.subarray(0, 70_000));
      expect(src.reconnects).toBe(0);
    } finally {
      await src.close();
    }
  }, 120_000);
});
