/**
 * Stack frames in a processor bundle (`…/<sha256>.mjs:LINE:COL`) turned back into the user's file and
 * line, through the source map the build cache keeps beside each processor bundle (`<sha256>.mjs.map`).
 * Done only when an error is formatted: Node's own source-map support (`--enable-source-maps`) would
 * parse every bundle's map at load, in every worker, and make every bundle carry its map.
 *
 * @example
 * ```ts
 * try { await runAnalysis(opts); } catch (e) {
 *   console.error(userFrame(e) ?? 'not in your code'); // e.g. processors/zmumu.ts:42:11
 *   console.error(mapStack(String((e as Error).stack)));
 * }
 * ```
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { isAbsolute, join, relative, sep } from 'node:path';
import { bundleDir, ristrettoRoot } from './build-cache.mjs';

/** A frame location inside a bundle file named by its hash (file URL or path). */
const FRAME = /(?:file:\/\/)?[^\s()]*\/([0-9a-f]{64})\.mjs:(\d+):(\d+)/g;

const maps = new Map<string, SourceMap | null>();
/**
 * Maps of bundles built by this process, by hash: with a read-only node_modules the cache keeps no map
 * on disk (the bundle is imported from a private temp folder), and the frames still map.
 */
const builtMaps = new Map<string, string>();

/** Keep the source map of a bundle this process built (the text esbuild gave, `sources` absolute). */
export function rememberSourceMap(hash: string, map: string): void {
  builtMaps.set(hash, map);
}

function mapOf(hash: string, dir: string): SourceMap | null {
  const key = `${dir}\u0000${hash}`;
  let m = maps.get(key);
  if (m === undefined) {
    try {
      const text = builtMaps.get(hash) ?? readFileSync(join(dir, `${hash}.mjs.map`), 'utf8');
      m = new SourceMap(JSON.parse(text));
    } catch {
      m = null; // no map (a runtime bundle, a pruned or foreign one): the frame stays as it is
    }
    maps.set(key, m);
  }
  return m;
}

/** Where a position (1-based line and column) in bundle `hash` comes from, if its map says. */
export function originalPosition(
  hash: string,
  line: number,
  column: number,
  dir: string = bundleDir,
): { file: string; line: number; column: number } | undefined {
  const e = mapOf(hash, dir)?.findEntry(line - 1, column - 1) as
    | { originalSource?: string; originalLine?: number; originalColumn?: number }
    | undefined;
  if (!e?.originalSource || e.originalLine === undefined || e.originalColumn === undefined) return undefined;
  return { file: e.originalSource, line: e.originalLine + 1, column: e.originalColumn + 1 };
}

/** `text` (a stack) with every bundle frame that has a map replaced by `file:line:column` of the source. */
export function mapStack(text: string, dir: string = bundleDir): string {
  return text.replace(FRAME, (whole, hash: string, line: string, col: string) => {
    const p = originalPosition(hash, Number(line), Number(col), dir);
    return p ? `${p.file}:${p.line}:${p.column}` : whole;
  });
}

/** Ristretto's own sources and npm packages: frames there are not the user's code. */
function isLibrary(file: string): boolean {
  return (
    file.startsWith(join(ristrettoRoot, 'src') + sep) ||
    file.startsWith(join(ristrettoRoot, 'executors') + sep) ||
    file.includes(`${sep}node_modules${sep}`)
  );
}

/**
 * The frames of the user's own code (a processor file or a file it imports) in `e`, its causes and the
 * stacks workers sent back (`context.remoteStack`): those of the first stack that has any, innermost
 * first, as `path:line:column` — relative to the working directory when below it, absolute otherwise.
 * Empty when no frame maps to user code.
 *
 * @example
 * ```ts
 * for (const at of userFrames(e)) console.error(`  at ${at} (in your code)`);
 * ```
 */
export function userFrames(e: unknown, dir: string = bundleDir): string[] {
  let cur: unknown = e;
  for (let depth = 0; cur instanceof Error && depth < 8; depth++) {
    const texts = [cur.stack];
    const remote = (cur as { context?: { remoteStack?: unknown } }).context?.remoteStack;
    if (typeof remote === 'string') texts.push(remote);
    for (const text of texts) {
      if (!text) continue;
      const frames: string[] = [];
      for (const m of text.matchAll(FRAME)) {
        const p = originalPosition(m[1] as string, Number(m[2]), Number(m[3]), dir);
        if (!p || isLibrary(p.file)) continue;
        const rel = relative(process.cwd(), p.file);
        const shown = `${rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p.file}:${p.line}:${p.column}`;
        if (frames[frames.length - 1] !== shown) frames.push(shown);
      }
      if (frames.length) return frames;
    }
    cur = cur.cause;
  }
  return [];
}

/** The innermost frame of {@link userFrames}: where the user's code threw, or undefined. */
export function userFrame(e: unknown, dir: string = bundleDir): string | undefined {
  return userFrames(e, dir)[0];
}

/**
 * Whether `e` was thrown by the user's own code: the first frame of its stack that is not Node's or a
 * built-in's (`JSON.parse`, `Array.prototype.map`) lies in a processor bundle and maps to a file outside
 * Ristretto. An error thrown inside Ristretto while the user's code called it is not.
 */
export function thrownInUserCode(e: unknown, dir: string = bundleDir): boolean {
  if (!(e instanceof Error) || !e.stack) return false;
  for (const line of e.stack.split('\n')) {
    if (!/^\s+at /.test(line) || /\(?node:|<anonymous>|\(native\)/.test(line)) continue;
    const m = [...line.matchAll(FRAME)][0];
    if (!m) return false;
    const p = originalPosition(m[1] as string, Number(m[2]), Number(m[3]), dir);
    return p !== undefined && !isLibrary(p.file);
  }
  return false;
}
