/**
 * `ristretto view OUTDIR`: the finished outputs of a run as a ViewState. Reads every UHI histogram
 * document (`<key>.json`, as run-analysis and `ristretto draw --out x.json` write them) and bare UHI histogram
 * (older draw outputs, named after the file), metrics.json for the summary, datasets.meta.json for which datasets are data (drawn as points
 * over stacks), and fit scan
 * results (`results.json` of `ristretto fit scan --out DIR`, or `*.jsonl`: the lines of `--json`). A file that cannot be read is listed
 * on the page and skipped; the others still show.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fromUHI, fromUHIDocument, parseUHI, type Hist } from '../hist/index.ts';
import { DATASETS_FILE } from '../runner/output.ts';
import { ViewError } from './errors.ts';
import { ViewState, type ScanResult } from './state.ts';

/** Files run-analysis writes that are not histograms. */
const NOT_HISTS = new Set(['metrics.json', 'accumulator.json', DATASETS_FILE]);

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue; // .ristretto-cache, editors' files
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

function isScanLine(v: unknown): v is ScanResult {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { name?: unknown }).name === 'string' &&
    ('clsObs' in v || 'ok' in v)
  );
}

/** A single UHI histogram (`uhi_schema`, `axes`, `storage` at the top), not a document of named ones. */
function isBareUHI(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'axes' in v && 'storage' in v;
}

/**
 * What `<out>/datasets.meta.json` (run-analysis writes it beside the histograms) tells the page: the
 * datasets marked `"isData": true` and each dataset's `metadata.label` (legend text); nothing when the
 * file is missing (outputs of an older version: `ristretto view --data`). A damaged file becomes a note
 * on the page, never a failure.
 */
async function datasetsMeta(
  outDir: string,
  notes: string[],
): Promise<{ data: string[]; legend: Record<string, string> }> {
  const none = { data: [], legend: {} };
  const file = join(outDir, DATASETS_FILE);
  if (!existsSync(file)) return none;
  const skip = (why: string) => {
    notes.push(`${DATASETS_FILE}: not read (${why}); data datasets are drawn like the others unless given with --data`);
    return none;
  };
  let v: unknown;
  try {
    v = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    return skip((e as Error).message);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return skip('expected an object of datasets');
  const data: string[] = [];
  const legend: Record<string, string> = {};
  for (const [name, d] of Object.entries(v as Record<string, unknown>)) {
    if (typeof d !== 'object' || d === null) continue;
    const { isData, metadata } = d as { isData?: unknown; metadata?: { label?: unknown } };
    if (isData === true) data.push(name);
    if (typeof metadata?.label === 'string') legend[name] = metadata.label;
  }
  return { data, legend };
}

/**
 * Load an output folder.
 *
 * @example
 * const state = await loadOutputs('out');
 * const server = await startViewServer(state, { listen: '8080' });
 */
export async function loadOutputs(outDir: string, into?: ViewState): Promise<ViewState> {
  if (!existsSync(outDir) || !statSync(outDir).isDirectory())
    throw new ViewError(`no output folder ${outDir}`, { dir: outDir }, 'give the --out folder of a run-analysis run');
  const state = into ?? new ViewState({ title: outDir });
  state.notes = [];
  state.scans = [];
  ({ data: state.data, legend: state.legend } = await datasetsMeta(outDir, state.notes));
  // nested like the accumulator was, so the keys come back as the same paths (`muons/mass`)
  const hists: Record<string, unknown> = {};
  const put = (path: string, h: Hist) => {
    const parts = path.split('/');
    let node = hists;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = h;
  };
  for (const file of await walk(outDir)) {
    const rel = relative(outDir, file).split(sep).join('/');
    try {
      if (rel.endsWith('.jsonl')) {
        const results: ScanResult[] = [];
        for (const line of (await readFile(file, 'utf8')).split('\n')) {
          if (!line.trim()) continue;
          const v = JSON.parse(line) as unknown;
          if (isScanLine(v)) results.push(v);
        }
        if (results.length) state.scans.push({ file: rel, results });
        continue;
      }
      if (!rel.endsWith('.json') || rel.endsWith('.root.json') || NOT_HISTS.has(rel)) continue;
      const text = await readFile(file, 'utf8');
      const raw = parseUHI(text) as { format?: unknown; results?: unknown };
      // `ristretto fit scan --out DIR` writes results.json in this format
      if (raw && raw.format === 'ristretto-fit-scan' && Array.isArray(raw.results)) {
        state.scans.push({ file: rel, results: raw.results.filter(isScanLine) });
        continue;
      }
      // documents {name: histogram} (run-analysis, draw), or one bare histogram (older versions of draw)
      const doc = isBareUHI(raw)
        ? { [rel.split('/').pop()?.slice(0, -'.json'.length) ?? rel]: fromUHI(raw) }
        : fromUHIDocument(raw);
      const names = Object.keys(doc);
      const stem = rel.slice(0, -'.json'.length);
      // run-analysis writes one histogram per file, named after the last key segment
      for (const n of names) put(names.length === 1 ? stem : `${stem}/${n}`, doc[n]);
    } catch (e) {
      state.notes.push(`${rel}: not shown (${(e as Error).message.split('\n')[0]})`);
    }
  }
  let metrics: Record<string, unknown> | undefined;
  const metricsFile = join(outDir, 'metrics.json');
  if (existsSync(metricsFile)) {
    try {
      metrics = JSON.parse(await readFile(metricsFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      state.notes.push(`metrics.json: not read (${(e as Error).message})`);
    }
  }
  if (!Object.keys(hists).length && !state.scans.length) {
    throw new ViewError(
      `${outDir} holds no histogram JSON and no fit scan results`,
      { dir: outDir, notes: state.notes },
      'run-analysis writes <key>.json files with --format json (the default); fit scans: ristretto fit scan --out OUTDIR',
    );
  }
  const num = (k: string) => (typeof metrics?.[k] === 'number' ? (metrics[k] as number) : undefined);
  const faas = metrics?.['faas'] as Record<string, unknown> | undefined;
  state.setProgress({
    state: 'finished',
    done: num('chunks'),
    total: num('chunksTotal'),
    events: num('events'),
    eventsPerSecond: num('eventsPerSecond'),
    elapsedSeconds: num('wallSeconds'),
    retries: num('retries'),
    executor: typeof metrics?.['executor'] === 'string' ? (metrics['executor'] as string) : undefined,
    ...(faas && Array.isArray(faas['endpoints'])
      ? {
          endpoints: faas['endpoints'] as Array<Record<string, unknown>>,
          faas: Object.fromEntries(Object.entries(faas).filter(([, v]) => typeof v === 'number')),
        }
      : {}),
  });
  state.setAccumulator(hists);
  state.flush();
  return state;
}

/**
 * Reload the outputs into `state` whenever metrics.json (which run-analysis writes last) changes, e.g.
 * while `run-analysis --watch` rewrites them; open pages get the changed histograms. Returns a stop
 * function.
 *
 * @example
 * const state = await loadOutputs('out');
 * const stop = followOutputs('out', state);
 */
export function followOutputs(outDir: string, state: ViewState, intervalMs = 2000): () => void {
  const metricsFile = join(outDir, 'metrics.json');
  const stamp = () => (existsSync(metricsFile) ? statSync(metricsFile).mtimeMs : 0);
  let last = stamp();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const now = stamp();
    if (now === last) return;
    last = now;
    busy = true;
    loadOutputs(outDir, state)
      .catch((e: unknown) => state.notes.push(`reload failed: ${(e as Error).message}`))
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
