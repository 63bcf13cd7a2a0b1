/**
 * The on-disk build cache (src/processor/build-cache.mjs): a second build of unchanged files is a cache hit
 * with the same bytes; editing any file the build read (an imported helper, not only the entry) rebuilds;
 * a damaged cached file is rebuilt; `runtime` builds keep each file's own `import.meta.url`; `command`
 * builds (the CLIs) are split so that their start loads no FaaS client, service or esbuild; pruning
 * removes unreferenced, unused entries and is safe beside concurrent builds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedBuild, lookupBuild, pruneCache } from '../../src/processor/build-cache.mjs';
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

  it('trusts a recorded stat only while size, mtime, ctime and inode are the same', async () => {
    const entry = join(dir, 'stat-entry.ts');
    const helper = join(dir, 'stat-helper.ts');
    await writeFile(helper, 'export const K: number = 1;\n');
    await writeFile(entry, "import { K } from './stat-helper.ts';\nexport const k = K;\n");
    const built = await cachedBuild(entry, 'runtime', cache);
    expect(built.cached).toBe(false);
    const manifest = () => {
      const builds = join(cache, 'builds');
      for (const n of readdirSync(builds).filter((f) => f.endsWith('.json'))) {
        const m = JSON.parse(readFileSync(join(builds, n), 'utf8')) as {
          entry: string;
          stats?: Record<string, string>;
        };
        if (m.entry === entry) return m;
      }
      throw new Error('no manifest');
    };
    // files written moments ago are hashed, not trusted by stat (a same-tick rewrite keeps the mtime)
    expect(lookupBuild(entry, 'runtime', cache)).toBeDefined();
    expect(manifest().stats?.[helper]).toBeUndefined();
    await new Promise((r) => setTimeout(r, 2100)); // older than the racy window now
    expect(lookupBuild(entry, 'runtime', cache)).toBeDefined();
    expect(manifest().stats?.[helper]).toMatch(/^\d+:/);
    expect((await cachedBuild(entry, 'runtime', cache)).cached).toBe(true);
    // same size, and the old mtime put back: the ctime still tells, and the bytes decide
    const { mtime } = statSync(helper);
    await writeFile(helper, 'export const K: number = 2;\n');
    utimesSync(helper, mtime, mtime);
    expect(lookupBuild(entry, 'runtime', cache)).toBeUndefined();
    expect((await cachedBuild(entry, 'runtime', cache)).code).toMatch(/K = 2/);
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

describe('command launchers', () => {
  it.each(['run-analysis.mjs', 'ristretto.mjs'])(
    '%s runs from the cached build, and through tsx with RISTRETTO_TSX=1, with the same output',
    (bin) => {
      const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
      for (const tsx of ['0', '1']) {
        const r = spawnSync(process.execPath, [join(repoRoot, 'bin', bin), '--version'], {
          encoding: 'utf8',
          env: { ...process.env, RISTRETTO_TSX: tsx, NODE_OPTIONS: '' },
          timeout: 120_000,
        });
        expect(r.stderr).toBe('');
        expect(r.stdout.trim()).toBe(version);
        expect(r.status).toBe(0);
      }
    },
  );
});

/** Bare package names (and `node:` modules) a command build loads at start: its main.mjs and the chunks it imports statically. */
function startupPackages(file: string): Set<string> {
  const seen = new Set<string>();
  const pkgs = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const code = readFileSync(f, 'utf8');
    // Static imports only (dynamic ones are `import("...")` and load later).
    for (const m of code.matchAll(/^(?:import|export)\s[^;]*?from\s*"([^"]+)";?$/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('./')) visit(join(dirname(f), spec));
      else if (spec.startsWith('node:')) pkgs.add(spec);
      else if (!spec.startsWith('file:')) pkgs.add(spec.split('/')[0] as string);
    }
    for (const m of code.matchAll(/^import\s*"([^"]+)";?$/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('./')) visit(join(dirname(f), spec));
    }
  };
  visit(file);
  return pkgs;
}

