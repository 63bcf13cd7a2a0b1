/**
 * Narrow typings for the few jsroot functions the histogram module uses. jsroot declares its modules as
 * `any`; this facade gives them the shapes we rely on. `jsroot/core` (object creation, ROOT JSON) loads
 * in ~20 ms and is imported statically; the drawing half of jsroot takes ~0.7 s to load and is imported
 * on first use only (`loadPainter`).
 */
/// <reference path="../types/jsroot-vendor.d.ts" />
import * as core from '#jsroot/core';

/** The parts of ROOT's TAxis we set. */
export interface RootAxis {
  fName: string;
  fTitle: string;
  fNbins: number;
  fXmin: number;
  fXmax: number;
  /** Variable bin edges (fNbins + 1 of them), empty for equal-width axes. */
  fXbins: number[];
  /** Distance of the title from the axis, in units of the default. */
  fTitleOffset: number;
  /** Bin labels of category axes (THashList of TObjString, fUniqueID = bin number from 1). */
  fLabels: RootList | null;
}

/** A TList / THashList as jsroot builds them. */
export interface RootList {
  _typename: string;
  arr: unknown[];
  opt: string[];
  Add(obj: unknown, opt?: string): void;
}

/** The parts of ROOT's TH1 / TH2 / TH3 (double flavour) we set. */
export interface RootHist {
  _typename: 'TH1D' | 'TH2D' | 'TH3D';
  fName: string;
  fTitle: string;
  fBits: number;
  fNcells: number;
  fXaxis: RootAxis;
  fYaxis: RootAxis;
  fZaxis: RootAxis;
  /** Bin contents, flow bins in place: bin = ix + (nx+2)·(iy + (ny+2)·iz). */
  fArray: Float64Array;
  /** Sum of squared weights per bin; empty unless weights were tracked. */
  fSumw2: number[];
  fEntries: number;
  fTsumw: number;
  fTsumw2: number;
  fTsumwx: number;
  fTsumwx2: number;
  fTsumwy?: number;
  fTsumwy2?: number;
  fTsumwxy?: number;
  fTsumwz?: number;
  fTsumwz2?: number;
  fTsumwxz?: number;
  fTsumwyz?: number;
  fFillColor: number;
  fFillStyle: number;
  fLineColor: number;
  fLineWidth: number;
  fMarkerColor: number;
  fMarkerStyle: number;
  fMinimum: number;
  fMaximum: number;
}

/** ROOT's THStack. */
export interface RootStack {
  _typename: 'THStack';
  fName: string;
  fTitle: string;
  fHists: RootList;
  fHistogram: RootHist | null;
  /** Upper end of the value axis (-1111: automatic). */
  fMaximum: number;
  /** Lower end of the value axis (-1111: automatic). */
  fMinimum: number;
}

/** Generic ROOT object made by `create` (TLegend, TLegendEntry, TCanvas, TObjString, THashList...). */
export type RootObject = Record<string, unknown> & { _typename: string };

/** ROOT's kNoStats bit: no statistics box. */
export const kNoStats: number = core.kNoStats as number;

/** An empty TH1D / TH2D / TH3D with the given bin counts. */
export const createHistogram = core.createHistogram as (
  type: 'TH1D' | 'TH2D' | 'TH3D',
  nx: number,
  ny?: number,
  nz?: number,
) => RootHist;

/** A THStack of histograms, drawn in order (the first at the bottom). */
export const createTHStack = core.createTHStack as (...hists: RootHist[]) => RootStack;

/** Any ROOT object by class name, with ROOT's default member values. */
export const create = core.create as (typename: string) => RootObject;

/** ROOT JSON (TBufferJSON's format) of an object; readable by JSROOT and ROOT's TBufferJSON::FromJSON. */
export const toJSON = core.toJSON as (obj: object, spacing?: number) => string;

/** The drawing half of jsroot. */
export interface Painter {
  makeSVG(args: { object: object; option?: string; width: number; height: number }): Promise<string>;
  svgToImage(svg: string, format: 'png', args: { as_buffer: true }): Promise<Uint8Array>;
}

let painter: Promise<Painter> | undefined;

/** Load jsroot's painters once (heavy: d3 and the painters). */
export function loadPainter(): Promise<Painter> {
  painter ??= import('#jsroot/main').then((m: Record<string, unknown>) => {
    // ROOT's default 10 % left margin clips the value-axis title next to five-digit tick labels.
    (core as unknown as { gStyle: { fPadLeftMargin: number } }).gStyle.fPadLeftMargin = 0.13;
    return {
      makeSVG: m['makeSVG'] as Painter['makeSVG'],
      svgToImage: m['svgToImage'] as Painter['svgToImage'],
    };
  });
  return painter;
}
