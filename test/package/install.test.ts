/**
 * Ristretto as a physicist gets it: the repository is packed with `npm pack`, the tarball installed with
 * plain `npm install` into a new project outside the repository, and that project is driven only
 * through the installed commands — `ristretto init`, `npm run analysis`, `npm test`, and a hand-written
 * processor importing from 'ristretto' on the iterative, threads and faas executors (a real FaaS
 * service and endpoint started from the project), printing once per chunk.
 *
 * Slow by nature (npm compiles better-sqlite3 for the new project); everything else reuses that install.
 */
import { type ChildProcess, type ChildProcessByStdio, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../shared.ts';

const INSTALL_TIMEOUT = 15 * 60_000;
let work: string;
let project: string;
/**
 * Long-running commands this file starts (`npx ristretto faas serve`, `… view --serve`, the endpoint and
 * its workers): npx runs the command as a grandchild, so killing the npx process alone left them running
 * after the tests. Each is started as the leader of its own process group, and the group is killed.
 */
const groups: ChildProcess[] = [];

/** `spawn` in a new process group, remembered for {@link killGroup} in afterAll (also after a failure). */
function startGroup(cmd: string, args: string[], opts: SpawnOptions): ChildProcessByStdio<null, Readable, Readable> {
  const c = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.push(c);
  return c;
}

/** Send `signal` to every process of `c`'s group; true while the group still has a process. */
function killGroup(c: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (c.pid === undefined) return false;
  try {
    process.kill(-c.pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Run a command in `cwd`; returns its output, throwing with both streams when it fails. */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeout = 5 * 60_000,
): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 << 20,
  });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
}

function ok(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout?: number): string {
  const r = run(cmd, args, cwd, env, timeout);
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  return r.stdout;
}

/** A processor as a user writes it: imports from 'ristretto', prints once per call of process(). */
const PRINTING_PROCESSOR = `
import { defineProcessor, Hist, Regular, StrCategory } from 'ristretto';

export default defineProcessor({
  accumulator: () => ({
    met: new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(40, 0, 200, { name: 'met' })),
    events: 0,
  }),
  process(events, ctx) {
    console.log(\`PROCESS \${ctx.dataset} \${ctx.entryStart}-\${ctx.entryStop}\`);
    const out = this.accumulator();
    // Columns touched progressively and conditionally, as users do.
    out.met.fill(ctx.dataset, events.MET.pt);
    if (ctx.entryStart % 2 === 0) out.events += events.Muon.pt.offsets.length - 1;
    else out.events += events.Jet.pt.offsets.length - 1;
    return out;
  },
});
`;

const CHUNK = 10_000;

/** PROCESS lines per (dataset, range), from one process's output. */
function prints(output: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of output.split('\n')) {
    const hit = /PROCESS (\S+ \d+-\d+)/.exec(line);
    if (hit) m.set(hit[1], (m.get(hit[1]) ?? 0) + 1);
  }
  return m;
}

function expectOncePerChunk(output: string, metricsFile: string): void {
  const metrics = JSON.parse(readFileSync(metricsFile, 'utf8')) as {
    chunks?: { done?: number };
    events?: number;
    chunksDone?: number;
  };
  const p = prints(output);
  const expected = Math.ceil(40_000 / CHUNK) + 2 * Math.ceil(50_000 / CHUNK);
  expect(p.size).toBe(expected);
  for (const [range, n] of p) expect(n, `process() calls for ${range}`).toBe(1);
  expect(metrics.events).toBe(140_000);
}

