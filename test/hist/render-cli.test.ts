/** `run-analysis --format png,svg --label ... --lumi ... --sqrts ...`: the figures a real run writes. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Jagged } from '../../src/columnar/types.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { ROOT_FILE } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('writes slide-ready figures: data over the stacked simulation, ratio panel, labels; colour maps in the same style', async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-figures-'));
  const ds = join(dir, 'ds.json');
  await writeFile(
    ds,
    JSON.stringify({
      SingleMu: { files: { [ROOT_FILE()]: 'Events' }, metadata: { isData: true } },
      MC: { files: { [ROOT_FILE()]: 'Events' } },
    }),
  );
  const out = join(dir, 'out');
  const args = [
    join(repoRoot, 'bin', 'run-analysis.mjs'),
    ds,
    join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts'),
    '-o',
    out,
    '--format',
    'json,svg,png',
    '--label',
    'CMS Open Data',
    '--lumi',
    '11.6',
    '--sqrts',
    '8',
    '-q',
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 240_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const stack = await readFile(join(out, 'muon_pt.svg'), 'utf8');
  // the data dataset as points, the other stacked, a ratio panel, the labels
  expect(stack).toContain('<g class="data"');
  expect(stack).toContain('<g class="ratio"');
  expect(stack).toContain(
    '<tspan font-weight="bold">CMS</tspan><tspan font-style="italic" font-size="16.5"> Open Data</tspan>',
  );
  expect(stack).toMatch(/>11\.6 fb<tspan[^>]*>−1<\/tspan>.*\(8 TeV\)</);
  expect(stack).toMatch(/>MC<\/text>/);
  // the same file twice: data / simulation is exactly 1 in every filled bin → every ratio point on the line at 1
  const one = Number(/<path d="M[\d.]+,([\d.]+)H[\d.]+" stroke="#666" stroke-dasharray/.exec(stack)![1]);
  const ratio = /<g class="ratio"[^>]*>(.*?)<\/g>/s.exec(stack)![1];
  const ys = [...ratio.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  expect(ys.length).toBeGreaterThan(10);
  for (const y of ys) expect(y).toBeCloseTo(one, 1);
  const met = await readFile(join(out, 'met.svg'), 'utf8');
  expect(met).toContain('>Events / 5 GeV</text>');
  // the 2-D map: a colour map in the figures' own style, with the same label line and font as the 1-D ones
  const map = await readFile(join(out, 'muon_etaphi.svg'), 'utf8');
  expect(map).not.toContain('class="data"');
  expect(map).toContain(
    '<tspan font-weight="bold">CMS</tspan><tspan font-style="italic" font-size="16.5"> Open Data</tspan>',
  );
  expect(map).toMatch(/>11\.6 fb<tspan[^>]*>−1<\/tspan>.*\(8 TeV\)</);
  const fonts = (svg: string) => new Set([...svg.matchAll(/font-family="([^"]+)"/g)].map((m) => m[1]));
  expect(fonts(map)).toEqual(fonts(met));
  expect(fonts(map).size).toBe(1);
  expect(map).toMatch(/>η<\/text>/);
  expect(map).toMatch(/>φ<\/text>/);
  // every in-range muon (both datasets read the same file) is in a cell, as counted by a plain loop
  const reader = await openRoot(ROOT_FILE(), { treeName: 'Events' });
  const cols = await reader.read(['Muon_eta', 'Muon_phi'], 0, reader.numEntries);
  await reader.close();
  const eta = (cols.Muon_eta as Jagged).content;
  const phi = (cols.Muon_phi as Jagged).content;
  let inRange = 0;
  for (let i = 0; i < eta.length; i++) if (eta[i] >= -2.4 && eta[i] < 2.4 && phi[i] >= -3.2 && phi[i] < 3.2) inRange++;
  const cells = [...map.matchAll(/<rect [^>]*data-value="([\d.e+]+)"/g)].map((m) => Number(m[1]));
  expect(cells.length).toBeGreaterThan(50);
  expect(cells.reduce((a, b) => a + b, 0)).toBe(2 * inRange);
  const mapPng = await readFile(join(out, 'muon_etaphi.png'));
  expect(Array.from(mapPng.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
  const png = await readFile(join(out, 'muon_pt.png'));
  expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
}, 300_000);
