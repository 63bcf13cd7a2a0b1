/**
 * `npm run demo`: on a fresh clone (no ../shared needed) generate the synthetic sample once, then run
 * the Z→μμ analysis on it with the threads executor and write histograms, metrics and a PNG of the
 * Z peak to out/demo.
 */
import { existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/analysis.ts';
import { generateSample } from './generate.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sample = resolve(root, 'samples/data/demo');
if (!existsSync(`${sample}.parquet`)) {
  console.log('generating the synthetic demo sample (200,000 events, seed 42) into samples/data/ ...');
  await generateSample({ events: 200_000, seed: 42, out: sample, formats: ['parquet'] });
}
const code = await main([
  resolve(root, 'samples/datasets/demo.json'),
  resolve(root, 'processors/zmumu.ts'),
  '--executor',
  'threads',
  '--workers',
  '2',
  '--chunksize',
  '50000',
  '--out',
  resolve(root, 'out/demo'),
  '--format',
  'json,png',
]);
if (code === 0) console.log(`\nZ peak plot and histograms: ${resolve(root, 'out/demo')}`);
process.exitCode = code;
