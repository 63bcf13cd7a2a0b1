/**
 * Independent reference computations for the histogram tests: per-entry loops with explicit edge
 * comparisons and plain nested objects, sharing no code with src/hist.
 */

/** Where a value falls on an axis given by its edges: 'under', 'over' (also NaN) or the bin number. */
export function naiveBin(v: number, edges: readonly number[]): number | 'under' | 'over' {
  if (Number.isNaN(v)) return 'over';
  if (v < edges[0]) return 'under';
  if (v >= edges[edges.length - 1]) return 'over';
  for (let i = 0; i < edges.length - 1; i++) if (v >= edges[i] && v < edges[i + 1]) return i;
  throw new Error(`unreachable for ${v}`);
}

/** Edges of a regular axis as a physicist would write them. */
export function linspace(n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => (i === n ? hi : lo + ((hi - lo) * i) / n));
}

/**
 * Storage position along one axis with both flow bins present ([under, 0..n-1, over]) or with the flow
 * flags given; null when the entry is dropped.
 */
export function naiveLocal(b: number | 'under' | 'over', n: number, underflow = true, overflow = true): number | null {
  const off = underflow ? 1 : 0;
  if (b === 'under') return underflow ? 0 : null;
  if (b === 'over') return overflow ? n + off : null;
  return b + off;
}

/** The tests' one deterministic PRNG (mulberry32), re-exported for the hist tests that import it from here. */
export { rng } from '../helpers/rng.ts';

/** Per-bin accumulation of weights with a plain object keyed by bin. */
export class NaiveBins {
  sumw = new Map<string, number>();
  sumw2 = new Map<string, number>();
  add(key: string, w: number): void {
    this.sumw.set(key, (this.sumw.get(key) ?? 0) + w);
    this.sumw2.set(key, (this.sumw2.get(key) ?? 0) + w * w);
  }
}

/** Two-pass mean and sample variance per bin, from the list of (weight, sample) pairs. */
export function naiveMean(entries: { w: number; x: number }[]): {
  sumw: number;
  sumw2: number;
  mean: number;
  ssd: number;
} {
  let sumw = 0;
  let sumw2 = 0;
  let swx = 0;
  for (const e of entries) {
    sumw += e.w;
    sumw2 += e.w * e.w;
    swx += e.w * e.x;
  }
  const mean = sumw === 0 ? 0 : swx / sumw;
  let ssd = 0;
  for (const e of entries) ssd += e.w * (e.x - mean) * (e.x - mean);
  return { sumw, sumw2, mean, ssd };
}

/** Relative closeness for floating results that went through different summation orders. */
export function close(a: number, b: number, rel = 1e-9, abs = 1e-9): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  return Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));
}