describe('command builds', () => {
  it('run-analysis starts without the FaaS client, the service or esbuild (they load on demand)', async () => {
    const built = await cachedBuild(join(repoRoot, 'src', 'cli', 'run-analysis.ts'), 'command', cache);
    expect(built.file.endsWith(`${built.hash}${sep}main.mjs`)).toBe(true);
    const pkgs = startupPackages(built.file);
    expect(pkgs).toContain('node:fs'); // the walk does see the imports (npm packages it needs are bundled in)
    for (const p of ['ws', 'ajv', 'esbuild', 'better-sqlite3', '@resvg', 'apache-arrow']) expect(pkgs).not.toContain(p);
  });

  it('ristretto starts without ws, the SQLite service or esbuild', async () => {
    const built = await cachedBuild(join(repoRoot, 'src', 'cli', 'ristretto.ts'), 'command', cache);
    const pkgs = startupPackages(built.file);
    expect(pkgs).toContain('node:fs');
    for (const p of ['ws', 'esbuild', 'better-sqlite3', '@resvg']) expect(pkgs).not.toContain(p);
  });

  it('a damaged chunk of a split build is rebuilt, and the whole folder is written again', async () => {
    const entry = join(repoRoot, 'src', 'cli', 'run-analysis.ts');
    const good = await cachedBuild(entry, 'command', cache);
    const chunk = readdirSync(dirname(good.file)).find((n) => n.startsWith('chunk-'));
    expect(chunk).toBeDefined();
    const path = join(dirname(good.file), chunk as string);
    const text = readFileSync(path, 'utf8');
    await writeFile(path, text.slice(0, 50));
    expect(lookupBuild(entry, 'command', cache)).toBeUndefined();
    const redone = await cachedBuild(entry, 'command', cache);
    expect(redone.cached).toBe(false);
    expect(redone.hash).toBe(good.hash);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect((await cachedBuild(entry, 'command', cache)).cached).toBe(true);
  });
});

