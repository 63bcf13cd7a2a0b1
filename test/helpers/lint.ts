/**
 * Runs a lint of scripts/lint/ (or any command) on a small tree of its own: the lint tests check what a
 * lint reports on files made for the purpose, and that it passes this repository.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export interface LintRun {
  readonly code: number | null;
  /** stdout then stderr. */
  readonly out: string;
}

/**
 * A runner for one test file: `lint(files)` writes `files` (path → text) into a fresh temp folder (made ready
 * by `prepare`) and runs `command` there; `lint(files, dir)` writes into (and runs in) `dir` instead. Folders go when the file's tests end.
 *
 * @example
 * ```ts
 * const lint = lintScript('layering.mjs'); // or lintRunner([command, args], prepare)
 * expect(lint({ 'src/io/a.ts': "import '../runner/run.ts';\n" }).code).toBe(1);
 * ```
 */
export function lintRunner(
  command: readonly [string, readonly string[]],
  prepare: (cwd: string) => void = () => {},
): (files: Record<string, string>, dir?: string) => LintRun {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return (files, dir) => {
    let cwd = dir;
    if (!cwd) {
      cwd = mkdtempSync(join(tmpdir(), 'lint-'));
      dirs.push(cwd);
      prepare(cwd);
    }
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(cwd, name, '..'), { recursive: true });
      writeFileSync(join(cwd, name), text);
    }
    const r = spawnSync(command[0], command[1], { cwd, encoding: 'utf8' });
    return { code: r.status, out: r.stdout + r.stderr };
  };
}

/** `lintRunner` for one of the repository's own lint scripts, `scripts/lint/<name>`. */
export function lintScript(name: string): (files: Record<string, string>, dir?: string) => LintRun {
  return lintRunner([process.execPath, [resolve(import.meta.dirname, '..', '..', 'scripts', 'lint', name)]]);
}
