/**
 * Write a deterministic synthetic NanoAOD-like sample as Parquet and/or Arrow IPC.
 *
 *   npx tsx samples/generate.ts --events 200000 --seed 42 --out samples/data/demo
 *     → samples/data/demo.parquet and samples/data/demo.arrow
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ParquetFileWriter } from '../src/io/parquet/write.ts';
import { ArrowFileWriter } from '../src/io/arrow/index.ts';
import type { DType } from '../src/io/reader.ts';
import { generateEvents } from './synth.ts';

/** Dtypes the typed arrays alone cannot express (booleans stored as bytes, 64-bit event numbers). */
const DTYPES: Record<string, DType> = { event: 'uint64', Muon_tightId: 'bool', HLT_IsoMu24: 'bool' };

export interface GenerateOptions {
  events: number;
  seed: number;
  /** Output path without extension. */
  out: string;
  formats: ReadonlyArray<'parquet' | 'arrow'>;
  /** Events per row group / record batch (default 100,000). */
  chunk?: number;
  /** Fraction of events with a Z→μμ decay (default 0.6). */
  zFraction?: number;
}

/** Generate the sample chunk by chunk (bounded memory) and write every requested format. */
export async function generateSample(o: GenerateOptions): Promise<string[]> {
  await mkdir(dirname(o.out) || '.', { recursive: true });
  const paths = o.formats.map((f) => `${o.out}.${f}`);
  const writers = o.formats.map((f, i) =>
    f === 'parquet' ? new ParquetFileWriter(paths[i], DTYPES) : new ArrowFileWriter(paths[i], DTYPES),
  );
  const chunk = o.chunk ?? 100_000;
  for (let first = 0; first < o.events; first += chunk) {
    const cols = generateEvents(Math.min(chunk, o.events - first), {
      seed: o.seed,
      firstEvent: first,
      zFraction: o.zFraction,
    });
    for (const w of writers) w.write(cols);
  }
  for (const w of writers) await w.close();
  return paths;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command('generate')
    .description('Write a deterministic synthetic NanoAOD-like sample (Z→μμ + jets, electrons, MET)')
    .option('--events <n>', 'number of events', positiveInt('--events'), 200_000)
    .option('--seed <n>', 'random seed', positiveInt('--seed'), 42)
    .option('--out <path>', 'output path without extension', 'samples/data/demo')
    .option('--format <list>', 'comma-separated: parquet,arrow', 'parquet,arrow')
    .parse();
  const o = program.opts<{ events: number; seed: number; out: string; format: string }>();
  const formats = o.format.split(',').map((s) => s.trim()) as Array<'parquet' | 'arrow'>;
  for (const f of formats)
    if (f !== 'parquet' && f !== 'arrow') program.error(`--format: unknown format "${f}" (use parquet, arrow)`);
  const t0 = performance.now();
  const paths = await generateSample({ events: o.events, seed: o.seed, out: o.out, formats });
  console.log(`wrote ${o.events} events to ${paths.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
