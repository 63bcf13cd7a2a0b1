/**
 * Loading a processor module from a .ts/.js path (the CLI runs under tsx, so TypeScript imports
 * directly) and checking its shape at run time, with a message that says what is missing.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RistrettoError } from '../errors/index.ts';
import { commonJsPackageOf, esmExtensionOf } from './module-scope.mjs';
import type { Processor } from './types.ts';

/** The processor file is missing, does not load, or does not export a processor. */
export class ProcessorLoadError extends RistrettoError {}

const SHAPE_HINT =
  'default-export defineProcessor({ accumulator() { ... }, process(events, ctx) { ... } }) (or a class with those methods)';

/**
 * Refuse a processor that Node would load as CommonJS: a `.ts`/`.js` file whose nearest package.json
 * lacks `"type": "module"`. Ristretto is an ES module package, and such a processor otherwise fails
 * deep inside Node with "Cannot require() ES Module ... in a cycle", which names neither cause nor fix.
 */
export function assertESMProcessor(path: string): void {
  const pkg = commonJsPackageOf(path);
  if (pkg === undefined) return;
  throw new ProcessorLoadError(
    `${path} would load as CommonJS: ${pkg} has no "type": "module", and Ristretto processors are ES modules`,
    { file: resolve(path), packageJson: pkg },
    `add "type": "module" to ${pkg} (or rename the processor to ${esmExtensionOf(path)})`,
  );
}

/**
 * The absolute path of processor file `path`, checked before it is imported or bundled: it exists and
 * loads as an ES module (see {@link assertESMProcessor}); else a ProcessorLoadError naming it.
 */
export function processorFile(path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs))
    throw new ProcessorLoadError(
      `processor file not found: ${path}`,
      { file: abs },
      'check the path to the processor (.ts or .js)',
    );
  assertESMProcessor(abs);
  return abs;
}

/** Import `path` and return its default-exported processor. */
export async function loadProcessor(path: string): Promise<Processor<unknown>> {
  const abs = processorFile(path);
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(abs).href);
  } catch (e) {
    throw new ProcessorLoadError(
      `cannot load processor ${path}: ${(e as Error).message}`,
      { file: abs },
      'fix the error in the processor module',
      { cause: e },
    );
  }
  return asProcessor(mod, path);
}

/** Validate a module namespace (or a bare value) as a processor; instantiates a default-exported class. */
export function asProcessor(mod: unknown, source: string): Processor<unknown> {
  let p =
    mod !== null && typeof mod === 'object' && 'default' in mod ? (mod as { default: unknown }).default : undefined;
  if (p === undefined) {
    throw new ProcessorLoadError(`${source} has no default export`, { file: source }, SHAPE_HINT);
  }
  if (typeof p === 'function') {
    const proto = (p as { prototype?: Record<string, unknown> }).prototype;
    if (!proto || typeof proto.process !== 'function') {
      throw new ProcessorLoadError(
        `${source}: the default export is a function, not a processor`,
        { file: source },
        SHAPE_HINT,
      );
    }
    try {
      p = new (p as new () => unknown)();
    } catch (e) {
      throw new ProcessorLoadError(
        `${source}: constructing the processor class failed: ${(e as Error).message}`,
        { file: source },
        'the class needs a constructor without arguments',
        { cause: e },
      );
    }
  }
  if (p === null || typeof p !== 'object') {
    throw new ProcessorLoadError(
      `${source}: the default export is ${p === null ? 'null' : typeof p}, not a processor`,
      { file: source },
      SHAPE_HINT,
    );
  }
  const o = p as Record<string, unknown>;
  const missing = ['accumulator', 'process'].filter((k) => typeof o[k] !== 'function');
  if (missing.length) {
    throw new ProcessorLoadError(
      `${source}: the processor has no ${missing.join(' and no ')} method`,
      { file: source, missing },
      SHAPE_HINT,
    );
  }
  if (o.postprocess !== undefined && typeof o.postprocess !== 'function') {
    throw new ProcessorLoadError(`${source}: postprocess must be a method`, { file: source }, SHAPE_HINT);
  }
  return p as Processor<unknown>;
}
