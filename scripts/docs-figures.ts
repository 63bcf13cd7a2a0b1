/**
 * Draws docs/img/stack-ratio.png, the README's example of a slide-ready figure, from a seeded synthetic
 * sample (a Z peak, a falling t t̄ continuum, a flat diboson tail and pseudo-data drawn from their sum),
 * so the image is the same on every machine:
 *
 *   npx tsx scripts/docs-figures.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hist, Regular, StrCategory } from '../src/hist/index.ts';
import { figurePNG } from '../src/hist/render.ts';
import { Rng } from '../samples/rng.ts';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'img');
const rng = new Rng(2012);
const h = new Hist(
  new StrCategory([], { name: 'dataset', growth: true }),
  new Regular(30, 60, 120, { name: 'mll', label: 'm_{#mu#mu} [GeV]' }),
);
const dy = (n: number) => Float64Array.from({ length: n }, () => 91.19 + 2.5 * rng.normal());
const tt = (n: number) => Float64Array.from({ length: n }, () => 60 + 60 * rng.uniform() ** 1.6);
const vv = (n: number) => Float64Array.from({ length: n }, () => 60 + 60 * rng.uniform());
h.fill('Diboson', vv(600)).fill('t#bar{t}', tt(2400)).fill('Drell-Yan', dy(24000));
h.fill('Data', Float64Array.from([...dy(24400), ...tt(2500), ...vv(650)]));
writeFileSync(
  join(out, 'stack-ratio.png'),
  figurePNG(h, { data: ['Data'], label: 'Ristretto Demo', lumi: 11.6, sqrts: 8, logy: true }),
);
