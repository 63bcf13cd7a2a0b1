/**
 * Histograms as ROOT objects (TH1D/TH2D/TH3D, ROOT JSON) and as plots (SVG, PNG). Two kinds of plots:
 * `figureSVG`/`figurePNG` draw slide-ready figures (stack of simulation, data points, ratio panel,
 * experiment label; 2-D colour maps) with Ristretto's own SVG kit and bundled fonts; `plotSVG`/`stackSVG`
 * draw through jsroot (ROOT's look). `linePlotSVG` draws line series (scaling studies).
 * Kept apart from `ristretto/hist` because it loads jsroot and resvg, which a processor never needs.
 *
 * @example
 * import { Hist, Regular } from 'ristretto';
 * import { figurePNG, toROOTJSON } from 'ristretto/plot';
 * const h = new Hist(new Regular(50, 0, 200, { name: 'met', label: 'E_{T}^{miss} [GeV]' }));
 * h.fill(Float64Array.of(20, 35, 35, 80));
 * const json = toROOTJSON(h);                 // TH1D in ROOT JSON (jsroot, ROOT's TBufferJSON)
 * const png = figurePNG(h, { label: 'CMS Open Data', lumi: 11.6, sqrts: 8, logy: true });
 */
export { toROOT, toROOTJSON, type ToROOTOptions } from './root.ts';
export type { RootHist, RootAxis, RootStack } from './jsroot.ts';
export { plotSVG, plotPNG, stackSVG, stackPNG, svgToPNG, type PlotOptions, type StackOptions } from './plot.ts';
export { figureSVG, figurePNG, type FigureOptions } from './publication.ts';
export { colormapSVG, type ColormapOptions } from './colormap.ts';
export { linePlotSVG, linePlotPNG, type LineSeries, type LinePlotOptions } from './lines.ts';
export { svgToPNGBundled, FONT_FAMILY } from './fonts.ts';
