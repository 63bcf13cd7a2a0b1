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
});
