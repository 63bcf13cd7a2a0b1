/**
 * A small glob for dataset file lists (Node 20 has no fs.glob). Supports `*`, `?`, `[abc]`/`[!a-z]`,
 * `{a,b}` alternatives and `**` (zero or more directories). Hidden entries are matched like any other;
 * results are sorted so that work items come out in the same order on every run.
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[{]/;

/** True when the string contains glob syntax (`*`, `?`, `[`, `{`). */
export function hasGlob(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Expand `{a,b}` alternatives (nested allowed) into separate patterns. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0) return [pattern]; // unbalanced: treat literally
  const pre = pattern.slice(0, open);
  const post = pattern.slice(close + 1);
  const cuts = [open, ...commas, close];
  const out: string[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    for (const alt of expandBraces(pre + pattern.slice(cuts[k] + 1, cuts[k + 1]) + post)) out.push(alt);
  }
  return out;
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
 * Files matching `pattern` (absolute, or relative to `cwd`), sorted. Only regular files (and symlinks
 * to them) are returned; unreadable directories are skipped.
 */
export async function glob(pattern: string, cwd = process.cwd()): Promise<string[]> {
  const found = new Set<string>();
  for (const p of expandBraces(pattern)) {
    const abs = isAbsolute(p) ? p : resolve(cwd, p);
    const parts = abs.split(/[\\/]+/);
    // Start at the longest literal prefix; an alternative that is all literal (`{a,b}.root`) is checked
    // as a name in its directory.
    let i = 0;
    while (i < parts.length - 1 && !hasGlob(parts[i])) i++;
    const root = parts.slice(0, i).join(sep) || sep;
    await walk(root, parts.slice(i), found);
  }
  return [...found].sort();
}

async function walk(dir: string, rest: string[], found: Set<string>): Promise<void> {
  if (rest.length === 0) return;
  const [head, ...tail] = rest as [string, ...string[]];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (!entries) return;
  if (head === '**') {
    await walk(dir, tail, found); // zero directories; symlinked directories are not followed (cycles)
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), rest, found);
    return;
  }
  if (!hasGlob(head)) {
    const e = entries.find((x) => x.name === head);
    if (!e) return;
    if (tail.length === 0) {
      if (!e.isDirectory()) found.add(join(dir, head));
    } else await walk(join(dir, head), tail, found);
    return;
  }
  const re = segmentRegExp(head);
  for (const e of entries) {
    if (!re.test(e.name)) continue;
    if (tail.length === 0) {
      if (!e.isDirectory()) found.add(join(dir, e.name));
    } else if (e.isDirectory()) await walk(join(dir, e.name), tail, found);
  }
}
