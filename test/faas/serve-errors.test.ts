/**
 * An admin's ordinary mistakes starting the service — a port in use, a --db in a folder that does
 * not exist — are one line and exit 1, not "internal error … a bug in Ristretto" (exit 70).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { Procs } from './helpers.ts';

const procs = new Procs();
afterAll(() => procs.cleanup());

async function serve(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const p = procs.spawnCli(['serve', ...args]);
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  return { code, stderr };
}

describe('faas serve: start-up errors', () => {
  it('a port in use', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = await serve(['--port', String(port), '--db', join(procs.dir, 'a.db')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use — choose another port with --port`);
      expect(r.stderr).not.toMatch(/internal error|bug in Ristretto/);
    } finally {
      taken.close();
    }
  }, 120_000);

  it('a --db in a folder that does not exist', async () => {
    const db = join(procs.dir, 'no-such-folder', 'faas.db');
    const r = await serve(['--port', '0', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot open the service database ${db}`);
    expect(r.stderr).toContain('check that its folder exists and is writable, or pass another --db');
    expect(r.stderr).not.toMatch(/internal error|bug in Ristretto/);
  }, 120_000);

  it('a token the service does not know: the message names the service, which may be the wrong one', async () => {
    const { url } = await procs.startService();
    const client = new FaasClient({ serviceUrl: url, token: 'rst_not_a_token_of_this_service' });
    try {
      const err = await client.listEndpoints().catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('Unauthorized');
      expect((err as Error).message).toContain(`check that ${new URL(url).origin} is your service (--service)`);
    } finally {
      await client.close();
    }
  }, 120_000);
});
