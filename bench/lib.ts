/** Helpers the benchmarks share: command-line numbers and a seeded random source. */

/** The number after `--name` on the command line, or `fallback`. */
export function arg(name: string, fallback: number): number {
  const text = argText(name);
  return text === undefined ? fallback : Number(text);
}

/** The word after `--name` on the command line (a path, a list), or `fallback`. */
export function argText(name: string): string | undefined;
export function argText(name: string, fallback: string): string;
export function argText(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** xorshift32: uniform numbers in [0, 1), the same sequence for a seed in every process. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
