/**
 * Layering: `executors/` builds on `src/`, and only the composition root (src/cli) picks an executor, so the
 * runner and the library work without any executor module. Checked on the import statements themselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RistrettoError } from '../../src/errors/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE } from './helpers.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Specifiers of static imports, re-exports and dynamic imports. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

describe('layering', () => {
  it('finds the imports it looks for (the scanner is not blind)', () => {
    expect(
      specifiers(
        "import { a } from '../../executors/index.ts';\nexport * from './x.ts';\nconst m = await import('../y.ts');",
      ),
    ).toEqual(['../../executors/index.ts', './x.ts', '../y.ts']);
    // src/cli does import executors: the scan sees it.
    const cli = sources(join(repoRoot, 'src', 'cli')).flatMap((f) => specifiers(readFileSync(f, 'utf8')));
    expect(cli.some((s) => s.includes('executors/'))).toBe(true);
  });

  it('only src/cli imports executors/', () => {
    const offenders: string[] = [];
    for (const file of sources(join(repoRoot, 'src'))) {
      const rel = relative(repoRoot, file);
      if (rel.startsWith(join('src', 'cli'))) continue;
      for (const s of specifiers(readFileSync(file, 'utf8')))
        if (/(^|\/)executors\//.test(s)) offenders.push(`${rel} imports ${s}`);
    }
    expect(offenders).toEqual([]);
  });

  it('the runner refuses an executor name it cannot build, before any work', async () => {
    const err = await runAnalysis({
      fileset: [{ name: 'd', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: {} }],
      processor: fixture('met-muons.ts'),
      executor: 'threads' as unknown as 'iterative',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RistrettoError);
    expect((err as Error).message).toMatch(/not the name "threads"/);
  });
});
