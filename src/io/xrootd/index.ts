/** XRootD (`root://`) byte source: see source.ts. */
export { XrootdSource, statXrootd, xrootdCounters, type XrootdOptions } from './source.ts';
export { isXrootdUrl, parseXrootdUrl, type XrootdUrl } from './url.ts';
