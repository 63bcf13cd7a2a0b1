/**
 * Function modules are imported from the bytes whose sha256 was checked, not from whatever the cache
 * file holds at import time. Tasks run under the endpoint's account and can write its function cache:
 * a task that rewrote another user's cached module changed that user's later tasks, even after a
 * restart (issue 14, probe D3). A check of the file before `import()` would leave a window for a
 * rewrite between the two, so a module loader hook reads the file, hashes what it read and hands
 * exactly those bytes to Node; a mismatch fails the import. (A `data:` URL of the checked bytes would
 * need no hook, but bundled functions call `createRequire(import.meta.url)`, which needs a file URL.)
 *
 * The hook checks the function modules (URLs that carry `?sha256=<hash>`, made by {@link verifiedUrl})
 * and every other content-addressed module, a file named `<sha256 of its bytes>.mjs`: processor
 * bundles (src/processor/bundle.ts) and cached builds (src/processor/build-cache.mjs), which tasks
 * could rewrite the same way. Every other import goes through Node's own loader untouched.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { FaasError, MODULE_CHANGED } from '../errors.ts';

/** Text a failed check contains (the agent's cache repair and the client's hint look for it). */
export const MISMATCH = MODULE_CHANGED;

// Plain JavaScript, run on Node's loader thread: no imports of this installation.
const HOOKS = `
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:')) return nextLoad(url, context);
  const u = new URL(url);
  const base = u.pathname.slice(u.pathname.lastIndexOf('/') + 1);
  const want = u.searchParams.get('sha256') ?? (/^[0-9a-f]{64}[.]mjs$/.test(base) ? base.slice(0, 64) : null);
  if (!want || !/^[0-9a-f]{64}$/.test(want)) return nextLoad(url, context);
  const path = fileURLToPath(u);
  const source = readFileSync(path);
  const got = createHash('sha256').update(source).digest('hex');
  if (got !== want)
    throw new Error('module ' + path + ' ${MISMATCH} ' + want + ' (sha256 of the file: ' + got + '): it was changed after the endpoint stored it');
  return { format: 'module', source, shortCircuit: true };
}
`;

let hooked: boolean | undefined;

/**
 * Install the hook (once per process; workers do it before they report ready, as it starts Node's
 * loader thread). False where the runtime refuses hooks: {@link verifiedUrl} then checks the file
 * before the import instead.
 */
export function hookVerifiedLoads(): boolean {
  if (hooked !== undefined) return hooked;
  try {
    module.register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
    hooked = true;
  } catch {
    hooked = false;
  }
  return hooked;
}

/**
 * The URL to import the cached module at `path` with: its bytes are checked against `hash` as they are
 * loaded. Without the hook the file is checked here, which leaves the window between check and import
 * open; a mismatch throws either way. `retry` (failed imports so far) makes a new URL: Node keeps a
 * failed import's error by URL, and a repaired file must load.
 */
export function verifiedUrl(path: string, hash: string, retry = 0): string {
  const url = pathToFileURL(path).href;
  if (hookVerifiedLoads()) return `${url}?sha256=${hash}${retry ? `&retry=${retry}` : ''}`;
  const got = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (got !== hash)
    throw new FaasError(
      `function module ${path} ${MISMATCH} ${hash} (sha256 of the file: ${got}): it was changed after the endpoint stored it`,
      { path, hash },
      'the endpoint writes it again from the code it holds; if it recurs, something on this machine rewrites its function cache',
    );
  return url;
}
