/**
 * The zero-install endpoint: `npm run build:endpoint` (scripts/build-endpoint.mjs) makes one
 * executable with Node inside; copied into an empty folder and started with a PATH that has no node,
 * it attaches to a real service and its workers (the same executable) run tasks — forked workers, and
 * with `--provider slurm` block workers that the real Slurm scheduler starts (skipped without Slurm,
 * failing under CI=true). Ristretto's own chunk function runs there too: `run-analysis --executor faas`
 * of an ADL query on Parquet and ROOT files gives the iterative executor's histograms, with no
 * Ristretto installation (no RISTRETTO_HOME) beside the executable.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { encode } from '../../src/accumulate/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { runCommand } from '../helpers/cli.ts';
import { Procs } from './helpers.ts';

const procs = new Procs();
let url = '';
let token = '';

let build = '';

function slurmDown(): string | undefined {
  try {
    const s = execFileSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', timeout: 20_000 });
    return /idle|mix|alloc|comp/.test(s) ? undefined : `sinfo shows no usable node (${s.trim() || 'no output'})`;
  } catch (e) {
    return `Slurm is not running here (sinfo: ${(e as Error).message.split('\n')[0]})`;
  }
}
const noSlurm = slurmDown();
const inCI = process.env.CI === 'true' || process.env.CI === '1';

beforeAll(async () => {
  token = await procs.addUser('zero');
  url = (await procs.startService()).url;
  build = join(procs.dir, 'build');
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-endpoint.mjs'), build], {
    stdio: 'ignore',
    timeout: 600_000,
  });
}, 900_000);

afterAll(() => procs.cleanup());

describe('single-executable endpoint', () => {
  it('runs agent and workers from one file with no node on PATH', async () => {
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

  it('runs the Ristretto chunk function (ADL query on Parquet and ROOT) without a Ristretto installation', async () => {
    const clean = join(procs.dir, 'clean-analysis');
    mkdirSync(clean);
    const exe = join(clean, 'ristretto-endpoint');
    copyFileSync(join(build, 'ristretto-endpoint'), exe);
    const cache = join(clean, 'cache');
    const ep = spawn(exe, ['start', '--service', url, '--name', 'zero-ana', '--workers', '2', '--cache-dir', cache], {
      cwd: clean,
      // No node on PATH, no RISTRETTO_HOME, and nothing of Ristretto above the folder (a temp dir).
      env: { PATH: join(clean, 'no-such-bin'), RISTRETTO_TOKEN: token, HOME: clean },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    ep.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const processor = join(repoRoot, 'processors', 'adl', 'query-5.ts');
    const cases: [string, Dataset[], number, number][] = [
      [
        'Parquet',
        [
          {
            name: 'SingleMu',
            files: [{ path: sharedPath('data', 'Run2012B_SingleMu-1000.parquet') }],
            metadata: { isData: true },
          },
        ],
        400,
        1_000,
      ],
      [
        'ROOT',
        [
          {
            name: 'SingleMu',
            files: [{ path: sharedPath('data', 'Run2012B_SingleMu_10000.root'), tree: 'Events' }],
            metadata: { isData: true },
          },
        ],
        2_500,
        10_000,
      ],
      [
        // 40 chunks: the runner's first merge groups (5, 4, … items) go out as one task each, which
        // the executable's built-in run-task sums (see the batches check below).
        'ROOT in batches',
        [
          {
            name: 'SingleMu',
            files: [{ path: sharedPath('data', 'Run2012B_SingleMu_10000.root'), tree: 'Events' }],
            metadata: { isData: true },
          },
        ],
        250,
        10_000,
      ],
    ];
    try {
      await new Promise<void>((resolve, reject) => {
        ep.stdout.on('data', (d: Buffer) => /attached id=/.test(d.toString()) && resolve());
        ep.once('exit', (c) => reject(new Error(`endpoint exited with ${c}: ${stderr}`)));
      });
      const client = new FaasClient({ serviceUrl: url, token });
      const ex = await FaasExecutor.connect({ service: url, endpoints: ['zero-ana'], client, pollSeconds: 0.25 });
      try {
        for (const [what, fileset, chunksize, events] of cases) {
          const ref = await runAnalysis({ fileset, processor, executor: 'iterative', chunksize, cacheFile: false });
          const got = await runAnalysis({ fileset, processor, executor: ex, chunksize, cacheFile: false });
          expect(got.metrics.events, what).toBe(events);
          expect(got.metrics.chunks, what).toBe(Math.ceil(events / chunksize));
          // Same histograms, bin for bin and byte for byte, as the in-process run.
          expect(
            Buffer.from(encode(got.accumulator)).equals(Buffer.from(encode(ref.accumulator))),
            `${what}: ${stderr}`,
          ).toBe(true);
          // ... and not an empty one: events pass the selection.
          const h = (got.accumulator as Record<string, { values(): Float64Array }>)['query-5'];
          expect(
            h.values().reduce((x, y) => x + y, 0),
            what,
          ).toBeGreaterThan(0);
        }
        expect(ex.faas.batches).toBeGreaterThan(0);
        // A processor importing an npm package the executable does not carry: one error naming the
        // endpoint and the package, not a hang or a crashed worker.
        const err = await runAnalysis({
          fileset: cases[0][1],
          processor: join(repoRoot, 'test', 'faas', 'fixtures', 'uses-mathjs.ts'),
          executor: ex,
          chunksize: 400,
          cacheFile: false,
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/zero-ana/);
        expect((err as Error).message).toMatch(/package 'mathjs'/);
      } finally {
        await ex.close();
        await client.close();
      }
      // The processor bundle was kept beside the function cache, not in an installation.
      expect(readdirSync(join(cache, 'bundles')).some((f) => /^[0-9a-f]{64}\.mjs$/.test(f))).toBe(true);
    } finally {
      await procs.kill(ep, 'SIGTERM');
    }
    expect(stderr).not.toMatch(/TypeError|ReferenceError|ERR_[A-Z_]+|Cannot find|uncaught|RISTRETTO_HOME/i);
  }, 900_000);

  it.skipIf(noSlurm !== undefined && !inCI)(
    `takes the provider options: Slurm blocks run the same executable${noSlurm ? ` (skipped: ${noSlurm})` : ''}`,
    async () => {
      expect(noSlurm, 'CI needs a running Slurm: scripts/ci/setup-slurm.sh').toBeUndefined();
      const clean = join(procs.dir, 'clean-slurm');
      const bin = join(clean, 'bin');
      mkdirSync(bin, { recursive: true });
      const exe = join(clean, 'ristretto-endpoint');
      copyFileSync(join(build, 'ristretto-endpoint'), exe);
      // A PATH with the Slurm client commands and nothing else: no node anywhere.
      for (const c of ['sbatch', 'squeue', 'scancel', 'sinfo']) {
        const found = execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
        symlinkSync(found, join(bin, c));
      }
      expect(existsSync(join(bin, 'node'))).toBe(false);
      const jobs = () =>
        execFileSync('squeue', ['-h', '--name', 'ristretto-zero-slurm', '-o', '%i'], { encoding: 'utf8' }).trim();
      // An unknown provider and a Slurm-only option without --provider slurm: refused before attaching.
      for (const [args, msg] of [
        [['--provider', 'pbs'], /--provider must be one of local, slurm, got "pbs"/],
        [['--partition', 'debug'], /--partition needs --provider slurm/],
        [['--provider', 'slurm', '--max-blocks', 'x'], /--max-blocks must be an integer >= 1, got "x"/],
      ] as const) {
        const bad = await runCommand(exe, ['start', '--service', url, '--name', 'zero-bad', ...args], {
          cwd: clean,
          env: { PATH: bin, RISTRETTO_TOKEN: token, HOME: clean },
        });
        expect(bad.code).not.toBe(0);
        expect(bad.stderr).toMatch(msg);
      }
      const ep = spawn(
        exe,
        [
          'start',
          '--service',
          url,
          '--name',
          'zero-slurm',
          '--cache-dir',
          join(clean, 'cache'),
          '--provider',
          'slurm',
          '--partition',
          'debug',
          '--min-blocks',
          '0',
          '--max-blocks',
          '1',
          '--workers-per-block',
          '2',
          '--idle-timeout',
          '600',
          '--block-dir',
          join(clean, 'blocks'),
          '--tag',
          'site=zero',
        ],
        { cwd: clean, env: { PATH: bin, RISTRETTO_TOKEN: token, HOME: clean }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      ep.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        await new Promise<void>((resolve, reject) => {
          ep.stdout.on('data', (d: Buffer) => /attached id=/.test(d.toString()) && resolve());
          ep.once('exit', (c) => reject(new Error(`endpoint exited with ${c}: ${stderr}`)));
        });
        // min-blocks 0: no job until work arrives.
        expect(jobs()).toBe('');
        const fx = new FaasClient({ serviceUrl: url, token });
        try {
          expect((await fx.getEndpoint('zero-slurm')).tags).toEqual(['site=zero']);
          const fn = await fx.registerFunction((x: number) => ({
            y: x * 3,
            exe: process.execPath,
            block: process.env.RISTRETTO_BLOCK_ID ?? null,
            path: process.env.PATH,
          }));
          const ids = await fx.batchRun([1, 2, 3, 4].map((x) => ({ functionId: fn, endpoint: 'zero-slurm', args: x })));
          const got = new Map<string, { y: number; exe: string; block: string | null; path: string }>();
          for await (const o of fx.results(ids)) {
            expect(o.error, stderr).toBeUndefined();
            got.set(o.taskId, o.result as { y: number; exe: string; block: string | null; path: string });
          }
          expect(ids.map((id) => got.get(id)!.y)).toEqual([3, 6, 9, 12]);
          for (const r of got.values()) {
            expect(r.exe).toBe(exe); // the block's workers are this executable
            expect(r.block).toMatch(/\S/); // ... started by a block, not forked by the agent
            expect(r.path).toBe(bin);
          }
          expect(jobs()).toMatch(/^\d+$/);
        } finally {
          await fx.close();
        }
      } finally {
        await procs.kill(ep, 'SIGTERM');
      }
      // Stopping the endpoint cancels its block.
      for (let i = 0; i < 100 && jobs() !== ''; i++) await new Promise((r) => setTimeout(r, 200));
      expect(jobs()).toBe('');
      expect(stderr).not.toMatch(/TypeError|ReferenceError|ERR_[A-Z_]+|Cannot find|uncaught/i);
    },
    900_000,
  );
});