describe('the packed package in a new project', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ristretto-pkg-'));
    ok('npm', ['pack', '--pack-destination', work, '--silent'], repoRoot);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    project = join(work, 'my-analysis');
    mkdirSync(project);
    ok('npm', ['init', '-y'], project);
    ok('npm', ['install', '--no-audit', '--no-fund', join(work, tarball!)], project, {}, INSTALL_TIMEOUT);
  }, INSTALL_TIMEOUT + 60_000);

  afterAll(async () => {
    for (const c of groups) killGroup(c, 'SIGKILL');
    // Every process of those groups must be gone (npx's grandchildren included), or the next run finds them.
    const deadline = Date.now() + 30_000;
    while (groups.some((c) => killGroup(c, 0)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const left = groups.filter((c) => killGroup(c, 0)).map((c) => c.spawnargs.join(' '));
    if (work) rmSync(work, { recursive: true, force: true });
    expect(left, 'processes still running after SIGKILL of their group').toEqual([]);
  });

  it(
    'init makes a project whose analysis and tests run',
    () => {
      expect(ok('npx', ['ristretto', '--version'], project).trim()).toBe(
        JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version,
      );
      ok('npx', ['ristretto', 'init', '.'], project);
      const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
      expect(pkg.type).toBe('module');
      for (const f of [
        'processor.ts',
        'datasets.json',
        'tsconfig.json',
        'README.md',
        'test/processor.test.ts',
        'data/data.parquet',
      ])
        expect(existsSync(join(project, f)), f).toBe(true);

      const analysis = ok('npm', ['run', 'analysis'], project);
      expect(analysis).toMatch(/weighted cutflow/);
      expect(existsSync(join(project, 'out', 'mass.json'))).toBe(true);
      expect(existsSync(join(project, 'out', 'mass.png'))).toBe(true);
      // Bundles live in the project, never inside the installed package.
      expect(existsSync(join(project, 'node_modules', '.cache', 'ristretto', 'bundles'))).toBe(true);
      expect(existsSync(join(project, 'node_modules', 'ristretto', 'node_modules', '.cache'))).toBe(false);

      ok('npm', ['test'], project);
    },
    10 * 60_000,
  );

  it(
    'opens real ROOT files of every codec from the project (vendored jsroot, no zstd-js)',
    () => {
      // ZSTD-compressed metadata goes through the vendored jsroot's decompressor: the case that broke
      // when the bundle expected a package the user's project does not have.
      const shared = join(repoRoot, '..', 'shared', 'data');
      for (const codec of ['zstd', 'lzma', 'lz4', 'zlib']) {
        const file = join(shared, `uproot-HZZ-${codec}.root`);
        if (!existsSync(file)) throw new Error(`test input missing: ${file} (../shared beside the repository)`);
        const listing = ok('npx', ['ristretto', 'ls', file], project);
        expect(listing, codec).toContain('Muon_Px');
      }
      expect(existsSync(join(project, 'node_modules', '@oneidentity'))).toBe(false);
    },
    5 * 60_000,
  );

  it(
    'a hand-written processor runs once per chunk on iterative and threads',
    () => {
      if (!existsSync(join(project, 'data', 'data.parquet'))) ok('npx', ['ristretto', 'init', '.'], project);
      writeFileSync(join(project, 'printing.ts'), PRINTING_PROCESSOR);
      for (const executor of ['iterative', 'threads']) {
        const out = join(project, `out-${executor}`);
        const stdout = ok(
          'npx',
          [
            'run-analysis',
            'datasets.json',
            'printing.ts',
            '--executor',
            executor,
            '--workers',
            '2',
            '--chunksize',
            String(CHUNK),
            '--out',
            out,
          ],
          project,
        );
        expectOncePerChunk(stdout, join(out, 'metrics.json'));
      }
    },
    10 * 60_000,
  );

  it(
    'a hand-written processor runs once per chunk on FaaS endpoints started from the project',
    async () => {
      if (!existsSync(join(project, 'data', 'data.parquet'))) ok('npx', ['ristretto', 'init', '.'], project);
      writeFileSync(join(project, 'printing.ts'), PRINTING_PROCESSOR);
      const db = join(work, 'faas.db');
      const token = ok('npx', ['ristretto', 'faas', 'user', 'add', 'physicist', '--db', db], project)
        .trim()
        .split('\n')
        .pop()!
        .trim();
      expect(token).toMatch(/^rst_/);

      const service = startGroup('npx', ['ristretto', 'faas', 'serve', '--port', '0', '--db', db], {
        cwd: project,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const url = await waitFor(service, /listening on (http:\/\/\S+)/);

      const endpoint = startGroup(
        'npx',
        ['ristretto', 'faas', 'endpoint', 'start', '--service', url, '--name', 'laptop', '--workers', '2'],
        {
          cwd: project,
          env: { ...process.env, NODE_OPTIONS: '', RISTRETTO_TOKEN: token },
        },
      );
      let endpointOut = '';
      endpoint.stdout.on('data', (d: Buffer) => (endpointOut += d.toString()));
      endpoint.stderr.on('data', (d: Buffer) => (endpointOut += d.toString()));
      await waitFor(endpoint, /attached|connected|registered/i);

      const out = join(project, 'out-faas');
      const r = await runAsync(
        'npx',
        [
          'run-analysis',
          'datasets.json',
          'printing.ts',
          '--executor',
          'faas',
          '--service',
          url,
          '--endpoints',
          'laptop',
          '--chunksize',
          String(CHUNK),
          '--out',
          out,
        ],
        project,
        {
          RISTRETTO_TOKEN: token,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      // The prints happen in the endpoint's workers; give their output a moment to arrive.
      await new Promise((res) => setTimeout(res, 1000));
      expectOncePerChunk(endpointOut, join(out, 'metrics.json'));
      // The same histograms as the threads executor.
      expect(readFileSync(join(out, 'met.json'), 'utf8')).toBe(
        readFileSync(join(project, 'out-threads', 'met.json'), 'utf8'),
      );
    },
    10 * 60_000,
  );

  it(
    'ristretto view serves the page with JSROOT and figures drawn with the packaged fonts',
    async () => {
      if (!existsSync(join(project, 'out', 'mass.json'))) {
        ok('npx', ['ristretto', 'init', '.'], project);
        ok('npm', ['run', 'analysis'], project);
      }
      const view = startGroup('npx', ['ristretto', 'view', 'out', '--serve', '127.0.0.1:0'], {
        cwd: project,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const url = await waitFor(view, /ristretto view: (http:\/\/\S+)/);
      try {
        expect(await (await fetch(url)).text()).toContain('/app.js');
        const jsroot = await fetch(new URL('/jsroot/main.mjs', url));
        expect(jsroot.status).toBe(200); // from the installed package's vendor/, no CDN
        const state = (await (await fetch(new URL('/api/state', url))).json()) as { hists: Array<{ key: string }> };
        expect(state.hists.map((h) => h.key)).toContain('mass');
        const png = new Uint8Array(
          await (await fetch(new URL('/api/download?key=mass&format=png', url))).arrayBuffer(),
        );
        expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
        for (const f of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'])
          expect(existsSync(join(project, 'node_modules', 'ristretto', 'vendor', 'fonts', f)), f).toBe(true);
      } finally {
        killGroup(view, 'SIGINT'); // npx and the view server alike
      }
    },
    5 * 60_000,
  );

  it(
    'a CommonJS project gets one message saying what to change',
    () => {
      const cjs = join(work, 'cjs-project');
      mkdirSync(cjs, { recursive: true });
      writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs-project', version: '1.0.0' }));
      writeFileSync(join(cjs, 'printing.ts'), PRINTING_PROCESSOR);
      writeFileSync(join(cjs, 'datasets.json'), JSON.stringify({ Data: [join(project, 'data', 'data.parquet')] }));
      const bin = join(project, 'node_modules', '.bin', 'run-analysis');
      const r = run(bin, ['datasets.json', 'printing.ts', '--executor', 'iterative'], cjs);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('"type": "module"');
      expect(r.stderr).toContain(join(cjs, 'package.json'));
      expect(r.stderr).not.toMatch(/in a cycle/);
    },
    5 * 60_000,
  );
});

/** Resolve with the first capture of `re` in the child's output (stdout or stderr). */
function waitFor(child: ChildProcess, re: RegExp, ms = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far:\n${seen}`)), ms);
    const on = (d: Buffer) => {
      seen += d.toString();
      const m = re.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`exited ${code} before ${re}; output:\n${seen}`)));
  });
}

function runAsync(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = startGroup(cmd, args, { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}
