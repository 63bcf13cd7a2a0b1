/**
 * `ristretto faas endpoint start --provider slurm` refuses to start, with a message naming the
 * endpoint, the command and what to do, when Slurm's commands are missing or the options are wrong.
 * Runs without Slurm: the commands are hidden by an empty PATH.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaasConfigError } from '../../src/faas/errors.ts';
import { WorkerListener } from '../../src/faas/endpoint/worker-link.ts';
import { Procs } from './helpers.ts';

const procs = new Procs();
afterAll(() => procs.cleanup());

/** Run `faas endpoint start ...` and return its exit code and stderr. */
async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const p = procs.spawnCli(['endpoint', 'start', '--service', 'http://127.0.0.1:9', ...args], {
    RISTRETTO_TOKEN: 'rst_x',
    ...env,
  });
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  return { code, stderr };
}

describe('Slurm provider: start-up errors', () => {
  it('a taken --listen-port is a FaasConfigError saying what to do', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      const opening = WorkerListener.open({
        host: '127.0.0.1',
        port,
        secret: 's',
        onWorker: () => undefined,
        log: () => undefined,
      });
      await expect(opening).rejects.toBeInstanceOf(FaasConfigError);
      await expect(opening).rejects.toThrow(/the port is in use — choose another --listen-port/);
    } finally {
      taken.close();
    }
  });

  it('sbatch missing: exits 1 naming the endpoint, the command and the fix', async () => {
    const empty = join(procs.dir, 'empty-bin');
    mkdirSync(empty);
    const r = await start(['--name', 'hpc', '--provider', 'slurm'], { PATH: empty });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: endpoint hpc: sbatch not found (command: sbatch --version)');
    expect(r.stderr).toContain('Slurm submit host');
  }, 240_000);

  it('Slurm options without --provider slurm, a bad walltime, min above max: refused', async () => {
    const [a, b, c] = await Promise.all([
      start(['--name', 'hpc', '--partition', 'debug']),
      start(['--name', 'hpc', '--provider', 'slurm', '--walltime', '1 hour']),
      start(['--name', 'hpc', '--provider', 'local', '--min-blocks', '3', '--max-blocks', '2']),
    ]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('error: --partition needs --provider slurm');
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('endpoint hpc: invalid --walltime "1 hour" — use HH:MM:SS or D-HH:MM:SS');
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('error: --min-blocks (3) exceeds --max-blocks (2)');
  }, 240_000);

  it('a --listen-port in use: exits 1 saying so, no crash', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = await start([
        '--name',
        'hpc',
        '--provider',
        'local',
        '--listen-port',
        String(port),
        '--block-dir',
        join(procs.dir, 'blocks'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `cannot listen for block workers on 127.0.0.1:${port}: the port is in use — choose another --listen-port`,
      );
      expect(r.stderr).not.toMatch(/unhandled|UnhandledPromiseRejection|at .*\.ts:\d+/i);
    } finally {
      taken.close();
    }
  }, 240_000);
});
