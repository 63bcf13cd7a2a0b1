/**
 * The UHI JSON files run-analysis writes validate, each as a whole, against the UHI schema in
 * ../shared/schemas/uhi (read in place; its top level maps names to histograms), labels are mathtext
 * for Python while the ROOT JSON beside them keeps TLatex; the schema's own examples behave as labelled.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUHIDocument, Hist, parseUHI, Regular, toUHI } from '../../src/hist/index.ts';
import { tlatexToMathtext } from '../../src/hist/uhi.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { fixture, PARQUET_FILE, tempDir } from './helpers.ts';

const schemaDir = sharedPath('schemas', 'uhi');
const schema = JSON.parse(readFileSync(join(schemaDir, 'histogram.schema.json'), 'utf8'));
// the schema puts `minItems` on number items (harmless); strict mode would only log about it
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

function errorsOf(doc: unknown): string {
  return validate(doc) ? '' : JSON.stringify(validate.errors?.slice(0, 5));
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('UHI schema', () => {
  it("accepts the schema's valid examples and rejects its invalid ones", () => {
    const valid = readdirSync(join(schemaDir, 'valid'));
    const invalid = readdirSync(join(schemaDir, 'invalid'));
    expect(valid.length).toBeGreaterThan(0);
    expect(invalid.length).toBeGreaterThan(0);
    for (const f of valid) expect(errorsOf(parseUHI(readFileSync(join(schemaDir, 'valid', f), 'utf8'))), f).toBe('');
    for (const f of invalid)
      expect(validate(parseUHI(readFileSync(join(schemaDir, 'invalid', f), 'utf8'))), f).toBe(false);
  });

  it('a bare histogram object (not a document) is rejected, so the check is meaningful', () => {
    const h = new Hist(new Regular(2, 0, 1, { name: 'x' })).fill([0.5]);
    expect(validate(toUHI(h))).toBe(false);
    expect(errorsOf({ x: toUHI(h) })).toBe('');
  });
});

describe('run-analysis UHI output', () => {
  it('every .json histogram file validates as a whole; labels are mathtext, ROOT JSON keeps TLatex', () => {
    const ds = join(dir, 'ds.json');
    const out = join(dir, 'out');
    writeFileSync(ds, JSON.stringify({ SingleMu: [PARQUET_FILE()], Again: { files: [PARQUET_FILE()] } }));
    const r = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'bin', 'run-analysis.mjs'),
        ds,
        fixture('uhi-hists.ts'),
        '-o',
        out,
        '--format',
        'json,root-json',
        '-q',
        '--chunksize',
        '400',
      ],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, RISTRETTO_DEBUG: '' },
      },
    );
    expect(r.status, r.stderr).toBe(0);

    const files = walk(out)
      .map((f) => relative(out, f))
      .filter(
        (f) =>
          f.endsWith('.json') &&
          !f.endsWith('.root.json') &&
          !['metrics.json', 'accumulator.json', 'datasets.meta.json'].includes(f) &&
          !f.includes('checkpoint') &&
          !f.includes('cache'),
      );
    expect(files.sort()).toEqual(['met.json', 'muon/charge.json', 'muon/etaPhi.json', 'muon/pt.json', 'ptVsEta.json']);
    for (const f of files) {
      const text = readFileSync(join(out, f), 'utf8');
      const doc = parseUHI(text) as Record<
        string,
        { metadata?: Record<string, unknown>; axes: { metadata?: Record<string, unknown> }[] }
      >;
      const key = f.slice(f.lastIndexOf('/') + 1, -'.json'.length);
      expect(Object.keys(doc), f).toEqual([key]);
      expect(errorsOf(doc), f).toBe('');
      // no TLatex left anywhere in the labels
      const labels = [doc[key].metadata?.['label'], ...doc[key].axes.map((a) => a.metadata?.['label'])].filter(
        (x) => typeof x === 'string',
      ) as string[];
      for (const l of labels) expect(l, f).not.toMatch(/#[A-Za-z]/);
    }
    const met = parseUHI(readFileSync(join(out, 'met.json'), 'utf8')) as Record<
      string,
      { metadata: Record<string, unknown>; axes: { metadata: Record<string, unknown> }[] }
    >;
    expect(met.met.axes[0].metadata['label']).toBe('$E_{T}^{\\mathrm{miss}}$ [GeV]');
    expect(met.met.metadata['label']).toBe('Missing $E_{T}$');
    const pt = parseUHI(readFileSync(join(out, 'muon', 'pt.json'), 'utf8')) as Record<
      string,
      { axes: { metadata: Record<string, unknown> }[] }
    >;
    expect(pt.pt.axes[1].metadata['label']).toBe('$p_{T}^{\\mu}$ [GeV]');
    // the documents read back as histograms: both datasets present, half-weighted muons
    const back = fromUHIDocument(parseUHI(readFileSync(join(out, 'muon', 'pt.json'), 'utf8'))).pt;
    expect([...(back.axes[0] as unknown as { categories: string[] }).categories].sort()).toEqual(['Again', 'SingleMu']);
    expect(back.select('dataset', 'SingleMu').sum({ flow: true }).value).toBeCloseTo(
      back.select('dataset', 'Again').sum({ flow: true }).value,
      9,
    );
    // ROOT JSON keeps the TLatex label for ROOT
    const root = JSON.parse(readFileSync(join(out, 'met.root.json'), 'utf8'));
    expect(JSON.stringify(root)).toContain('E_{T}^{miss} [GeV]');
  });
});

describe('tlatexToMathtext', () => {
  it('turns TLatex runs into $...$ and leaves plain text alone', () => {
    expect(tlatexToMathtext('m_{#mu#mu} [GeV]')).toBe('$m_{\\mu\\mu}$ [GeV]');
    expect(tlatexToMathtext('p_{T} of the leading #mu [GeV]')).toBe('$p_{T}$ of the leading $\\mu$ [GeV]');
    expect(tlatexToMathtext('#Delta R(j, #mu)')).toBe('$\\Delta\\ R(j,\\ \\mu)$');
    expect(tlatexToMathtext('#it{p}_{T} [GeV]')).toBe('$\\mathit{p}_{T}$ [GeV]');
    expect(tlatexToMathtext('#sqrt{s} = 13 TeV')).toBe('$\\sqrt{s}$ = 13 TeV');
    for (const plain of ['MET [GeV]', 'Muon_pt', 'n_jets', '$m_{\\mu\\mu}$ [GeV]', ''])
      expect(tlatexToMathtext(plain)).toBe(plain);
  });

  it('toUHI converts labels by default and keeps them with { labels: "keep" }', () => {
    const h = new Hist(new Regular(2, 0, 1, { name: 'm', label: 'm_{#mu#mu}' }), { label: '#mu pairs' });
    expect(toUHI(h).axes[0].metadata?.['label']).toBe('$m_{\\mu\\mu}$');
    expect(toUHI(h).metadata?.['label']).toBe('$\\mu$ pairs');
    expect(toUHI(h, { labels: 'keep' }).axes[0].metadata?.['label']).toBe('m_{#mu#mu}');
    expect(h.label).toBe('#mu pairs'); // the histogram itself is untouched
  });
});
