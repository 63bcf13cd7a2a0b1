/**
 * The eight ADL benchmark queries as histogram specs and DuckDB SQL, shared by bench/adl.ts (warm
 * processChunk) and bench/adl-e2e.ts (whole commands end to end). Histograms match processors/adl/query-N.ts.
 */

/**
 * Published per-core rates of coffea on the ADL tasks (events/s), for the table. Source: the ADL-benchmark
 * notebook behind N. Smith, L. Gray, ACAT 2021, J. Phys.: Conf. Ser. 2438 (2023) 012033 — coffea's
 * `savemetrics` over 53,446,198 events, 24 workers; per core = events / `processtime` (chunk processing
 * time summed over workers: start-up and merge left out). Transcribed in bench/RESULTS.md, "Session 13:
 * per-core rates and root:// at 20 M", table "Published per-core rates next to ours".
 */
export const COFFEA: Record<number, number> = {
  1: 19.2e6,
  2: 5.15e6,
  3: 2.55e6,
  4: 3.92e6,
  5: 1.36e6,
  6: 0.216e6,
  7: 0.681e6,
  8: 0.875e6,
};

/**
 * Published RDataFrame rates, one thread (events/s), Q1–Q5 only (Q6–Q8 were not found). Source:
 * root-project/rootbench#219 (2021), the rerun in its comments: the *jitted* variant (cling compiles the
 * query strings inside the timed region), on 10 M events (assumed from the benchmark source) on an
 * unstated machine — a lower bound on RDataFrame today, not a like-for-like figure (the compiled-lambda
 * variant is said to be ~3× faster). Transcribed in the same bench/RESULTS.md section as `COFFEA`.
 */
export const RDATAFRAME: Record<number, number> = { 1: 3.5e6, 2: 1.8e6, 3: 0.77e6, 4: 0.7e6, 5: 1.3e6 };

export interface HistSpec {
  name: string;
  bins: number;
  lo: number;
  hi: number;
}

export interface Query {
  id: number;
  hists: HistSpec[];
  /**
   * SQL formulations producing one column per histogram (x1, x2, ...) over the view `events` (which has
   * `file_row_number` as an event id). bench/adl.ts times each and credits DuckDB with the fastest;
   * bench/adl-e2e.ts runs one, `duckdbForm(id)`.
   */
  sql: Record<string, string>;
}

/**
 * The formulation bench/adl-e2e.ts runs (one fresh process per run, so it cannot afford to try both):
 * `joins` for Q6 and Q7, `lists` for the rest (Q1–Q4 have only `lists`). That is the form bench/adl.ts
 * found fastest for each query on its 2 M-event file (bench/RESULTS.md, "ADL benchmark"); not re-checked
 * at 20 M, where the other form could be faster (`--duckdb-form` in adl-e2e.ts runs the other one).
 */
export function duckdbForm(id: number): string {
  return id === 6 || id === 7 ? 'joins' : 'lists';
}

const h = (name: string, bins: number, lo: number, hi: number): HistSpec => ({ name, bins, lo, hi });

