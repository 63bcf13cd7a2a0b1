/**
 * Contours on scattered points (signal grids are not rectangular): a Delaunay triangulation
 * (Bowyer–Watson) and the level crossing of a linearly interpolated field on each triangle. Signal
 * grids have a few hundred points, so the quadratic triangulation is far below a millisecond's worth
 * of the scan.
 */

/** Triangles of the Delaunay triangulation of (xs, ys): three point indices per triangle. */
export function delaunay(xs: ArrayLike<number>, ys: ArrayLike<number>): Uint32Array {
  const n = xs.length;
  if (n < 3) return new Uint32Array(0);
  // Work in the unit box: mass axes of different ranges would otherwise give slivers.
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, xs[i]);
    x1 = Math.max(x1, xs[i]);
    y0 = Math.min(y0, ys[i]);
    y1 = Math.max(y1, ys[i]);
  }
  const sx = x1 > x0 ? x1 - x0 : 1;
  const sy = y1 > y0 ? y1 - y0 : 1;
  const px = new Float64Array(n + 3);
  const py = new Float64Array(n + 3);
  for (let i = 0; i < n; i++) {
    px[i] = (xs[i] - x0) / sx;
    py[i] = (ys[i] - y0) / sy;
  }
  // A super-triangle well outside the unit box.
  px[n] = -10;
  py[n] = -10;
  px[n + 1] = 12;
  py[n + 1] = -10;
  px[n + 2] = 0.5;
  py[n + 2] = 12;
  type Tri = { a: number; b: number; c: number; cx: number; cy: number; r2: number };
  const make = (a: number, b: number, c: number): Tri => {
    const ax = px[a],
      ay = py[a],
      bx = px[b],
      by = py[b],
      cx = px[c],
      cy = py[c];
    const d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
    const a2 = ax * ax + ay * ay,
      b2 = bx * bx + by * by,
      c2 = cx * cx + cy * cy;
    const ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d;
    const uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d;
    return { a, b, c, cx: ux, cy: uy, r2: (ax - ux) ** 2 + (ay - uy) ** 2 };
  };
  let tris: Tri[] = [make(n, n + 1, n + 2)];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const key = `${px[i]},${py[i]}`;
    if (seen.has(key)) continue; // a duplicate point adds nothing
    seen.add(key);
    const x = px[i],
      y = py[i];
    const bad: Tri[] = [];
    const keep: Tri[] = [];
    for (const t of tris) ((x - t.cx) ** 2 + (y - t.cy) ** 2 < t.r2 * (1 + 1e-12) ? bad : keep).push(t);
    // The cavity's boundary: edges of bad triangles not shared by two of them.
    const edges = new Map<string, [number, number]>();
    for (const t of bad) {
      for (const [p, q] of [
        [t.a, t.b],
        [t.b, t.c],
        [t.c, t.a],
      ] as const) {
        const k = p < q ? `${p},${q}` : `${q},${p}`;
        if (edges.has(k)) edges.delete(k);
        else edges.set(k, [p, q]);
      }
    }
    for (const [p, q] of edges.values()) {
      const cross = (px[q] - px[p]) * (y - py[p]) - (py[q] - py[p]) * (x - px[p]);
      if (Math.abs(cross) > 1e-14) keep.push(make(p, q, i));
    }
    tris = keep;
  }
  const out: number[] = [];
  for (const t of tris) if (t.a < n && t.b < n && t.c < n) out.push(t.a, t.b, t.c);
  return Uint32Array.from(out);
}

/**
 * Segments where the linearly interpolated field `v` crosses `level`, one per triangle the level
 * passes through: [x1, y1, x2, y2] each. Vertices exactly at the level count as above it, so a
 * contour never has zero-length pieces.
 */
export function contourSegments(
  tris: Uint32Array,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  v: ArrayLike<number>,
  level: number,
): number[][] {
  const segs: number[][] = [];
  for (let t = 0; t < tris.length; t += 3) {
    const idx = [tris[t], tris[t + 1], tris[t + 2]];
    if (idx.some((i) => !Number.isFinite(v[i]))) continue;
    const pts: number[] = [];
    for (let e = 0; e < 3; e++) {
      const i = idx[e],
        j = idx[(e + 1) % 3];
      const a = v[i] >= level,
        b = v[j] >= level;
      if (a === b) continue;
      const f = (level - v[i]) / (v[j] - v[i]);
      pts.push(xs[i] + f * (xs[j] - xs[i]), ys[i] + f * (ys[j] - ys[i]));
    }
    if (pts.length === 4) segs.push(pts);
  }
  return segs;
}

/** A vertex of a clipped polygon: position and field value. */
type Vertex = [x: number, y: number, v: number];

/** Twice the signed area of a polygon (shoelace formula). */
function area2(poly: Vertex[]): number {
  let a = 0;
  for (let m = 0; m < poly.length; m++) {
    const p = poly[m],
      q = poly[(m + 1) % poly.length];
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a;
}

/** Keeps the part of a convex polygon where `sign · (v − level) ≥ 0` (one Sutherland–Hodgman pass). */
function clipAt(poly: Vertex[], level: number, sign: 1 | -1): Vertex[] {
  const out: Vertex[] = [];
  for (let k = 0; k < poly.length; k++) {
    const p = poly[k],
      q = poly[(k + 1) % poly.length];
    const pin = sign * (p[2] - level) >= 0,
      qin = sign * (q[2] - level) >= 0;
    if (pin) out.push(p);
    if (pin !== qin) {
      const f = (level - p[2]) / (q[2] - p[2]);
      out.push([p[0] + f * (q[0] - p[0]), p[1] + f * (q[1] - p[1]), level]);
    }
  }
  return out;
}

/**
 * Filled contours: each triangle cut into the pieces where the linearly interpolated field `v` lies
 * between consecutive `levels` (ascending). Band k is [levels[k], levels[k+1]]; a triangle that lies
 * in one band is returned whole. The pieces of all bands tile the triangulation where `v` is within
 * [levels[0], levels[last]] (callers clamp `v` to that range to fill everything), and their edges
 * follow exactly the lines {@link contourSegments} draws at the same levels.
 *
 * @returns one entry per piece: its band and its polygon as [x0, y0, x1, y1, ...].
 */
export function contourBands(
  tris: Uint32Array,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  v: ArrayLike<number>,
  levels: readonly number[],
): { band: number; polygon: number[] }[] {
  const out: { band: number; polygon: number[] }[] = [];
  for (let t = 0; t < tris.length; t += 3) {
    const tri: Vertex[] = [0, 1, 2].map((k) => {
      const i = tris[t + k];
      return [xs[i], ys[i], v[i]] as Vertex;
    });
    if (tri.some((p) => !Number.isFinite(p[2]))) continue;
    const triArea = Math.abs(area2(tri));
    const lo = Math.min(tri[0][2], tri[1][2], tri[2][2]);
    const hi = Math.max(tri[0][2], tri[1][2], tri[2][2]);
    for (let k = 0; k + 1 < levels.length; k++) {
      const a = levels[k],
        b = levels[k + 1];
      if (hi < a || lo > b) continue;
      let poly = tri;
      if (lo < a) poly = clipAt(poly, a, 1);
      if (hi > b && poly.length >= 3) poly = clipAt(poly, b, -1);
      if (poly.length < 3) continue;
      // A piece that touches the band only along an edge or at a vertex has no area: skip it.
      if (Math.abs(area2(poly)) <= 1e-12 * triArea) continue;
      out.push({ band: k, polygon: poly.flatMap((p) => [p[0], p[1]]) });
    }
  }
  return out;
}
