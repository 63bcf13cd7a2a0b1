/** The real run-analysis command in child processes: outputs, error messages, kill + --resume. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ran, runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, tempDir, writeJson } from './helpers.ts';

const BIN = join(repoRoot, 'bin', 'run-analysis.mjs');

/** Run the CLI; `killWhen` is polled and the child SIGKILLed once it returns true. */
function cli(args: string[], killWhen?: () => boolean): Promise<Ran> {
  return runNode([BIN, ...args], {
    cwd: repoRoot,
    env: { ...process.env, RISTRETTO_DEBUG: '' },
    ...(killWhen ? { killWhen } : {}),
  });
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  await walk(root);
  return out.sort();
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('run-analysis CLI', () => {
  it('after SIGKILL past the first checkpoint, --resume gives exactly the uninterrupted result', async () => {
    const ds = await writeJson(join(dir, 'slow.json'), {
      single: { files: [ROOT_FILE()], metadata: { sleepMs: 250 } },
    });
    const common = [ds, fixture('slow.ts'), '--chunksize', '1000', '--checkpoint-every', '2', '-q'];

    const full = await cli([...common, '-o', join(dir, 'full')]);
    expect(full.stderr).toBe('');
    expect(full.code).toBe(0);

    const out = join(dir, 'killed');
    const ckpt = join(out, '.ristretto-checkpoint.bin');
    const killed = await cli([...common, '-o', out], () => existsSync(ckpt));
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);

    const resumed = await cli([...common, '-o', out, '--resume', '-e', 'threads', '-w', '2']);
    expect(resumed.stderr).toMatch(/resuming: \d+ of 10 chunks already done/);
    expect(resumed.code).toBe(0);
    expect(existsSync(ckpt)).toBe(false); // removed once the run completes

    const files = await listFiles(join(dir, 'full'));
    expect(files).toEqual([
      'accumulator.json',
      'datasets.meta.json',
      'met.json',
      'metrics.json',
      'muon/pt.json',
      'muon/ptWeighted.json',
    ]);
    expect(await listFiles(out)).toEqual(files);
    for (const f of files.filter((x) => x !== 'metrics.json')) {
      expect(await readFile(join(out, f), 'utf8'), f).toBe(await readFile(join(dir, 'full', f), 'utf8'));
    }
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m.resumedChunks).toBeGreaterThanOrEqual(2);
    expect(m.resumedChunks).toBeLessThan(10);
    expect(m).toMatchObject({
      chunks: 10,
      chunksTotal: 10,
      events: 10_000,
      executor: 'threads',
      columns: ['MET_pt', 'Muon_pt'],
    });
    expect(m.chunkSeconds).toHaveLength(10);
    const mFull = JSON.parse(await readFile(join(dir, 'full', 'metrics.json'), 'utf8'));
    expect(m.bytesRead).toBeGreaterThan(0);
    expect(mFull).toMatchObject({ chunks: 10, events: 10_000, resumedChunks: 0 });
    for (const k of ['wallSeconds', 'processSeconds', 'eventsPerSecond', 'bytesRead'])
      expect(typeof mFull[k]).toBe('number');
  });

  it('a failing postprocess keeps the merged chunks; --resume after the fix runs no chunk again', async () => {
    const proc = join(dir, 'post-fails.ts');
    // Doubles the total in place and then (while POST_FAIL is set) throws: the kept state must be the merge's.
    await writeFile(
      proc,
      [
        'export default {',
        '  accumulator: () => ({ n: 0, chunks: 0 }),',
        '  process: (events: { numEvents: number }) => ({ n: events.numEvents, chunks: 1 }),',
        '  postprocess(acc: { n: number }) {',
        '    acc.n *= 2;',
        "    if (process.env.POST_FAIL) throw new TypeError('no axis named pt');",
        '    return acc;',
        '  },',
        '};',
        '',
      ].join('\n'),
    );
    const ds = await writeJson(join(dir, 'post.json'), { zmm: [ROOT_FILE()] });
    const out = join(dir, 'post-out');
    const args = [ds, proc, '-o', out, '--chunksize', '2500', '--format', 'json'];
    const failed = await runNode([BIN, ...args], { cwd: repoRoot, env: { ...process.env, POST_FAIL: '1' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /postprocess\(\) of .*post-fails\.ts failed after all 4 chunks were merged: TypeError: no axis named pt — fix postprocess, then rerun the same command with --resume/,
    );
    expect(failed.stderr).toMatch(/at .*post-fails\.ts:6:\d+ \(in your code\)/);
    const resumed = await cli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m).toMatchObject({ chunks: 4, resumedChunks: 4 }); // all 4 from the checkpoint
    // 10,000 events doubled once, by the postprocess that succeeded.
    expect(JSON.parse(await readFile(join(out, 'accumulator.json'), 'utf8'))).toEqual({ n: 20_000, chunks: 4 });
  });

  it('--skipbadfiles that leaves out every file fails and keeps the earlier outputs', async () => {
    const bytes = await readFile(ROOT_FILE());
    const truncated = join(dir, 'all-bad-truncated.root');
    await writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
    // Same size as the original, baskets zeroed: opens fine, fails on reading (skipped mid-run).
    const zeroed = Buffer.from(bytes);
    zeroed.fill(0, 1000, zeroed.length - 200_000);
    const corrupt = join(dir, 'all-bad-corrupt.root');
    await writeFile(corrupt, zeroed);
    const ds = await writeJson(join(dir, 'all-bad.json'), { zmm: [truncated, corrupt] });
    const out = join(dir, 'all-bad-out');
    await mkdir(out);
    await writeFile(join(out, 'metrics.json'), '{"earlier": true}\n');
    const r = await cli([ds, fixture('met-muons.ts'), '-o', out, '--skipbadfiles']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--skipbadfiles left out every file \(2\); nothing was written to /);
    expect(r.stderr).toContain(truncated);
    expect(await readFile(join(out, 'metrics.json'), 'utf8')).toBe('{"earlier": true}\n');
    expect(await listFiles(out)).toEqual(['metrics.json']);
  });

  it('a malformed dataset JSON fails with a short message naming the key, a stack trace only with --debug', async () => {
    const ds = await writeJson(join(dir, 'bad.json'), { zmm: { files: { 'a.root': 42 } } });
    const r = await cli([ds, fixture('met-muons.ts'), '-o', join(dir, 'bad-out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^run-analysis: .*"zmm\.files\["a\.root"\]" must map to a tree name/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // a known error says what to do; the stack-trace hint is for unexpected ones only
    expect(r.stderr).not.toMatch(/--debug/);
    const d = await cli([ds, fixture('met-muons.ts'), '-o', join(dir, 'bad-out'), '--debug']);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/DatasetError.*\n\s+at /);
  });

  it('rejects bad option values naming the option', async () => {
    const r = await cli(['x.json', 'p.ts', '--workers', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--workers must be an integer ≥ 1, got "0"/);
    const f = await cli([
      join(dir, 'slow.json'),
      fixture('met-muons.ts'),
      '--format',
      'json,eps',
      '-o',
      join(dir, 'fmt'),
    ]);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/unknown output format "eps".*json, root-json, root, svg, png/);
  });
});
