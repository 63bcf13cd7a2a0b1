/**
 * Ristretto's own builds (the CLI, the worker runtime) carry the small pure-ESM packages every run loads
 * (hyparquet's decoder parts, p-queue, fzstd, xxhash-wasm, commander) instead of importing them from
 * node_modules, which cost each thread a package resolution and a file read per module; packages loaded on
 * demand stay external, and processor bundles keep every npm package external. Real esbuild builds (that the
 * built CLI and runtime run is what every run-analysis test shows).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFresh } from '../../src/processor/build-cache.mjs';
import { repoRoot } from '../shared.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-inline-'));
  await writeFile(join(dir, 'package.json'), '{"type": "module"}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The bare package names a built module imports: esbuild writes static imports at the start of a line and
 * dynamic ones as `import("x")`, both with double quotes (the packages' own doc comments, bundled along,
 * show examples with single quotes).
 */
function bareImports(code: string): Set<string> {
  const out = new Set<string>();
  const specs = [
    ...code.matchAll(/^import\s[^;\n]*?from\s*"([^"]+)";?$/gm),
    ...code.matchAll(/\bimport\("([^"]+)"\)/g),
  ];
  for (const [, spec] of specs) {
    if (/^(\.|\/|node:|file:|#)/.test(spec)) continue;
    out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
  return out;
}

describe('packages bundled into Ristretto’s own builds', () => {
  it('the run-analysis build imports none of hyparquet, p-queue, fzstd, xxhash-wasm, commander', async () => {
    const b = await buildFresh(join(repoRoot, 'src', 'cli', 'run-analysis.ts'), 'command');
    const all = Object.values(b.files ?? { 'main.mjs': b.code }).join('\n');
    const names = bareImports(all);
    for (const p of ['hyparquet', 'p-queue', 'fzstd', 'xxhash-wasm', 'commander']) expect(names.has(p), p).toBe(false);
    // A package loaded on demand keeps its own files: tinyglobby, on the first glob.
    expect(names.has('tinyglobby')).toBe(true);
    // The inlined packages' files are inputs of the build: editing (or upgrading) them rebuilds it.
    expect(Object.keys(b.inputs).some((f) => f.includes(join('node_modules', 'hyparquet')))).toBe(true);
  });

  it('the worker runtime build carries them too', async () => {
    const b = await buildFresh(join(repoRoot, 'executors', 'threads', 'worker-main.ts'), 'runtime');
    const names = bareImports(b.code);
    for (const p of ['hyparquet', 'p-queue', 'fzstd', 'xxhash-wasm']) expect(names.has(p), p).toBe(false);
  });

  it('a processor bundle still imports npm packages from node_modules', async () => {
    const file = join(dir, 'queue.ts');
    await writeFile(
      file,
      [
        "import PQueue from 'p-queue';",
        "import { defineProcessor } from 'ristretto';",
        'export default defineProcessor({',
        '  accumulator: () => ({ n: 0 }),',
        '  process: () => ({ n: new PQueue({ concurrency: 1 }).concurrency }),',
        '});',
      ].join('\n'),
    );
    const b = await buildFresh(file, 'processor');
    expect(bareImports(b.code).has('p-queue')).toBe(true);
  });
});
