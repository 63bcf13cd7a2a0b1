/**
 * Turning what a user hands to `registerFunction` into one self-contained ES module source whose
 * default export is the function. The service identifies functions by the sha256 of that source.
 */
import { build, transform } from 'esbuild';
import { resolve } from 'node:path';
import { FaasError } from '../errors.ts';
import { internalError } from '../../errors/index.ts';

/**
 * A JS function (serialized from its source text: it must not use variables from its closure),
 * an ES module source string, or a module file to bundle with its imports.
 */
export type FunctionSource =
  | ((args: any, ctx: any) => unknown)
  | string
  | {
      path: string;
      /** Packages left out of the bundle; they must resolve from the endpoint's function cache folder. */
      external?: string[];
    };

/** Thrown when a function cannot be turned into a module (syntax error, bundling failure). */
export class FunctionSourceError extends FaasError {}

// Bundled CommonJS dependencies call `require`; give the ESM bundle a real one.
const BANNER =
  "import { createRequire as __rstCreateRequire } from 'node:module'; const require = __rstCreateRequire(import.meta.url);";

// tsx/esbuild with keepNames wrap functions in `__name(fn, "name")`; a serialized function body may
// contain such calls but not the helper.
const NAME_SHIM =
  'var __name = (target, value) => Object.defineProperty(target, "name", { value, configurable: true });\n';

/** The module source for a function source. */
export async function moduleSource(src: FunctionSource): Promise<string> {
  if (typeof src === 'function') return fromFunction(src);
  if (typeof src === 'string')
    return bundle(
      { stdin: { contents: src, resolveDir: process.cwd(), sourcefile: 'function.ts', loader: 'ts' } },
      'module source',
    );
  if (src && typeof src === 'object' && typeof src.path === 'string') {
    return bundle({ entryPoints: [resolve(src.path)], external: src.external ?? [] }, src.path);
  }
  throw new FunctionSourceError('registerFunction takes a function, an ES module source string, or {path}', {
    got: typeof src,
  });
}

async function fromFunction(fn: (...a: any[]) => unknown): Promise<string> {
  const text = fn.toString();
  if (/\[native code\]\s*\}$/.test(text))
    throw new FunctionSourceError(`cannot serialize native or bound function ${fn.name || '(anonymous)'}`, {});
  const wrap = (t: string) => `${/\b__name\(/.test(t) ? NAME_SHIM : ''}export default (${t});\n`;
  // Arrow functions and function expressions are expressions as they are; method shorthand
  // (`name(args) {...}`, `async name(args) {...}`) is not and gets the `function` keyword.
  const candidates = [text];
  const m = /^(async\s+)?(\*\s*)?([A-Za-z_$][\w$]*)\s*\(/.exec(text);
  if (m && m[3] !== 'function')
    candidates.push(`${m[1] ?? ''}function${m[2] ? '*' : ''} ${text.slice((m[1] ?? '').length + (m[2] ?? '').length)}`);
  let lastError: unknown;
  for (const c of candidates) {
    const source = wrap(c);
    try {
      await transform(source, { format: 'esm', loader: 'js' });
      return source;
    } catch (e) {
      lastError = e;
    }
  }
  throw new FunctionSourceError(
    `function ${fn.name || '(anonymous)'} does not serialize to valid JavaScript: ${(lastError as Error).message}`,
    {},
  );
}

async function bundle(
  input: {
    stdin?: { contents: string; resolveDir: string; sourcefile: string; loader: 'ts' };
    entryPoints?: string[];
    external?: string[];
  },
  what: string,
): Promise<string> {
  try {
    const out = await build({
      ...input,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      banner: { js: BANNER },
      logLevel: 'silent',
      legalComments: 'none',
    });
    const text = out.outputFiles[0]?.text;
    if (!text) throw internalError('esbuild produced no output');
    if (!/export\s*\{[^}]*\bdefault\b|export\s+default\b/.test(text)) {
      throw new FunctionSourceError('the module has no default export; export the function with `export default`');
    }
    return text;
  } catch (e) {
    const errs = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] })
      .errors;
    const detail = errs?.length
      ? errs
          .map((x) => `${x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ` : ''}${x.text}`)
          .join('; ')
      : (e as Error).message;
    throw new FunctionSourceError(`cannot bundle ${what}: ${detail}`, { source: what });
  }
}
