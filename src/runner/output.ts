/**
 * Writing a run's results: every histogram in the accumulator to `<out>/<key path>.json` (UHI JSON,
 * flow bins included; nested keys become folders), optionally ROOT JSON / SVG / PNG beside it, the
 * remaining leaves (counters, cutflows, arrays) to `<out>/accumulator.json`, and `<out>/metrics.json`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RistrettoError } from '../errors/index.ts';
import type { Hist } from '../hist/hist.ts';
import { stringifyUHI, toUHI } from '../hist/uhi.ts';
import type { RunMetrics } from './metrics.ts';

export const OUTPUT_FORMATS = ['json', 'root-json', 'svg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export class OutputError extends RistrettoError {}

export interface WrittenOutputs {
  /** Histogram key paths (`muon/pt`). */
  readonly histograms: string[];
  /** Files written, relative to the output folder. */
  readonly files: string[];
}

/** Parse `json,svg` into formats; an unknown name lists the known ones. */
export function parseFormats(list: string): OutputFormat[] {
  const out: OutputFormat[] = [];
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(raw)) {
      throw new OutputError(`unknown output format "${raw}"`, { format: raw }, `choose from: ${OUTPUT_FORMATS.join(', ')}`);
    }
    if (!out.includes(raw as OutputFormat)) out.push(raw as OutputFormat);
  }
  return out;
}

/** True for a Ristretto histogram (by its binary tag, so copies of the class loaded from a bundle count too). */
export function isHist(v: unknown): v is Hist {
  return typeof v === 'object' && v !== null && (v as { binaryTag?: unknown }).binaryTag === 'ristretto.Hist';
}

/** Histograms of an accumulator by key path, and the rest as a JSON-able tree (undefined when nothing is left). */
export function splitAccumulator(acc: unknown): { hists: Map<string, Hist>; rest: unknown } {
  const hists = new Map<string, Hist>();
  const walk = (v: unknown, path: string[]): unknown => {
    if (isHist(v)) {
      hists.set(path.length ? path.map(safeSegment).join('/') : 'histogram', v);
      return undefined;
    }
    if (v instanceof Map) v = Object.fromEntries([...v].map(([k, x]) => [String(k), x]));
    if (isPlainObject(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const r = walk(x, [...path, k]);
        if (r !== undefined) o[k] = r;
      }
      return Object.keys(o).length ? o : undefined;
    }
    return toJSONValue(v);
  };
  const rest = walk(acc, []);
  return { hists, rest };
}

/** Write histograms, leftover leaves and metrics into `outDir`. */
export async function writeOutputs(acc: unknown, metrics: RunMetrics, outDir: string, formats: readonly OutputFormat[] = ['json']): Promise<WrittenOutputs> {
  const { hists, rest } = splitAccumulator(acc);
  const files: string[] = [];
  const put = async (rel: string, data: string | Uint8Array) => {
    await atomicWrite(join(outDir, rel), data);
    files.push(rel);
  };
  for (const [name, h] of hists) {
    for (const f of formats) {
      switch (f) {
        case 'json':
          await put(`${name}.json`, stringifyUHI(toUHI(h), 1));
          break;
        default:
          throw new OutputError(`output format ${f} is not available yet`, { format: f }, 'use --format json');
      }
    }
  }
  if (rest !== undefined) await put('accumulator.json', JSON.stringify(rest, null, 1));
  await put('metrics.json', JSON.stringify(metrics, null, 1));
  return { histograms: [...hists.keys()], files };
}

async function atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** A key as a safe path segment: no separators, no `..`, no control characters. */
function safeSegment(k: string): string {
  const s = k.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_');
  return s === '' || s === '.' || s === '..' ? `_${s}` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Leaves as JSON: typed arrays → arrays, Sets → arrays, bigints → strings, non-finite numbers → strings. */
function toJSONValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v === undefined || v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, toJSONValue);
  if (Array.isArray(v)) return v.map((x) => (isHist(x) ? toUHI(x) : toJSONValue(x)));
  if (v instanceof Set) return [...v].map(toJSONValue);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJSONValue(x)]));
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON(): unknown }).toJSON();
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = toJSONValue(x);
  return o;
}
