/**
 * `run-analysis --watch` as a real process: files copied into the watched folder during the run are
 * processed and merged, a replaced file replaces its contribution, Ctrl-C leaves a state that a rerun
 * continues from. Each step waits for the run's own report line, never for a clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fromUHIDocument } from '../../src/hist/index.ts';
import { serveDirectory } from '../helpers/http-server.ts';
import { PARQUET_FILE, readDirect } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

const dirs: string[] = [];
const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ristretto-watch-'));
  dirs.push(d);
  return d;
}

function start(args: string[]): { proc: ChildProcess; waitFor(re: RegExp): Promise<string>; log(): string } {
  const proc = spawn(process.execPath, [join(repoRoot, 'bin', 'run-analysis.mjs'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let log = '';
  const waiters: Array<{ re: RegExp; from: number; resolve: (s: string) => void; reject: (e: Error) => void }> = [];
  let consumed = 0;
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(log.slice(w.from));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        consumed = w.from + m.index + m[0].length;
        w.resolve(m[0]);
      }
    }
  };
  proc.stderr.on('data', (d: Buffer) => {
    log += d.toString();
    check();
  });
  proc.once('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`run-analysis exited with ${code} before ${w.re}:\n${log}`));
  });
  return {
    proc,
    log: () => log,
    // matches only output after the previous match, so each step sees its own report
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, from: consumed, resolve, reject });
        check();
      }),
  };
}

const stop = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    p.once('exit', (c) => resolve(c));
    p.kill('SIGINT');
  });

/** Copy into the watched folder under a name the glob ignores, then rename: the file appears whole. */
async function drop(src: string, dest: string): Promise<void> {
  await copyFile(src, `${dest}.part`);
  await rename(`${dest}.part`, dest);
}

async function metTotal(out: string): Promise<number> {
  const h = fromUHIDocument(JSON.parse(await readFile(join(out, 'met.json'), 'utf8')))['met'];
  return h.values({ flow: true }).reduce((a, b) => a + b, 0);
}

it('processes files as they appear, replaces changed ones, and continues after Ctrl-C', async () => {
  const dir = await tempDir();
  const n = (await readDirect(PARQUET_FILE())).met.length; // events per file, read straight from it
  const input = join(dir, 'in');
  await mkdir(input);
  await drop(PARQUET_FILE(), join(input, 'a.parquet'));
  const ds = join(dir, 'ds.json');
  await writeFile(ds, JSON.stringify({ SingleMu: ['in/*.parquet'] }));
  const out = join(dir, 'out');
  const args = [
    ds,
    join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts'),
    '--watch',
    '--watch-interval',
    '0.2',
    '-o',
    out,
  ];

  const run = start(args);
  await run.waitFor(new RegExp(`1 files, ${n} events`));
  expect(await metTotal(out)).toBe(n);

  await drop(PARQUET_FILE(), join(input, 'b.parquet'));
  await run.waitFor(new RegExp(`1 new or changed file\\(s\\); 2 files, ${2 * n} events`));
  expect(await metTotal(out)).toBe(2 * n);

  // the same file written again (new mtime): its contribution is replaced, not added
  await drop(PARQUET_FILE(), join(input, 'a.parquet'));
  await run.waitFor(new RegExp(`1 new or changed file\\(s\\); 2 files, ${2 * n} events`));
  expect(await metTotal(out)).toBe(2 * n);
  expect(await stop(run.proc)).toBe(0);
  expect(run.log()).toContain('rerun with --watch to continue');

  // a rerun continues from the saved state: nothing is processed again, new files are added
  const again = start(args);
  await again.waitFor(/resuming: 2 files already processed/);
  await again.waitFor(new RegExp(`0 new or changed file\\(s\\); 2 files, ${2 * n} events`));
  await drop(PARQUET_FILE(), join(input, 'c.parquet'));
  await again.waitFor(new RegExp(`1 new or changed file\\(s\\); 3 files, ${3 * n} events`));
  expect(await metTotal(out)).toBe(3 * n);
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  expect(metrics.events).toBe(3 * n);
  expect(await stop(again.proc)).toBe(0);
}, 300_000);

it('a deleted file leaves the total, with a note; a remote file is read once', async () => {
  const dir = await tempDir();
  const n = (await readDirect(PARQUET_FILE())).met.length;
  const input = join(dir, 'in');
  const remote = join(dir, 'remote');
  await mkdir(input);
  await mkdir(remote);
  await copyFile(PARQUET_FILE(), join(remote, 'r.parquet'));
  const http = await serveDirectory(remote);
  try {
    await drop(PARQUET_FILE(), join(input, 'a.parquet'));
    await drop(PARQUET_FILE(), join(input, 'b.parquet'));
    const ds = join(dir, 'ds.json');
    await writeFile(ds, JSON.stringify({ SingleMu: ['in/*.parquet'], Remote: [`${http.url}/r.parquet`] }));
    const out = join(dir, 'out');
    const run = start([
      ds,
      join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts'),
      '--watch',
      '--watch-interval',
      '0.2',
      '-o',
      out,
    ]);
    await run.waitFor(new RegExp(`3 new or changed file\\(s\\); 3 files, ${3 * n} events`));
    expect(await metTotal(out)).toBe(3 * n);
    const requestsAfterFirstRead = http.requests;
    expect(requestsAfterFirstRead).toBeGreaterThan(0);

    await unlink(join(input, 'b.parquet'));
    await run.waitFor(
      new RegExp(`SingleMu: \\S*b\\.parquet \\(${n} events\\) is gone: its contribution is removed from the total`),
    );
    await run.waitFor(new RegExp(`0 new or changed file\\(s\\), 1 removed; 2 files, ${2 * n} events`));
    expect(await metTotal(out)).toBe(2 * n);

    // the last local file goes too: the glob matches nothing, and the total is the remote file's alone
    await unlink(join(input, 'a.parquet'));
    await run.waitFor(new RegExp(`0 new or changed file\\(s\\), 1 removed; 1 files, ${n} events`));
    expect(await metTotal(out)).toBe(n);
    // the remote file was never fetched again while the watch went on
    expect(http.requests).toBe(requestsAfterFirstRead);
    expect(await stop(run.proc)).toBe(0);

    // and a rerun starts from the state without the deleted files
    await drop(PARQUET_FILE(), join(input, 'c.parquet'));
    const again = start([
      ds,
      join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts'),
      '--watch',
      '--watch-interval',
      '0.2',
      '-o',
      out,
    ]);
    await again.waitFor(/resuming: 1 files already processed/);
    await again.waitFor(new RegExp(`1 new or changed file\\(s\\); 2 files, ${2 * n} events`));
    expect(await metTotal(out)).toBe(2 * n);
    expect(http.requests).toBe(requestsAfterFirstRead);
    expect(await stop(again.proc)).toBe(0);
  } finally {
    await http.close();
  }
}, 300_000);
