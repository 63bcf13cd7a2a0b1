/**
 * The README's TypeScript blocks, run as written: a block that default-exports a processor runs through
 * `runAnalysis` over generated data and simulation samples; any other block runs as a script with tsx.
 * Each runs from a folder under out/ inside the repository, so `import ... from 'ristretto'` resolves the
 * way it does in a user's project, and relative paths in a block (`samples/data/demo.parquet`) point
 * at samples this test generates there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hist } from '../src/hist/index.ts';
import { runAnalysis } from '../src/runner/run.ts';
import { generateSample } from '../samples/generate.ts';
import { repoRoot } from './shared.ts';

const blocks = [...readFileSync(join(repoRoot, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1],
);
const dir = join(repoRoot, 'out', `readme-test-${process.pid}`);

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  await generateSample({ events: 20_000, seed: 42, out: join(dir, 'samples', 'data', 'demo'), formats: ['parquet'] });
  await generateSample({
    events: 20_000,
    seed: 7,
    zFraction: 0.5,
    out: join(dir, 'samples', 'data', 'data'),
    formats: ['parquet'],
  });
  writeFileSync(
    join(dir, 'datasets.json'),
    JSON.stringify({
      Data: { files: ['samples/data/data.parquet'], metadata: { isData: true } },
      DY: { files: ['samples/data/demo.parquet'], metadata: { isData: false } },
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README code blocks', () => {
  it('has TypeScript blocks to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  blocks.forEach((code, i) => {
    const isProcessor = /export default defineProcessor/.test(code);
    it(`block ${i + 1} (${isProcessor ? 'processor' : 'script'}) runs`, async () => {
      const file = join(dir, `block-${i + 1}.ts`);
      writeFileSync(file, code);
      if (isProcessor) {
        const { accumulator } = await runAnalysis<Record<string, unknown>>({
          fileset: join(dir, 'datasets.json'),
          processor: file,
          chunksize: 5_000,
        });
        // Whatever it fills, a histogram of a processor in the README must have entries for every dataset.
        const hists = Object.values(accumulator).filter((v): v is Hist => v instanceof Hist);
        expect(hists.length).toBeGreaterThan(0);
        for (const h of hists) {
          expect(h.sum({ flow: true }).value).toBeGreaterThan(0);
          const cat = h.axes.find((a) => a.kind === 'str_category');
          if (cat && 'categories' in cat) expect([...(cat.categories as string[])].sort()).toEqual(['DY', 'Data']);
        }
      } else {
        const register = pathToFileURL(join(repoRoot, 'bin', 'register.mjs')).href;
        const r = spawnSync(process.execPath, ['--import', register, file], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 120_000,
        });
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      }
    }, 180_000);
  });
});
