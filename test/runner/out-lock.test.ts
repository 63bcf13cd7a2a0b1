/**
 * Real run-analysis processes sharing one --out: the second is refused while the first runs, a lock left
 * by a process that is gone is taken over, and a double Ctrl-C says how many finished chunks are lost.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, tempDir, writeJson } from './helpers.ts';

const BIN = join(repoRoot, 'bin', 'run-analysis.mjs');
const env = { ...process.env, RISTRETTO_DEBUG: '' };

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** A dataset whose run waits inside the chunk starting at entry 2000 until `<markers>/go` exists. */
async function heldDataset(name: string): Promise<{ ds: string; markers: string }> {
  const markers = join(dir, `${name}-markers`);
  await mkdir(markers, { recursive: true });
  const ds = await writeJson(join(dir, `${name}.json`), {
    single: { files: [ROOT_FILE()], metadata: { waitAt: 2000, markerDir: markers } },
  });
  return { ds, markers };
}

/** Start run-analysis in the background; `stderr()` is what it wrote so far, `ended` its exit. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, ended };
}

async function until(what: () => boolean): Promise<void> {
  while (!what()) await new Promise((r) => setTimeout(r, 20));
}

describe('one run per --out', () => {
  it('a second run into a folder in use is refused in one line, and the first finishes alone', async () => {
    const { ds, markers } = await heldDataset('busy');
    const out = join(dir, 'busy-out');
    const args = [ds, fixture('waits-at.ts'), '--chunksize', '1000', '-q', '-o', out];
    const first = start(args);
    await until(() => existsSync(join(markers, 'waiting')));
    const lock = JSON.parse(await readFile(join(out, '.ristretto-lock.json'), 'utf8'));
    expect(lock).toMatchObject({ pid: first.child.pid, host: hostname(), command: 'run-analysis' });

    const second = await runNode([BIN, ...args], { cwd: repoRoot, env });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `run-analysis: ${out} is in use by run-analysis pid ${first.child.pid} on ${hostname()} (started ${lock.started}) — choose another --out, or wait for it\n`,
    );

    await writeFile(join(markers, 'go'), '');
    const done = await first.ended;
    expect(done.code, first.stderr()).toBe(0);
    expect(existsSync(join(out, '.ristretto-lock.json'))).toBe(false); // released at the end
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ chunks: 10, events: 10_000 });
  });

  it('a lock whose process is gone is taken over with a note', async () => {
    const ds = await writeJson(join(dir, 'plain.json'), { single: [ROOT_FILE()] });
    const out = join(dir, 'stale-out');
    await mkdir(out);
    // A pid above the kernel's largest (pid_max is at most 2^22): no process has it.
    const stale = { pid: 2 ** 22 + 7, host: hostname(), started: '2026-01-02T03:04:05.000Z', command: 'run-analysis' };
    await writeFile(join(out, '.ristretto-lock.json'), JSON.stringify(stale));
    const r = await runNode([BIN, ds, fixture('hists.ts'), '--chunksize', '5000', '-q', '-o', out], {
      cwd: repoRoot,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `${out} was left locked by run-analysis pid ${stale.pid} (started ${stale.started}), which is no longer running; taking it over\n`,
    );
    expect(existsSync(join(out, '.ristretto-lock.json'))).toBe(false);
    expect(JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'))).toMatchObject({ events: 10_000 });
  });

  it('a lock held from another host is not taken over', async () => {
    const ds = await writeJson(join(dir, 'plain2.json'), { single: [ROOT_FILE()] });
    const out = join(dir, 'remote-out');
    await mkdir(out);
    const other = {
      pid: 4242,
      host: `not-${hostname()}`,
      started: '2026-01-02T03:04:05.000Z',
      command: 'run-analysis',
    };
    await writeFile(join(out, '.ristretto-lock.json'), JSON.stringify(other));
    const r = await runNode([BIN, ds, fixture('hists.ts'), '-q', '-o', out], { cwd: repoRoot, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `run-analysis: ${out} is in use by run-analysis pid 4242 on ${other.host} (started ${other.started}) — choose another --out, or wait for it\n`,
    );
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
  });
});

describe('Ctrl-C twice', () => {
  it('quits at once and says how many finished chunks run again; --resume agrees', async () => {
    const { ds, markers } = await heldDataset('twice');
    const out = join(dir, 'twice-out');
    // No checkpoint before the Ctrl-C: chunks 0 and 1 are finished, chunk 2 is held.
    const args = [ds, fixture('waits-at.ts'), '--chunksize', '1000', '--checkpoint-every', '100', '-q', '-o', out];
    const run = start(args);
    await until(() => existsSync(join(markers, 'waiting')));
    run.child.kill('SIGINT');
    await until(() => run.stderr().includes('SIGINT: stopping'));
    run.child.kill('SIGINT');
    const ended = await run.ended;
    expect(ended.code, run.stderr()).toBe(130);
    // Whether the checkpoint the first Ctrl-C asked for was written before the second is a race; the line
    // must tell which, and --resume must agree with it.
    const quit = run.stderr().match(/^quit without saving: (.*)$/m)?.[1];
    expect(quit, run.stderr()).toMatch(
      /^(no chunk finished since the last checkpoint|2 finished chunks since the last checkpoint will run again)$/,
    );
    expect(existsSync(join(out, '.ristretto-lock.json'))).toBe(false);

    await writeFile(join(markers, 'go'), '');
    const resumed = await runNode([BIN, ...args, '--resume'], { cwd: repoRoot, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      quit?.startsWith('no chunk') ? 'resuming: 2 of 10 chunks already done' : `no checkpoint in ${out}`,
    );
  });
});
