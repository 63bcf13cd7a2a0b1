/**
 * Conversion to ROOT histogram objects (TH1D / TH2D / TH3D) through jsroot, and to ROOT JSON, which
 * JSROOT and ROOT's `TBufferJSON::FromJSON` read. Flow bins go to ROOT's underflow/overflow cells (zero
 * where the axis has none), Weight storage fills fSumw2, variable edges go to fXbins, category axes
 * become labelled bins.
 */
import { binLabels, isContinuous, type Axis } from './axes.ts';
import { UnsupportedHistError } from './errors.ts';
import type { Hist } from './hist.ts';
import { stridesOf } from './layout.ts';
import { create, createHistogram, toJSON, type RootAxis, type RootHist, type RootList } from './jsroot.ts';

/** Options of `toROOT`. */
export interface ToROOTOptions {
  /** Object name (default: the histogram's name, else 'h'). */
  name?: string;
  /** Title (default: the histogram's label, else its name). */
  title?: string;
  /** Title of the value axis (y for 1-D, z for 2-D). */
  valueTitle?: string;
}

function setAxis(t: RootAxis, a: Axis): void {
  t.fTitle = a.title;
  t.fNbins = a.size;
  if (isContinuous(a)) {
    t.fXmin = a.edges[0];
    t.fXmax = a.edges[a.size];
    const uniform = a.kind === 'integer' || (a.kind === 'regular' && a.transform === undefined);
    t.fXbins = uniform ? [] : Array.from(a.edges);
    return;
  }
  // categories and booleans: unit-width bins with labels, as ROOT's alphanumeric axes
  t.fXmin = 0;
  t.fXmax = a.size;
  t.fXbins = [];
  const labels = create('THashList') as unknown as RootList;
  binLabels(a).forEach((text, i) => {
    const s = create('TObjString');
    s['fString'] = text;
    s['fUniqueID'] = i + 1;
    labels.Add(s);
  });
  t.fLabels = labels;
}

/** Coordinate of each storage bin of an axis for the statistics sums (bin centres; NaN for flow bins). */
function coordinates(a: Axis): Float64Array {
  const x = new Float64Array(a.extent).fill(NaN);
  const e = isContinuous(a) ? a.edges : undefined;
  for (let i = 0; i < a.size; i++) x[i + a.offset] = e ? 0.5 * (e[i] + e[i + 1]) : i + 0.5;
  return x;
}

/**
 * The ROOT histogram object of a 1-, 2- or 3-D histogram with Double, Int64 or Weight storage.
 * The fTsumw* statistics are computed from bin centres (ROOT computes them from the filled values),
 * so ROOT's mean and RMS of the result are those of the binned distribution.
 *
 * @example
 * const th1 = toROOT(h);                  // TH1D; th1.fArray[0] is the underflow
 * writeFileSync('h.json', toROOTJSON(h)); // open with JSROOT or TBufferJSON::FromJSON
 */
export function toROOT(h: Hist, opts: ToROOTOptions = {}): RootHist {
  const nd = h.ndim;
  if (nd < 1 || nd > 3)
    throw new UnsupportedHistError(
      `ROOT histograms have 1 to 3 axes, this one has ${nd}`,
      { ndim: nd },
      'project onto at most three axes first',
    );
  const kind = h.storage.kind;
  if (kind === 'mean' || kind === 'weighted_mean')
    throw new UnsupportedHistError(
      `${kind} storage has no TH1/TH2/TH3 equivalent`,
      { storage: kind },
      'export profiles with toUHI, or fill a Weight histogram for ROOT',
    );
  const axes = h.axes;
  const n = axes.map((a) => a.size);
  const type = (['TH1D', 'TH2D', 'TH3D'] as const)[nd - 1];
  const r = createHistogram(type, n[0], n[1], n[2]);
  r.fName = opts.name ?? (h.name || 'h');
  r.fTitle = opts.title ?? (h.label || h.name);
  const rootAxes = [r.fXaxis, r.fYaxis, r.fZaxis];
  axes.forEach((a, k) => {
    setAxis(rootAxes[k], a);
    rootAxes[k].fName = ['xaxis', 'yaxis', 'zaxis'][k];
  });
  if (opts.valueTitle !== undefined) rootAxes[nd].fTitle = opts.valueTitle;

  const sumw = h.field(kind === 'weight' ? 'sum_of_weights' : 'value');
  const sumw2 = kind === 'weight' ? h.field('sum_of_weights_squared') : undefined;
  if (sumw2) r.fSumw2 = new Array<number>(r.fNcells).fill(0);
  // ROOT strides: x fastest, each axis with both flow cells
  const rootStride = [1, n[0] + 2, (n[0] + 2) * ((n[1] ?? 0) + 2)];
  const strides = stridesOf(h.extents());
  const coords = axes.map(coordinates);
  const s = { w: 0, w2: 0, x: [0, 0, 0], x2: [0, 0, 0], xy: 0, xz: 0, yz: 0 };
  const total = sumw.length;
  const local = new Int32Array(nd);
  for (let i = 0; i < total; i++) {
    let rest = i;
    let cell = 0;
    let inRange = true;
    for (let k = 0; k < nd; k++) {
      const l = Math.floor(rest / strides[k]);
      rest -= l * strides[k];
      local[k] = l;
      const a = axes[k];
      cell += (l + (a.underflow ? 0 : 1)) * rootStride[k];
      if (Number.isNaN(coords[k][l])) inRange = false;
    }
    const w = sumw[i];
    r.fArray[cell] = w;
    const w2 = sumw2 ? sumw2[i] : w;
    if (sumw2) r.fSumw2[cell] = w2;
    if (!inRange || w === 0) continue;
    const c = [0, 1, 2].map((k) => (k < nd ? coords[k][local[k]] : 0));
    s.w += w;
    s.w2 += w2;
    for (let k = 0; k < nd; k++) {
      s.x[k] += w * c[k];
      s.x2[k] += w * c[k] * c[k];
    }
    s.xy += w * c[0] * c[1];
    s.xz += w * c[0] * c[2];
    s.yz += w * c[1] * c[2];
  }
  r.fEntries = h.entries;
  r.fTsumw = s.w;
  r.fTsumw2 = s.w2;
  r.fTsumwx = s.x[0];
  r.fTsumwx2 = s.x2[0];
  if (nd >= 2) {
    r.fTsumwy = s.x[1];
    r.fTsumwy2 = s.x2[1];
    r.fTsumwxy = s.xy;
  }
  if (nd === 3) {
    r.fTsumwz = s.x[2];
    r.fTsumwz2 = s.x2[2];
    r.fTsumwxz = s.xz;
    r.fTsumwyz = s.yz;
  }
  return r;
}

/** ROOT JSON text of `toROOT(h)`. */
export function toROOTJSON(h: Hist, opts: ToROOTOptions = {}): string {
  return toJSON(toROOT(h, opts));
}
