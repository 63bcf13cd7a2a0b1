/**
 * Globs for dataset file lists (Node 20 has no fs.glob): tinyglobby does the walking and matching;
 * results are sorted so that work items come out in the same order on every run. `segmentRegExp`
 * (one path segment, for branch-name wildcards in `convert --branches`) and `hasGlob` stay here.
 * tinyglobby (with picomatch and fdir: ~14 ms of CPU to load) is imported on the first glob, so a
 * dataset that lists its files never loads it.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';

const MAGIC = /[*?[{]/;

/** True when the string contains glob syntax (`*`, `?`, `[`, `{`). */
export function hasGlob(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Regex for one path segment (no `/`). */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Files matching `pattern` (absolute, or relative to `cwd`), sorted, through tinyglobby (picomatch
 * syntax; hidden entries match like any other). Symlinked files and directories are followed, and a
 * file reached by two paths (a link to a file the pattern also matches, a linked directory, a cycle) is
 * returned once — under its path without links when there is one, else its shortest — because a dataset
 * must not read the same events twice.
 *
 * @example
 * ```ts
 * const files = await glob('data/**' + '/*.root'); // absolute paths, sorted
 * ```
 */
export async function glob(pattern: string, cwd = process.cwd()): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  // The literal prefix becomes tinyglobby's cwd, so characters in it are never read as glob syntax.
  const parts = abs.split(/[\\/]+/);
  let i = 0;
  while (i < parts.length - 1 && !hasGlob(parts[i])) i++;
  const root = parts.slice(0, i).join(sep) || sep;
  const rest = parts.slice(i).join('/');
  const { glob: tinyglobby } = await import('tinyglobby');
  const matches = await tinyglobby(rest, {
    cwd: root,
    absolute: true,
    dot: true,
    onlyFiles: true,
    expandDirectories: false,
  });
  // One path per real file: the one without links in it when there is one, else the shortest.
  const realRoot = await realpath(root).catch(() => root);
  const best = new Map<string, { path: string; rank: [number, number] }>();
  for (const m of matches) {
    const f = normalize(m);
    const real = await realpath(f).catch(() => f);
    const rank: [number, number] = [real === join(realRoot, relative(root, f)) ? 0 : 1, f.split(sep).length];
    const b = best.get(real);
    if (
      !b ||
      rank[0] < b.rank[0] ||
      (rank[0] === b.rank[0] && (rank[1] < b.rank[1] || (rank[1] === b.rank[1] && f < b.path)))
    )
      best.set(real, { path: f, rank });
  }
  return [...best.values()].map((b) => b.path).sort();
}
