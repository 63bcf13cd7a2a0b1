/**
 * The repository's biome.jsonc refuses non-null assertions (`x!`) in src/ and executors/ (issue 14) and leaves
 * tests, benches and scripts alone. Checked by running biome with that very config over a small tree.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintRunner } from '../helpers/lint.ts';

const BIOME = resolve('node_modules/.bin/biome');
const lint = lintRunner([BIOME, ['lint', '--max-diagnostics=100', '.']], (cwd) => {
  copyFileSync(resolve('biome.jsonc'), join(cwd, 'biome.jsonc'));
  // The config reads .gitignore through git: give the tree a repository of its own.
  spawnSync('git', ['init', '-q', cwd]);
});

describe('non-null assertion lint', () => {
  it('refuses `!` in src/ and executors/, naming file and position', () => {
    const r = lint({
      'src/io/a.ts': 'export const first = (m: Map<string, number>) => m.get("k")!;\n',
      'executors/b.ts': 'export const port = (p: { port?: number }) => p.port!;\n',
      'src/c.ts': 'export const ok = (m: Map<string, number>) => m.get("k") ?? 0;\n',
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/src\/io\/a\.ts:1:\d+ lint\/style\/noNonNullAssertion/);
    expect(r.out).toMatch(/executors\/b\.ts:1:\d+ lint\/style\/noNonNullAssertion/);
    expect(r.out).not.toContain('src/c.ts');
  }, 60_000);

  it('leaves tests, benches and scripts alone', () => {
    const r = lint({
      'test/a.test.ts': 'export const first = (a: number[]) => a.at(0)!;\n',
      'bench/b.ts': 'export const first = (a: number[]) => a.at(0)!;\n',
    });
    expect(r.out).not.toContain('noNonNullAssertion');
    expect(r.code).toBe(0);
  }, 60_000);
});
