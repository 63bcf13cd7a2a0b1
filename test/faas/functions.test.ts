import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FunctionSourceError, moduleSource } from '../../src/faas/client/functions.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-faas-fn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Import a module source the way a worker does (from a file) and call its default export. */
async function call(source: string, args: unknown): Promise<unknown> {
  const file = join(dir, `m${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  const mod = await import(pathToFileURL(file).href);
  return mod.default(args, {});
}

describe('function serialization', () => {
  const obj = {
    async method(a: number) {
      return a + 1;
    },
    plain(a: number) {
      return a * 2;
    },
  };
  it.each([
    ['arrow', (x: number) => x + 10, 1, 11],
    ['async arrow', async (x: number) => x + 20, 1, 21],
    [
      'function expression',
      function named(x: number) {
        return x - 1;
      },
      1,
      0,
    ],
    ['async method shorthand', obj.method, 1, 2],
    ['method shorthand', obj.plain, 4, 8],
  ])('serializes a %s into a module whose default export runs', async (_kind, fn, arg, expected) => {
    expect(await call(await moduleSource(fn as (a: unknown) => unknown), arg)).toBe(expected);
  });

  it('bundles module strings and module files with their imports', async () => {
    writeFileSync(join(dir, 'dep.ts'), 'export const twice = (x: number): number => 2 * x;\n');
    writeFileSync(
      join(dir, 'main.ts'),
      "import { twice } from './dep.ts';\nexport default (x: number) => twice(x) + 1;\n",
    );
    expect(await call(await moduleSource({ path: join(dir, 'main.ts') }), 5)).toBe(11);
    expect(await call(await moduleSource('export default (x) => x.length;'), 'abc')).toBe(3);
  });

  it('reports syntax errors and missing default exports as FunctionSourceError', async () => {
    await expect(moduleSource('export default (x => ;')).rejects.toBeInstanceOf(FunctionSourceError);
    await expect(moduleSource('export const notDefault = 1;')).rejects.toThrow(/default export/);
    await expect(moduleSource({ path: join(dir, 'missing.ts') })).rejects.toThrow(/missing\.ts/);
  });
});