// Two SQL styles where they differ: `lists` keeps one row per event and works on the lists with lambdas
// (DuckDB's `lambda x: ...` form); `joins` unnests objects to rows keyed by file_row_number and self-joins.
export const QUERIES: Query[] = [
  { id: 1, hists: [h('query-1', 100, 0, 2000)], sql: { lists: `SELECT MET.pt AS x1 FROM events` } },
  {
    id: 2,
    hists: [h('query-2', 100, 15, 60)],
    sql: { lists: `SELECT unnest(list_transform(Jet, lambda j: j.pt)) AS x1 FROM events` },
  },
  {
    id: 3,
    hists: [h('query-3', 100, 15, 60)],
    sql: {
      lists: `SELECT unnest(list_transform(list_filter(Jet, lambda j: abs(j.eta) < 1), lambda j: j.pt)) AS x1 FROM events`,
    },
  },
  {
    id: 4,
    hists: [h('query-4', 100, 0, 2000)],
    sql: { lists: `SELECT MET.pt AS x1 FROM events WHERE len(list_filter(Jet, lambda j: j.pt > 40)) >= 2` },
  },
  {
    id: 5,
    hists: [h('query-5', 100, 0, 2000)],
    sql: {
      lists: `SELECT MET.pt AS x1 FROM events
          WHERE len(Muon) >= 2 AND list_bool_or(flatten(list_transform(range(1, len(Muon)), lambda i:
            list_transform(range(i + 1, len(Muon) + 1), lambda k:
              Muon[i].charge * Muon[k].charge < 0 AND mass2(Muon[i], Muon[k]) BETWEEN 60 AND 120))))`,
      joins: `WITH v AS (
            SELECT ev, met, i, charge, pt * cos(phi) AS x, pt * sin(phi) AS y, pt * sinh(eta) AS z, sqrt(pow(pt * cosh(eta), 2) + mass * mass) AS e
            FROM (SELECT file_row_number AS ev, MET.pt AS met, generate_subscripts(Muon, 1) AS i, unnest(Muon, recursive := true) FROM events WHERE len(Muon) >= 2))
          SELECT any_value(a.met) AS x1 FROM v a JOIN v b ON a.ev = b.ev AND a.i < b.i
          WHERE a.charge * b.charge < 0 AND sqrt(greatest(0, pow(a.e + b.e, 2) - pow(a.x + b.x, 2) - pow(a.y + b.y, 2) - pow(a.z + b.z, 2))) BETWEEN 60 AND 120
          GROUP BY a.ev`,
    },
  },
  {
    id: 6,
    hists: [h('query-6-1', 100, 15, 40), h('query-6-2', 100, 0, 1)],
    sql: {
      lists: `WITH c AS (
            SELECT Jet, list_min(flatten(flatten(list_transform(range(1, len(Jet) - 1), lambda i:
              list_transform(range(i + 1, len(Jet)), lambda j:
                list_transform(range(j + 1, len(Jet) + 1), lambda k:
                  {d: abs(mass3(Jet[i], Jet[j], Jet[k]) - 172.5), i: i, j: j, k: k})))))) AS b
            FROM events WHERE len(Jet) >= 3)
          SELECT sqrt(pow(px(Jet[b.i]) + px(Jet[b.j]) + px(Jet[b.k]), 2) + pow(py(Jet[b.i]) + py(Jet[b.j]) + py(Jet[b.k]), 2)) AS x1,
                 greatest(Jet[b.i].btag, Jet[b.j].btag, Jet[b.k].btag) AS x2
          FROM c`,
      joins: `WITH j AS (
            SELECT ev, i, pt * cos(phi) AS x, pt * sin(phi) AS y, pt * sinh(eta) AS z, sqrt(pow(pt * cosh(eta), 2) + mass * mass) AS e, btag
            FROM (SELECT file_row_number AS ev, generate_subscripts(Jet, 1) AS i, unnest(Jet, recursive := true) FROM events WHERE len(Jet) >= 3)),
          t AS (
            SELECT a.ev, a.x + b.x + c.x AS x, a.y + b.y + c.y AS y, a.z + b.z + c.z AS z, a.e + b.e + c.e AS e, greatest(a.btag, b.btag, c.btag) AS btag
            FROM j a JOIN j b ON a.ev = b.ev AND a.i < b.i JOIN j c ON b.ev = c.ev AND b.i < c.i),
          m AS (SELECT ev, sqrt(x * x + y * y) AS pt, btag, abs(sqrt(greatest(0, e * e - x * x - y * y - z * z)) - 172.5) AS d FROM t)
          SELECT arg_min(pt, d) AS x1, arg_min(btag, d) AS x2 FROM m GROUP BY ev`,
    },
  },
  {
    id: 7,
    hists: [h('query-7', 100, 15, 200)],
    sql: {
      lists: `WITH e AS (
            SELECT Jet, list_filter(list_concat(list_transform(Muon, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi}),
                                                list_transform(Electron, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi})),
                                    lambda l: l.pt > 10) AS lep
            FROM events),
          s AS (
            SELECT list_transform(list_filter(Jet, lambda j: j.pt > 30 AND len(list_filter(lep, lambda l: dr2(j, l) < 0.16)) = 0),
                                  lambda j: j.pt) AS pts
            FROM e)
          SELECT list_sum(pts) AS x1 FROM s WHERE len(pts) > 0`,
      joins: `WITH jets AS (
            SELECT ev, i, pt, eta, phi FROM (SELECT file_row_number AS ev, generate_subscripts(Jet, 1) AS i, unnest(Jet, recursive := true) FROM events) WHERE pt > 30),
          leps AS (
            SELECT ev, eta, phi FROM (SELECT file_row_number AS ev, unnest(Muon, recursive := true) FROM events) WHERE pt > 10
            UNION ALL
            SELECT ev, eta, phi FROM (SELECT file_row_number AS ev, unnest(Electron, recursive := true) FROM events) WHERE pt > 10),
          near AS (SELECT DISTINCT j.ev, j.i FROM jets j JOIN leps l ON j.ev = l.ev WHERE dr2(j, l) < 0.16)
          SELECT sum(j.pt) AS x1 FROM jets j ANTI JOIN near n ON j.ev = n.ev AND j.i = n.i GROUP BY j.ev`,
    },
  },
  {
    id: 8,
    hists: [h('query-8', 100, 15, 250)],
    sql: {
      lists: `WITH l AS (
            SELECT MET AS met, list_concat(
                list_transform(Muon, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi, mass: m.mass, charge: m.charge, f: 0}),
                list_transform(Electron, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi, mass: m.mass, charge: m.charge, f: 1})) AS lep
            FROM events WHERE len(Muon) + len(Electron) >= 3),
          p AS (
            SELECT met, lep, list_min(flatten(list_transform(range(1, len(lep)), lambda i:
              list_transform(list_filter(range(i + 1, len(lep) + 1), lambda k: lep[i].f = lep[k].f AND lep[i].charge * lep[k].charge < 0),
                             lambda k: {d: abs(mass2(lep[i], lep[k]) - 91.2), i: i, k: k})))) AS best
            FROM l),
          o AS (
            SELECT met, list_max(list_transform(list_filter(range(1, len(lep) + 1), lambda q: q != best.i AND q != best.k),
                                                lambda q: {pt: lep[q].pt, phi: lep[q].phi})) AS lead
            FROM p WHERE best IS NOT NULL)
          SELECT sqrt(2 * met.pt * lead.pt * (1 - cos(met.phi - lead.phi))) AS x1 FROM o`,
      joins: `WITH sel AS (SELECT * FROM events WHERE len(Muon) + len(Electron) >= 3),
          l AS (
            SELECT ev, metpt, metphi, 0 AS f, i, pt, eta, phi, mass, charge
            FROM (SELECT file_row_number AS ev, MET.pt AS metpt, MET.phi AS metphi, generate_subscripts(Muon, 1) AS i, unnest(Muon, recursive := true) FROM sel)
            UNION ALL
            SELECT ev, metpt, metphi, 1 AS f, i, pt, eta, phi, mass, charge
            FROM (SELECT file_row_number AS ev, MET.pt AS metpt, MET.phi AS metphi, generate_subscripts(Electron, 1) AS i, unnest(Electron, recursive := true) FROM sel)),
          v AS (SELECT *, pt * cos(phi) AS x, pt * sin(phi) AS y, pt * sinh(eta) AS z, sqrt(pow(pt * cosh(eta), 2) + mass * mass) AS e FROM l),
          p AS (
            SELECT a.ev, a.f, a.i AS i, b.i AS k, abs(sqrt(greatest(0, pow(a.e + b.e, 2) - pow(a.x + b.x, 2) - pow(a.y + b.y, 2) - pow(a.z + b.z, 2))) - 91.2) AS d
            FROM v a JOIN v b ON a.ev = b.ev AND a.f = b.f AND a.i < b.i WHERE a.charge * b.charge < 0),
          best AS (SELECT ev, arg_min({f: f, i: i, k: k}, {d: d, f: f, i: i, k: k}) AS b FROM p GROUP BY ev),
          o AS (
            SELECT v.ev, any_value(v.metpt) AS metpt, any_value(v.metphi) AS metphi, max(v.pt) AS pt, arg_max(v.phi, v.pt) AS phi
            FROM v JOIN best ON v.ev = best.ev
            WHERE NOT (v.f = best.b.f AND (v.i = best.b.i OR v.i = best.b.k))
            GROUP BY v.ev)
          SELECT sqrt(2 * metpt * pt * (1 - cos(metphi - phi))) AS x1 FROM o`,
    },
  },
];

