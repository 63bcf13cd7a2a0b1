/**
 * `import()` of a function module from the cache, also inside the single-executable endpoint: there
 * the embedded script has no module loader of its own, so the import runs in a script compiled with
 * the main context's default loader.
 */
import { isSea } from 'node:sea';
import vm from 'node:vm';

let seaImport: ((url: string) => Promise<unknown>) | undefined;

/** Import an ES module by file URL. */
export function importModule(url: string): Promise<unknown> {
  if (!isSea()) return import(url);
  seaImport ??= new vm.Script('(url) => import(url)', {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }).runInThisContext() as (url: string) => Promise<unknown>;
  return seaImport(url);
}
