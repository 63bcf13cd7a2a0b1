/**
 * Closest-name suggestions for "not found" messages (branches, trees, fields, selections, weight
 * variations, binary type tags...). One ranking for the whole code base, so every "closest: ..." list
 * reads the same way.
 */

/**
 * Levenshtein distance between `a` and `b` (insert, delete, substitute; each costs 1), case-sensitive.
 * Two rows of the table only, so it costs O(|b|) memory.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** Options of {@link closestNames}. */
export interface ClosestNamesOptions {
  /**
   * Leave out candidates too far off to be what the user meant: more edits than a third of the longer
   * name (at least one edit is always allowed). Off by default, so a list is never empty while there are
   * candidates.
   */
  readonly nearOnly?: boolean;
}

/**
 * Up to `limit` of `candidates` closest to `name`, nearest first.
 *
 * Names are compared case-insensitively (names differ in case more often than in spelling, so
 * `MET_pT` suggests `MET_pt` first). A candidate that contains the name or is contained in it
 * (`Muon_ptt` / `Muon_pt`, `nJets` / `nJet`) counts as at most one edit away. Ties go to the smaller
 * plain edit distance, then keep the candidates' order. A candidate listed more than once (a name
 * that occurs twice in a file, or reached by two routes) is suggested once.
 */
export function closestNames(
  name: string,
  candidates: Iterable<string>,
  limit = 5,
  options: ClosestNamesOptions = {},
): string[] {
  const lower = name.toLowerCase();
  const scored: { c: string; d: number; raw: number; i: number }[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    const cl = c.toLowerCase();
    const raw = editDistance(lower, cl);
    const d = cl.includes(lower) || lower.includes(cl) ? Math.min(1, raw) : raw;
    if (options.nearOnly && d > Math.max(1, Math.floor(Math.max(c.length, name.length) / 3))) {
      i++;
      continue;
    }
    scored.push({ c, d, raw, i: i++ });
  }
  scored.sort((x, y) => x.d - y.d || x.raw - y.raw || x.i - y.i);
  return scored.slice(0, limit).map((s) => s.c);
}
