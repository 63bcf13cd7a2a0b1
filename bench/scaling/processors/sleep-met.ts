/**
 * Scaling-study processor with sleep-padded chunks: reads MET_pt, fills one histogram (cheap), then
 * sleeps `sleepMs` (dataset metadata) per chunk. On a machine with fewer cores than workers this
 * measures the executors' scaling and overhead, not the CPU.
 */
import { Regular } from '../../../src/hist/axes.ts';
import { Hist } from '../../../src/hist/hist.ts';
import { defineProcessor } from '../../../src/processor/types.ts';

export default defineProcessor({
  accumulator: () => ({ met: new Hist(new Regular(50, 0, 200, { name: 'met' })), events: 0 }),
  async process(events, ctx) {
    const out = this.accumulator();
    out.met.fill(events.MET.pt);
    out.events = events.numEvents;
    await new Promise((r) => setTimeout(r, Number(ctx.metadata.sleepMs ?? 100)));
    return out;
  },
});
