/**
 * The lint that keeps package.json in step with the code (scripts/lint/dependencies.mjs): shipped files
 * import only `dependencies`, a dependency only tests use is a devDependency, nothing listed is unused.
 * Run on small trees of its own, and on this repository (`npm run lint` runs it too).
 */
import { describe, expect, it } from 'vitest';
import { lintScript } from '../helpers/lint.ts';
import { repoRoot } from '../shared.ts';

const lint = lintScript('dependencies.mjs');

const pkg = (o: object) => JSON.stringify({ name: 'ristretto', files: ['src', 'bin'], ...o });

describe('dependencies lint', () => {
  it('names a devDependency or unlisted package the shipped code imports, and misplaced or unused entries', () => {
    const r = lint({
      'package.json': pkg({
        dependencies: { used: '1', 'tests-only': '1', unused: '1' },
        devDependencies: { 'dev-at-runtime': '1', 'dev-unused': '1', vitest: '1', '@types/used': '1' },
        scripts: { test: 'vitest run' },
      }),
      'src/a.ts':
        "import { x } from 'used/sub/path.js';\nimport fs from 'node:fs';\nimport { y } from './b.ts';\n\nimport z from 'dev-at-runtime';\n",
      'bin/c.mjs': "const m = await import('@scope/missing/x');\nimport 'ristretto/io';\n",
      'test/t.test.ts': "import { t } from 'tests-only';\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'src/a.ts:5: imports dev-at-runtime, which is only a devDependency: add it to dependencies',
    );
    expect(r.out).toContain('bin/c.mjs:1: imports @scope/missing, which is not in package.json');
    expect(r.out).toContain('tests-only is used only by tests, benches or scripts: move it to devDependencies');
    expect(r.out).toContain('nothing uses the dependency unused: remove it');
    expect(r.out).toContain('nothing uses the devDependency dev-unused: remove it');
    expect(r.out).toContain('5 problem(s)');
    for (const fine of ["'used'", 'vitest', '@types/used', 'node:fs', 'ristretto/io'])
      expect(r.out).not.toContain(fine);
  }, 60_000);

  it('passes a tree whose lists match its imports (a name passed to a loader counts)', () => {
    const r = lint({
      'package.json': pkg({
        dependencies: { native: '1' },
        devDependencies: { typedoc: '1' },
        scripts: { docs: 'typedoc' },
      }),
      'src/n.ts': "const load = (name: string) => import(name);\nexport const m = load('native');\n",
    });
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('this repository lists what it uses', () => {
    const r = lint({}, repoRoot);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);
});
