/**
 * Histograms as ROOT objects (TH1D/TH2D/TH3D, ROOT JSON) and as plots (SVG, PNG), drawn by jsroot.
 * Kept apart from `ristretto/hist` because it loads jsroot, which a processor never needs.
 *
 * @example
 * import { Hist, Regular } from 'ristretto';
 * import { plotPNG, toROOTJSON } from 'ristretto/plot';
 * const h = new Hist(new Regular(50, 0, 200, { name: 'met', label: 'E_{T}^{miss} [GeV]' }));
 * h.fill(Float64Array.of(20, 35, 35, 80));
 * const json = toROOTJSON(h);                 // TH1D in ROOT JSON (jsroot, ROOT's TBufferJSON)
 * const png = await plotPNG(h, { width: 800, height: 600 });
 */
export { toROOT, toROOTJSON, type ToROOTOptions } from './root.ts';
export type { RootHist, RootAxis, RootStack } from './jsroot.ts';
export { plotSVG, plotPNG, stackSVG, stackPNG, svgToPNG, type PlotOptions, type StackOptions } from './plot.ts';