export const MACROS = [
  `CREATE MACRO px(o) AS o.pt * cos(o.phi)`,
  `CREATE MACRO py(o) AS o.pt * sin(o.phi)`,
  `CREATE MACRO pz(o) AS o.pt * sinh(o.eta)`,
  `CREATE MACRO en(o) AS sqrt(pow(o.pt * cosh(o.eta), 2) + o.mass * o.mass)`,
  `CREATE MACRO mass2(a, b) AS sqrt(greatest(0, pow(en(a) + en(b), 2) - pow(px(a) + px(b), 2) - pow(py(a) + py(b), 2) - pow(pz(a) + pz(b), 2)))`,
  `CREATE MACRO mass3(a, b, c) AS sqrt(greatest(0, pow(en(a) + en(b) + en(c), 2) - pow(px(a) + px(b) + px(c), 2) - pow(py(a) + py(b) + py(c), 2) - pow(pz(a) + pz(b) + pz(c), 2)))`,
  `CREATE MACRO dphi(d) AS d - 2 * pi() * floor((d + pi()) / (2 * pi()))`,
  `CREATE MACRO dr2(a, b) AS pow(a.eta - b.eta, 2) + pow(dphi(a.phi - b.phi), 2)`,
];

/** The query's values binned in SQL exactly like a Regular axis: floor((x − lo) · bins/(hi − lo)) in float64. */
export function binnedSql(q: Query, sql: string): string {
  const binExpr = (s: HistSpec, col: string) =>
    `CASE WHEN ${col} IS NULL OR isnan(${col}::DOUBLE) OR ${col}::DOUBLE >= ${s.hi} THEN ${s.bins + 1} WHEN ${col}::DOUBLE < ${s.lo} THEN 0 ` +
    `ELSE 1 + floor((${col}::DOUBLE - ${s.lo}) * ${s.bins / (s.hi - s.lo)})::INTEGER END`;
  const bins = q.hists.map((s, i) => `${binExpr(s, `x${i + 1}`)} AS b${i + 1}`).join(', ');
  const keys = q.hists.map((_, i) => `b${i + 1}`).join(', ');
  return `SELECT ${keys}, count(*)::DOUBLE AS n FROM (SELECT ${bins} FROM (${sql})) GROUP BY ${keys}`;
}