describe('pruning the cache', () => {
  const HOUR = 3600_000;
  const age = (path: string, ms: number) => {
    const t = new Date(Date.now() - ms);
    utimesSync(path, t, t);
  };

  it('removes a replaced build once it is older than the grace time, keeps the current one', async () => {
    const cacheDir = join(dir, 'prune-1');
    const entry = join(dir, 'prune-entry.ts');
    await writeFile(entry, 'export const V: number = 1;\n');
    const first = await cachedBuild(entry, 'processor', cacheDir);
    expect(existsSync(`${first.file}.map`)).toBe(true); // processor builds carry their map
    await writeFile(entry, 'export const V: number = 2;\n');
    const second = await cachedBuild(entry, 'processor', cacheDir);
    expect(second.hash).not.toBe(first.hash);

    // Both are fresh: nothing goes, even though the first is no longer referenced.
    expect(pruneCache(cacheDir)).toEqual([]);
    expect(existsSync(first.file)).toBe(true);

    // The old build unused for two hours goes (code and map); the current one stays even when as old.
    for (const f of [first.file, `${first.file}.map`, second.file]) age(f, 2 * HOUR);
    expect(pruneCache(cacheDir).sort()).toEqual([`${first.hash}.mjs`, `${first.hash}.mjs.map`]);
    expect(existsSync(first.file)).toBe(false);
    expect(existsSync(second.file)).toBe(true);
    expect(lookupBuild(entry, 'processor', cacheDir)?.hash).toBe(second.hash);
  });

  it('a cache hit marks the build as used, so it survives a prune after its manifest was replaced', async () => {
    const cacheDir = join(dir, 'prune-2');
    const entry = join(dir, 'prune-entry-2.ts');
    await writeFile(entry, 'export const V: number = 1;\n');
    const built = await cachedBuild(entry, 'processor', cacheDir);
    age(built.file, 2 * HOUR);
    expect(lookupBuild(entry, 'processor', cacheDir)?.hash).toBe(built.hash); // touches it
    await writeFile(entry, 'export const V: number = 2;\n');
    await cachedBuild(entry, 'processor', cacheDir); // the manifest now names another build
    pruneCache(cacheDir);
    expect(existsSync(built.file)).toBe(true);
  });

  it('drops the manifest and build of an entry file that is gone, and stale temporaries', async () => {
    const cacheDir = join(dir, 'prune-3');
    const entry = join(dir, 'prune-gone.ts');
    await writeFile(entry, 'export const V: number = 1;\n');
    const built = await cachedBuild(entry, 'processor', cacheDir);
    await rm(entry);
    const manifests = readdirSync(join(cacheDir, 'builds')).filter((n) => n.endsWith('.json'));
    expect(manifests).toHaveLength(1);
    const junk = join(cacheDir, `${'a'.repeat(64)}.mjs.123.abc.tmp`);
    await writeFile(junk, 'partial');
    const other = join(cacheDir, 'not-a-build.txt'); // not a name the cache writes: never touched
    await writeFile(other, 'x');
    for (const f of [built.file, `${built.file}.map`, junk, other, join(cacheDir, 'builds', manifests[0] as string)])
      age(f, 2 * HOUR);
    pruneCache(cacheDir);
    expect(readdirSync(join(cacheDir, 'builds')).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(existsSync(built.file)).toBe(false);
    expect(existsSync(junk)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it('an unreferenced split command build stays a day after its last use (its chunks load lazily)', async () => {
    const cacheDir = join(dir, 'prune-5');
    const folder = join(cacheDir, 'c'.repeat(64));
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'main.mjs'), 'export {};\n');
    age(folder, 2 * HOUR);
    pruneCache(cacheDir);
    expect(existsSync(folder)).toBe(true);
    age(folder, 25 * HOUR);
    expect(pruneCache(cacheDir)).toEqual(['c'.repeat(64)]);
    expect(existsSync(folder)).toBe(false);
  });

  it('concurrent processes building and pruning one cache all get intact builds', async () => {
    const cacheDir = join(dir, 'prune-4');
    const shared = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const f = join(dir, `shared-${i}.ts`);
        await writeFile(f, `export const V: number = ${i};\n`);
        return f;
      }),
    );
    const own = [0, 1, 2, 3].map((i) => join(dir, `own-${i}.ts`));
    // A stale build nobody refers to, which the prunes must remove.
    await mkdir(cacheDir, { recursive: true });
    const stale = join(cacheDir, `${'b'.repeat(64)}.mjs`);
    await writeFile(stale, 'export {};\n');
    age(stale, 2 * HOUR);
    const runOne = (args: string[]) =>
      new Promise<{ code: number | null; err: string; own: string[] }>((res) => {
        const p = spawn(
          process.execPath,
          [join(repoRoot, 'test', 'fixtures', 'build-cache-churn.mjs'), cacheDir, ...args],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => res({ code, err, own: [...out.matchAll(/^OWN ([0-9a-f]{64})$/gm)].map((m) => m[1]) }));
      });
    // Four processes build the shared entries at the same time, each also churning its own.
    const results = await Promise.all(own.map((o) => runOne([o, ...shared])));
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0 });
    for (const e of [...shared, ...own]) expect(lookupBuild(e, 'processor', cacheDir)).toBeDefined();
    expect(existsSync(stale)).toBe(false);
    // The prunes really removed builds mid-churn: each process's two replaced builds (code and map) are
    // gone, while every build still in use was imported intact above and its latest one is still there.
    for (const r of results) {
      expect(r.own).toHaveLength(3);
      for (const h of r.own.slice(0, 2)) {
        expect(existsSync(join(cacheDir, `${h}.mjs`)), `${h}.mjs`).toBe(false);
        expect(existsSync(join(cacheDir, `${h}.mjs.map`)), `${h}.mjs.map`).toBe(false);
      }
      expect(existsSync(join(cacheDir, `${r.own[2]}.mjs`))).toBe(true);
    }
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 300_000);
});
