/**
 * Endpoint capabilities: the tags an endpoint advertises (`cpu`, `gpu`, `site=T2_US`, `cost=3`), the
 * path prefixes its workers read locally, and how clients select endpoints by tag. Pure functions,
 * shared by the endpoint CLI (checks before connecting), the service (schemas) and the FaaS executor.
 *
 * @example
 * ```ts
 * import { checkTags, matchesTag, isLocalPath } from './capabilities.ts';
 * const tags = checkTags(['cpu', 'site=T2_US']);
 * console.log(matchesTag(tags, 'site=T2_US'), matchesTag(tags, 'site'), matchesTag(tags, 'gpu')); // true true false
 * console.log(isLocalPath('/data/store/a.root', ['/data/store/'])); // true
 * ```
 */
import { FaasError } from './errors.ts';
import { MAX_LOCAL_PATH_LENGTH, MAX_LOCAL_PATHS, MAX_TAG_LENGTH, MAX_TAGS, TAG_PATTERN } from './protocol-schemas.ts';

/** A tag, a local path or a selector that cannot be used; names it and says what is allowed. */
export class CapabilityError extends FaasError {}

const TAG_RE = new RegExp(TAG_PATTERN);

/** Prefix of an `--endpoints` entry that selects endpoints by tag instead of naming one. */
export const TAG_SELECTOR_PREFIX = 'tag:';

/** Validate `--tag` values (deduplicated, order kept); throws CapabilityError naming the bad one. */
export function checkTags(tags: readonly string[]): string[] {
  const out = [...new Set(tags)];
  if (out.length > MAX_TAGS)
    throw new CapabilityError(
      `${out.length} tags given, at most ${MAX_TAGS} are allowed`,
      { tags: out.length },
      'advertise fewer --tag values',
    );
  for (const t of out) {
    if (t.length > MAX_TAG_LENGTH || !TAG_RE.test(t)) {
      throw new CapabilityError(
        `tag "${t.slice(0, 120)}" is not a valid tag`,
        { tag: t.slice(0, 120) },
        `a tag is a word or key=value of letters, digits, "_", ".", ":", "/", "-" (at most ${MAX_TAG_LENGTH} characters), e.g. --tag gpu --tag site=T2_US`,
      );
    }
    // The `cheapest` endpoint policy compares cost tags as numbers: a typo must not rank an endpoint last.
    if (t.startsWith('cost=') && !/^cost=\d+(\.\d+)?$/.test(t)) {
      throw new CapabilityError(
        `tag "${t.slice(0, 120)}" needs a number ≥ 0 after cost=`,
        { tag: t.slice(0, 120) },
        'e.g. --tag cost=3 or --tag cost=0.5 (the cheapest endpoint policy prefers the lowest)',
      );
    }
  }
  return out;
}

/** Validate `--local-path` prefixes: absolute, at most MAX_LOCAL_PATHS of at most MAX_LOCAL_PATH_LENGTH. */
export function checkLocalPaths(paths: readonly string[]): string[] {
  const out = [...new Set(paths)];
  if (out.length > MAX_LOCAL_PATHS)
    throw new CapabilityError(
      `${out.length} local paths given, at most ${MAX_LOCAL_PATHS} are allowed`,
      { localPaths: out.length },
      'advertise a common parent folder instead',
    );
  for (const p of out) {
    if (!p.startsWith('/') || p.length > MAX_LOCAL_PATH_LENGTH) {
      throw new CapabilityError(
        `local path "${p.slice(0, 200)}" must be an absolute path prefix of at most ${MAX_LOCAL_PATH_LENGTH} characters`,
        { localPath: p.slice(0, 200) },
        'e.g. --local-path /data/store/',
      );
    }
  }
  return out;
}

/**
 * Whether an endpoint with `tags` matches the selector tag `want`: `key=value` matches that exact
 * tag; a bare `key` matches the tag `key` and any `key=...`.
 */
export function matchesTag(tags: readonly string[], want: string): boolean {
  if (want.includes('=')) return tags.includes(want);
  return tags.some((t) => t === want || t.startsWith(`${want}=`));
}

/** Split `--endpoints` entries into endpoint names/ids and tag selectors (without the `tag:` prefix). */
export function splitSelectors(entries: readonly string[]): { names: string[]; tags: string[] } {
  const names: string[] = [];
  const tags: string[] = [];
  for (const e of entries) {
    if (!e.startsWith(TAG_SELECTOR_PREFIX)) {
      names.push(e);
      continue;
    }
    const t = e.slice(TAG_SELECTOR_PREFIX.length);
    if (!t || !TAG_RE.test(t))
      throw new CapabilityError(
        `endpoint selector "${e}" needs a tag after "tag:"`,
        { selector: e },
        'e.g. --endpoints tag:site=T2_US or --endpoints site-a,tag:gpu',
      );
    tags.push(t);
  }
  return { names, tags };
}

/** Whether `path` (as the endpoint sees it, after path mapping) lies under one of its local prefixes. */
export function isLocalPath(path: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (path.startsWith(p)) return true;
  return false;
}
