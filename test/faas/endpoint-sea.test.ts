/**
 * The zero-install endpoint: `npm run build:endpoint` (scripts/build-endpoint.mjs) makes one
 * executable with Node inside; copied into an empty folder and started with a PATH that has no node,
 * it attaches to a real service and its workers (the same executable) run tasks.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { repoRoot } from '../shared.ts';
import { Procs } from './helpers.ts';

const procs = new Procs();
let url = '';
let token = '';

beforeAll(async () => {
  token = await procs.addUser('zero');
  url = (await procs.startService()).url;
}, 240_000);

afterAll(() => procs.cleanup());

describe('single-executable endpoint', () => {
  it('runs agent and workers from one file with no node on PATH', async () => {
    const build = join(procs.dir, 'build');
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-endpoint.mjs'), build], {
      stdio: 'ignore',
      timeout: 600_000,
    });
    const clean = join(procs.dir, 'clean');
    mkdirSync(clean);
    const exe = join(clean, 'ristretto-endpoint');
    copyFileSync(join(build, 'ristretto-endpoint'), exe);
    const ep = spawn(
      exe,
      ['start', '--service', url, '--name', 'zero', '--workers', '2', '--cache-dir', join(clean, 'cache')],
      {
        cwd: clean,
        // Nothing but the token and a PATH without node.
        env: { PATH: join(clean, 'no-such-bin'), RISTRETTO_TOKEN: token, HOME: clean },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    ep.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        ep.stdout.on('data', (d: Buffer) => /attached id=/.test(d.toString()) && resolve());
        ep.once('exit', (c) => reject(new Error(`endpoint exited with ${c}: ${stderr}`)));
      });
      const fx = new FaasClient({ serviceUrl: url, token });
      try {
        const fn = await fx.registerFunction((x: number, ctx: { worker: number }) => ({
          y: x * 7,
          exe: process.execPath,
          worker: ctx.worker,
        }));
        const ids = await fx.batchRun([1, 2, 3, 4, 5, 6].map((x) => ({ functionId: fn, endpoint: 'zero', args: x })));
        const got = new Map<string, { y: number; exe: string; worker: number }>();
        for await (const o of fx.results(ids)) {
          expect(o.error).toBeUndefined();
          got.set(o.taskId, o.result as { y: number; exe: string; worker: number });
        }
        expect(ids.map((id) => got.get(id)!.y)).toEqual([7, 14, 21, 28, 35, 42]);
        // The workers are the executable itself.
        for (const r of got.values()) expect(r.exe).toBe(exe);
      } finally {
        await fx.close();
      }
    } finally {
      await procs.kill(ep, 'SIGTERM');
    }
    // Node's notice that the embedded module loader is experimental may appear; failures may not.
    expect(stderr).not.toMatch(/TypeError|ReferenceError|ERR_[A-Z_]+|Cannot find|uncaught/i);
  }, 900_000);
});
