/** Closest-name suggestions for "not found" messages. */

/** Levenshtein distance, case-insensitive (names differ in case more often than in spelling). */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** Up to `n` candidates closest to `name`, nearest first; substring matches rank ahead of edits. */
export function closestNames(name: string, candidates: Iterable<string>, n = 5): string[] {
  const lower = name.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = cl.includes(lower) || lower.includes(cl) ? Math.abs(cl.length - lower.length) * 0.01 : distance(name, c);
    scored.push({ c, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : 1));
  return scored.slice(0, n).map((s) => s.c);
}
