import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Events } from '../../src/events/index.ts';
import { bundleProcessor, loadBundle } from '../../src/processor/bundle.ts';
import { asProcessor, ProcessorLoadError } from '../../src/processor/load.ts';
import { defineProcessor, type ProcessContext, type Processor } from '../../src/processor/types.ts';
import { fixture } from './helpers.ts';

describe('processor API', () => {
  it('infers the accumulator type from accumulator() and rejects wrong shapes at compile time', () => {
    const p = defineProcessor({
      accumulator: () => ({ n: 0, names: new Set<string>() }),
      process(events, ctx) {
        expectTypeOf(events).toEqualTypeOf<Events>();
        expectTypeOf(ctx).toEqualTypeOf<ProcessContext>();
        const out = this.accumulator();
        out.n = events.numEvents;
        return out;
      },
    });
    expectTypeOf(p).toEqualTypeOf<Processor<{ n: number; names: Set<string> }>>();

    // @ts-expect-error process returns a different shape than accumulator()
    defineProcessor({ accumulator: () => ({ n: 0 }), process: () => ({ m: 1 }) });
    // @ts-expect-error process is missing
    defineProcessor({ accumulator: () => ({ n: 0 }) });
    // @ts-expect-error postprocess receives the accumulator type
    defineProcessor({ accumulator: () => ({ n: 0 }), process: () => ({ n: 1 }), postprocess: (a: { m: string }) => a });
    expect(p.accumulator()).toEqual({ n: 0, names: new Set() });
  });

  it('accepts a default-exported class and explains what is missing otherwise', () => {
    class P {
      accumulator() {
        return 0;
      }
      process() {
        return 1;
      }
    }
    expect(asProcessor({ default: P }, 'p.ts').process).toBeTypeOf('function');
    expect(() => asProcessor({}, 'p.ts')).toThrow(/p\.ts has no default export/);
    expect(() => asProcessor({ default: { process() {} } }, 'p.ts')).toThrow(/no accumulator method/);
    expect(() => asProcessor({ default: 3 }, 'p.ts')).toThrow(ProcessorLoadError);
  });

  it('bundles a processor into one content-hashed ESM module that loads by itself', async () => {
    const a = await bundleProcessor(fixture('hists.ts'));
    const b = await bundleProcessor(fixture('hists.ts'));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    // Ristretto's own modules are inlined: no relative imports are left.
    expect(a.code).not.toMatch(/from\s+["']\.\.?\//);
    expect(a.code).toContain('ristretto.Hist');
    const p = await loadBundle(a);
    const acc = p.accumulator() as { cutflow: { all: number } };
    expect(acc.cutflow).toEqual({ all: 0, withMuon: 0 });
    await expect(loadBundle({ ...a, hash: '0'.repeat(64) })).rejects.toThrow(/hash mismatch/);
    await expect(bundleProcessor(fixture('nope.ts'))).rejects.toThrow(/processor file not found/);
  });

  it("names 'ristretto' (not its source file) when a processor imports a name Ristretto does not export", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-bad-import-'));
    try {
      const entry = join(dir, 'proc.ts');
      writeFileSync(
        entry,
        "import { Hist } from 'ristretto';\nimport { NotAThing } from 'ristretto/hist';\nexport default { accumulator: () => ({ n: 0 }), process: () => ({ n: [Hist, NotAThing].length }) };\n",
      );
      const e = await bundleProcessor(entry).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ProcessorLoadError);
      expect((e as Error).message).toContain(
        `No matching export in 'ristretto/hist' for import "NotAThing" (${entry}:2)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a package the processor imports but nobody installed, and where to install it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-missing-pkg-'));
    try {
      const entry = join(dir, 'proc.ts');
      writeFileSync(
        entry,
        "import pad from 'left-pad-not-installed';\nexport default { accumulator: () => ({ s: '' }), process: () => ({ s: pad('x', 3) }) };\n",
      );
      const b = await bundleProcessor(entry);
      const e = await loadBundle(b).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ProcessorLoadError);
      const message = (e as Error).message;
      expect(message).toContain(`cannot load processor ${entry}: it imports the package 'left-pad-not-installed'`);
      expect(message).toContain('run `npm install left-pad-not-installed` in ');
      // Not the cached bundle Node names as the importer: a path the user never wrote.
      expect(message).not.toMatch(/\.cache|\.mjs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reuses a bundle while its files are unchanged, and rebuilds when a file it imports changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-bundle-'));
    try {
      const entry = join(dir, 'proc.ts');
      const helper = join(dir, 'scale.ts');
      writeFileSync(helper, 'export const SCALE = 2;\n');
      writeFileSync(
        entry,
        "import { SCALE } from './scale.ts';\nexport default { accumulator: () => ({ n: 0 }), process: () => ({ n: SCALE }) };\n",
      );
      // Files written just now are too fresh to trust (they may change while esbuild reads them): age them.
      const past = new Date(Date.now() - 60_000);
      for (const f of [entry, helper]) utimesSync(f, past, past);
      const first = await Promise.all(Array.from({ length: 4 }, () => bundleProcessor(entry)));
      const again = await bundleProcessor(entry);
      for (const b of first) expect(b).toBe(first[0]); // one build, shared
      expect(again).toStrictEqual(first[0]); // then the same bundle, from the on-disk cache
      // A change in an imported file (not the entry) gives a new bundle with the new code.
      writeFileSync(helper, 'export const SCALE = 3;\n');
      utimesSync(helper, new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
      const changed = await bundleProcessor(entry);
      expect(changed.hash).not.toBe(first[0].hash);
      expect(changed.code).toContain('SCALE = 3');
      expect(((await loadBundle(changed)).process as () => { n: number })()).toEqual({ n: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
