/**
 * Checks an output path before any work starts: a run that computes for minutes and then fails on
 * `ENOTDIR` (an `--out` that names a file) loses all of it. One check serves every command that writes
 * (run-analysis, fit scan, draw, convert).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RistrettoError } from '../errors/index.ts';

/** An output path that cannot be written: a file where a folder is needed, or the reverse, or no permission. */
export class OutputPathError extends RistrettoError {}

/** The path itself if it exists, else its nearest existing ancestor, with what it is. */
function nearestExisting(path: string): { at: string; isDirectory: boolean } {
  for (let at = resolve(path); ; at = dirname(at)) {
    try {
      return { at, isDirectory: statSync(at).isDirectory() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a parent of `at` is a file; keep walking up to find and name it.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) throw e;
    }
  }
}

function assertWritable(dir: string, option: string, path: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new OutputPathError(
      `${option} ${path}: cannot write in ${dir}`,
      { path, folder: dir },
      `choose an ${option} you can write to`,
    );
  }
}

/**
 * A folder that is there or can be made (with its parents): nothing on the way is a file, and the first
 * existing folder on the way is writable. `option` names the flag in the message, e.g. `--out`.
 *
 * @example
 * ```ts
 * import { assertOutputFolder } from './output-path.ts';
 * assertOutputFolder('results/run1', '--out'); // throws OutputPathError if results is a file
 * ```
 */
export function assertOutputFolder(path: string, option: string): void {
  const { at, isDirectory } = nearestExisting(path);
  if (!isDirectory) {
    const what = at === resolve(path) ? 'is a file, not a folder' : `lies under ${at}, which is a file`;
    throw new OutputPathError(`${option} ${path} ${what}`, { path, file: at }, `choose another ${option} folder`);
  }
  assertWritable(at, option, path);
}

/**
 * A file that can be written: not a folder, and in a folder that exists (or, with `makeFolder`, can be
 * made) and is writable.
 *
 * @example
 * ```ts
 * import { assertOutputFile } from './output-path.ts';
 * assertOutputFile('plots/met.png', '--out', { makeFolder: true });
 * ```
 */
export function assertOutputFile(path: string, option: string, opts: { makeFolder?: boolean } = {}): void {
  const abs = resolve(path);
  const { at, isDirectory } = nearestExisting(abs);
  if (at === abs) {
    if (isDirectory)
      throw new OutputPathError(
        `${option} ${path} is a folder, not a file`,
        { path },
        `name a file, e.g. ${option} ${path.replace(/\/+$/, '')}/out.<ext>`,
      );
    assertWritable(dirname(abs), option, path);
    return;
  }
  if (!isDirectory)
    throw new OutputPathError(
      `${option} ${path} lies under ${at}, which is a file`,
      { path, file: at },
      `choose another ${option}`,
    );
  if (at !== dirname(abs) && !opts.makeFolder)
    throw new OutputPathError(
      `${option} ${path}: folder ${dirname(abs)} does not exist`,
      { path, folder: dirname(abs) },
      'create the folder first, or choose another path',
    );
  assertWritable(at, option, path);
}
