// Which package.json makes a file load as CommonJS. Plain JavaScript, so that `ristretto/register`
// (bin/register.mjs) can ask before any TypeScript loader runs; the commands ask through load.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';

/** Extensions whose module format follows the nearest package.json's "type". */
const SCOPED = new Set(['.ts', '.js', '.tsx', '.jsx']);

/**
 * The nearest package.json above `path` when it lacks `"type": "module"`, so that Node (and tsx) load the
 * `.ts`/`.js` file as CommonJS; undefined when the file loads as an ES module (or its extension decides).
 */
export function commonJsPackageOf(path) {
  const abs = resolve(path);
  if (!SCOPED.has(extname(abs))) return undefined;
  for (let dir = dirname(abs); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      let type;
      try {
        type = JSON.parse(readFileSync(pkg, 'utf8')).type;
      } catch {
        return undefined; // a broken package.json is reported by whatever reads it next
      }
      return type === 'module' ? undefined : pkg;
    }
    if (dirname(dir) === dir) return undefined; // no package.json above: Node decides by syntax
  }
}

/** The ES-module name of `path`: `.ts` → `.mts`, `.js` → `.mjs`. */
export function esmExtensionOf(path) {
  return /\.tsx?$/.test(path) ? '.mts' : '.mjs';
}
