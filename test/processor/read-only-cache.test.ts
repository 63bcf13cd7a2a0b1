/**
 * A project whose node_modules the user cannot write (a shared, read-only installation): processor
 * bundles go to a private temp folder that links back to that node_modules, on every executor. Run as
 * a real unprivileged user (uid 65534, "nobody") so the cache folder really is unwritable; needs root to
 * switch users, so it is skipped elsewhere (CI runs as root).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDir } from '../../src/processor/bundle.ts';
import { readDirect, PARQUET_FILE } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

const NOBODY = 65534;
const suite = process.getuid?.() === 0 ? describe : describe.skip;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-ro-cache-'));
  await chmod(dir, 0o777);
  // A processor no run has bundled before (its text is new), so no cached bundle can serve it.
  const processor = `// ${process.pid} ${Date.now()} ${Math.random()}
import { defineProcessor } from ${JSON.stringify(join(repoRoot, 'src', 'processor', 'types.ts'))};
export default defineProcessor({
  accumulator: () => ({ nevents: 0, nmuons: 0 }),
  process(events) {
    return { nevents: events.numEvents, nmuons: events.Muon.pt.content.length };
  },
});
`;
  await writeFile(join(dir, 'proc.ts'), processor, { mode: 0o644 });
  // Also new: throws on its line 5 (the `throw`), which the error must name through the in-memory map.
  const throwing = `// ${process.pid} ${Date.now()} ${Math.random()}
import { defineProcessor } from ${JSON.stringify(join(repoRoot, 'src', 'processor', 'types.ts'))};
export default defineProcessor({
  accumulator: () => ({}),
  process() { throw new Error('broken on purpose'); },
});
`;
  await writeFile(join(dir, 'throws.ts'), throwing, { mode: 0o644 });
  await writeFile(join(dir, 'ds.json'), JSON.stringify({ mu: { files: { [PARQUET_FILE()]: 'Events' } } }), {
    mode: 0o644,
  });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `run-analysis` of `processor` (a file in `dir`) over ds.json as the unprivileged user. */
function runAsNobody(ex: string, out: string, processor: string) {
  return spawnSync(
    process.execPath,
    [
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      '-q',
      '-o',
      out,
      '--executor',
      ex,
      ...(ex === 'threads' ? ['--workers', '2'] : []),
      join(dir, 'ds.json'),
      join(dir, processor),
    ],
    {
      encoding: 'utf8',
      timeout: 300_000,
      uid: NOBODY,
      gid: NOBODY,
      cwd: dir,
      env: { ...process.env, HOME: dir, NODE_OPTIONS: '' },
    },
  );
}

suite('a read-only node_modules', () => {
  it.each(['iterative', 'threads'])(
    'run-analysis --executor %s runs a new processor as an unprivileged user',
    async (ex) => {
      const out = join(dir, `out-${ex}`);
      const r = runAsNobody(ex, out, 'proc.ts');
      // the premise: this user cannot write the bundle cache
      const probe = spawnSync('sh', ['-c', `mkdir -p "${bundleDir}" && touch "${bundleDir}/.w-${process.pid}"`], {
        uid: NOBODY,
        gid: NOBODY,
      });
      expect(probe.status).not.toBe(0);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const d = await readDirect(PARQUET_FILE());
      const got = JSON.parse(await readFile(join(out, 'accumulator.json'), 'utf8')) as {
        nevents: number;
        nmuons: number;
      };
      expect(got).toEqual({ nevents: d.met.length, nmuons: d.muonCounts.reduce((a, b) => a + b, 0) });
    },
    320_000,
  );

  it.each(['iterative', 'threads'])(
    'an error in process() still names the processor file and line (--executor %s)',
    (ex) => {
      const r = runAsNobody(ex, join(dir, `out-throws-${ex}`), 'throws.ts');
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('broken on purpose');
      expect(r.stderr).toMatch(/\n {2}at throws\.ts:5:\d+ \(in your code\)\n/);
    },
    320_000,
  );
});
