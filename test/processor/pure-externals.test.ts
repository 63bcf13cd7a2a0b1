/**
 * Processor bundles leave out imports of side-effect-free npm packages that nothing uses: apache-arrow,
 * reachable through `ristretto`'s toArrow/fromArrow, is no longer loaded by a processor that never converts
 * to Arrow (it cost every pool worker 0.4–0.6 s), and stays for one that does. Real esbuild builds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleProcessor, loadBundle } from '../../src/processor/bundle.ts';
import { repoRoot } from '../shared.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-pure-'));
  await writeFile(join(dir, 'package.json'), '{"type": "module"}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const importsArrow = (code: string) => /from\s*["']apache-arrow["']|import\s*["']apache-arrow["']/.test(code);

describe('processor bundles and side-effect-free packages', () => {
  it('an ADL processor bundle does not import apache-arrow', async () => {
    const b = await bundleProcessor(join(repoRoot, 'processors', 'adl', 'query-1.ts'));
    expect(importsArrow(b.code)).toBe(false);
  });

  it('a processor that converts to Arrow keeps the import and works', async () => {
    const file = join(dir, 'to-arrow.ts');
    await writeFile(
      file,
      [
        "import { defineProcessor, toArrow } from 'ristretto';",
        'export default defineProcessor({',
        '  accumulator: () => ({ n: 0 }),',
        '  process: () => ({ n: toArrow(new Float64Array([1, 2, 3])).length }),',
        '});',
      ].join('\n'),
    );
    const b = await bundleProcessor(file);
    expect(importsArrow(b.code)).toBe(true);
    const p = await loadBundle(b);
    expect(p.process({} as never, {} as never)).toEqual({ n: 3 });
  });
});
