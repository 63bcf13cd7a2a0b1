/** Closest-name suggestions for "not found" messages. */

/** Edit distance (insert, delete, substitute; each costs 1). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * Up to `max` candidates closest to `name`: case-insensitive matches first, then by edit distance
 * (ties keep the candidates' order).
 */
export function closest(name: string, candidates: readonly string[], max = 5): string[] {
  const lower = name.toLowerCase();
  return candidates
    .map((c, i) => ({ c, i, d: c.toLowerCase() === lower ? -1 : levenshtein(lower, c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.i - y.i)
    .slice(0, max)
    .map((x) => x.c);
}
