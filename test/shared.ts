/** Locates `../shared` beside the repository; tests that need it fail loudly when it is missing. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = resolve(repoRoot, '..', 'shared');

/** Absolute path of a file under ../shared; throws a clear error if ../shared or the file is absent. */
export function sharedPath(...parts: string[]): string {
  const p = resolve(sharedDir, ...parts);
  if (!existsSync(p)) {
    throw new Error(
      `test input missing: ${p}. These tests read real data from ../shared beside the repository ` +
        `(see README "Tests"); check it out there or run only tests that do not need it.`,
    );
  }
  return p;
}
