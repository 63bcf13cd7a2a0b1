/** Ranking of candidate names by similarity, for "not found; closest: ..." messages. */

/** Levenshtein distance, case-insensitive (a case slip should rank first, not last). */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = new Array<number>(t.length + 1);
  let cur = new Array<number>(t.length + 1);
  for (let j = 0; j <= t.length; j++) prev[j] = j;
  for (let i = 1; i <= s.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const sub = prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[t.length]!;
}

/**
 * Up to `limit` candidates closest to `name`. Candidates that contain the name (or are contained in it)
 * rank just behind exact-distance ties, so `Muon_ptt` still suggests `Muon_pt` before `Muon_eta`.
 */
export function closestNames(name: string, candidates: Iterable<string>, limit = 5): string[] {
  const lower = name.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const cl = c.toLowerCase();
    let d = distance(name, c);
    if (cl.includes(lower) || lower.includes(cl)) d -= 0.5;
    scored.push({ c, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : x.c > y.c ? 1 : 0));
  return scored.slice(0, limit).map((x) => x.c);
}
