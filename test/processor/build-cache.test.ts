/**
 * The on-disk build cache (src/processor/build-cache.mjs): a second build of unchanged files is a cache hit
 * with the same bytes; editing any file the build read (an imported helper, not only the entry) rebuilds;
 * a damaged cached file is rebuilt; `runtime` builds keep each file's own `import.meta.url`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedBuild, lookupBuild } from '../../src/processor/build-cache.mjs';
import { bundleProcessor, loadBundle } from '../../src/processor/bundle.ts';
import { repoRoot } from '../shared.ts';

let dir: string;
let cache: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-build-cache-'));
  cache = join(dir, 'cache');
  await writeFile(join(dir, 'package.json'), '{"type": "module"}');
  await writeFile(join(dir, 'helper.ts'), 'export const SCALE: number = 2;\n');
  await writeFile(
    join(dir, 'processor.ts'),
    [
      "import { defineProcessor } from 'ristretto';",
      "import { SCALE } from './helper.ts';",
      'export default defineProcessor({',
      '  accumulator: () => ({ scale: 0 }),',
      '  process: () => ({ scale: SCALE }),',
      '});',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('build cache', () => {
  it('reuses an unchanged build and rebuilds when an imported helper file changes', async () => {
    const entry = join(dir, 'processor.ts');
    const first = await cachedBuild(entry, 'processor', cache);
    expect(first.cached).toBe(false);
    expect(Object.keys(first.inputs)).toContain(join(dir, 'helper.ts'));
    const again = await cachedBuild(entry, 'processor', cache);
    expect(again.cached).toBe(true);
    expect(again.hash).toBe(first.hash);
    expect(again.code).toBe(first.code);

    await writeFile(join(dir, 'helper.ts'), 'export const SCALE: number = 3;\n');
    expect(lookupBuild(entry, 'processor', cache)).toBeUndefined();
    const edited = await cachedBuild(entry, 'processor', cache);
    expect(edited.cached).toBe(false);
    expect(edited.hash).not.toBe(first.hash);
    expect(edited.code).toMatch(/SCALE = 3/);
    expect((await cachedBuild(entry, 'processor', cache)).cached).toBe(true);
  });

  it('the processor a run loads follows an edit of its helper file', async () => {
    const entry = join(dir, 'processor.ts');
    await writeFile(join(dir, 'helper.ts'), 'export const SCALE: number = 5;\n');
    const before = await bundleProcessor(entry);
    expect((await loadBundle(before)).process({} as never, {} as never)).toEqual({ scale: 5 });
    await writeFile(join(dir, 'helper.ts'), 'export const SCALE: number = 7;\n');
    const after = await bundleProcessor(entry);
    expect(after.hash).not.toBe(before.hash);
    expect((await loadBundle(after)).process({} as never, {} as never)).toEqual({ scale: 7 });
  });

  it('rebuilds a cached file that was truncated, and rewrites it', async () => {
    const entry = join(dir, 'processor.ts');
    const good = await cachedBuild(entry, 'processor', cache);
    await writeFile(good.file, good.code.slice(0, 100));
    const redone = await cachedBuild(entry, 'processor', cache);
    expect(redone.cached).toBe(false);
    expect(redone.hash).toBe(good.hash);
    expect(await readFile(good.file, 'utf8')).toBe(good.code);
  });

  it('a runtime build keeps each file its own import.meta.url, and strings that mention it unchanged', async () => {
    const src = join(dir, 'where.ts');
    await writeFile(src, "export const here: string = import.meta.url;\nexport const text = 'uses import.meta.url';\n");
    const built = await cachedBuild(src, 'runtime', cache);
    const mod = (await import(pathToFileURL(built.file).href)) as { here: string; text: string };
    expect(mod.here).toBe(pathToFileURL(src).href);
    expect(mod.text).toBe('uses import.meta.url');
  });
});

describe('run-analysis launcher', () => {
  it('runs from the cached build, and through tsx with RISTRETTO_TSX=1, with the same output', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const tsx of ['0', '1']) {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'run-analysis.mjs'), '--version'], {
        encoding: 'utf8',
        env: { ...process.env, RISTRETTO_TSX: tsx, NODE_OPTIONS: '' },
        timeout: 120_000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(version);
      expect(r.status).toBe(0);
    }
  });
});
