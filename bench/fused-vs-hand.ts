/**
 * Idiomatic (fused columnar API, processors/adl/query-N.ts) against the hand-written loops they replaced
 * (bench/hand/query-N.ts), same run, interleaved per chunk.
 *
 * Compute only: each chunk's columns are read once (runOnEvents with the union of both processors' branches
 * prefetched), then `process` of the hand loop and of the idiomatic processor run alternately `--reps` times on
 * the same in-memory events; the best time of each per chunk is summed. Both outputs are compared bin for bin.
 * End-to-end (read + decode + process) times come from `run-analysis`, see bench/RESULTS.md.
 *
 *     npx tsx bench/fused-vs-hand.ts                                   # bench/data/adl-2M.parquet, all queries
 *     npx tsx bench/fused-vs-hand.ts --file ../bench-data/adl-20M-snappy.parquet --queries 5,6,8 --reps 3
 */
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnEvents } from '../src/events/index.ts';
import type { Hist } from '../src/hist/hist.ts';
import { openReader } from '../src/io/open.ts';
import { loadProcessor } from '../src/processor/load.ts';
import type { ProcessContext, Processor } from '../src/processor/types.ts';
import { adlFile, adlFileOptions, benchArgs } from './lib.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  file: string;
  queries: number[];
  reps: number;
  chunksize: number;
}

function parseArgs(argv: string[]): Args {
  const a = benchArgs(
    'Idiomatic processors (processors/adl) against the hand-written loops they replaced, per chunk.',
    adlFileOptions(3),
    {},
    argv,
  );
  return { ...a, file: adlFile(a.file) };
}

type Hists = Record<string, Hist>;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const reader = await openReader(args.file);
  const n = reader.numEntries;
  console.log(
    `${args.file}: ${n.toLocaleString()} events, chunks of ${args.chunksize.toLocaleString()}, best of ${args.reps} per chunk`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  const rows: string[] = [];
  for (const q of args.queries) {
    const hand = (await loadProcessor(resolve(repo, 'bench', 'hand', `query-${q}.ts`))) as Processor<Hists>;
    const idiomatic = (await loadProcessor(resolve(repo, 'processors', 'adl', `query-${q}.ts`))) as Processor<Hists>;
    let tHand = 0;
    let tFused = 0;
    let same = true;
    let prefetch: string[] | undefined;
    for (let start = 0; start < n; start += args.chunksize) {
      const stop = Math.min(n, start + args.chunksize);
      const ctx: ProcessContext = {
        dataset: 'adl',
        file: args.file,
        tree: 'Events',
        entryStart: start,
        entryStop: stop,
        metadata: {},
      } as ProcessContext;
      const r = await runOnEvents(
        reader,
        start,
        stop,
        (events) => {
          let a: Hists = hand.process.call(hand, events, ctx) as Hists; // warm-up (and loads the columns)
          let b: Hists = idiomatic.process.call(idiomatic, events, ctx) as Hists;
          let bestHand = Infinity;
          let bestFused = Infinity;
          for (let rep = 0; rep < args.reps; rep++) {
            let t0 = performance.now();
            a = hand.process.call(hand, events, ctx) as Hists;
            bestHand = Math.min(bestHand, performance.now() - t0);
            t0 = performance.now();
            b = idiomatic.process.call(idiomatic, events, ctx) as Hists;
            bestFused = Math.min(bestFused, performance.now() - t0);
          }
          for (const k of Object.keys(a)) {
            const x = a[k].values({ flow: true });
            const y = b[k].values({ flow: true });
            if (x.length !== y.length || x.some((v, i) => v !== y[i])) same = false;
          }
          return [bestHand, bestFused] as const;
        },
        { prefetch },
      );
      prefetch = r.columnsRead;
      tHand += r.result[0];
      tFused += r.result[1];
    }
    const row = `| Q${q} | ${(tHand / 1000).toFixed(3)} s | ${(tFused / 1000).toFixed(3)} s | ${(tFused / tHand).toFixed(2)}× | ${same ? 'yes' : 'NO'} |`;
    rows.push(row);
    console.log(row);
  }
  console.log(
    `\n| query | hand loop (process only) | idiomatic, fused | fused / hand | same histograms |\n|---|---|---|---|---|\n${rows.join('\n')}`,
  );
  await reader.close?.();
}

await main();
