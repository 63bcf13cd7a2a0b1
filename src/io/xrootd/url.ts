/**
 * root:// URLs: `root://[user@]host[:port]//abs/path[?opaque]` (also `xroot://`). The path is what
 * follows the slash after the host; XRootD paths are absolute, so `root://host/data/f.root` and
 * `root://host//data/f.root` name the same file.
 */
import { SourceError } from '../source-error.ts';

export const XROOTD_DEFAULT_PORT = 1094;

export interface XrootdUrl {
  readonly host: string;
  readonly port: number;
  /** Absolute path on the server. */
  readonly path: string;
  /** CGI after `?` (passed on to kXR_open / kXR_stat), without the `?`. */
  readonly opaque: string;
}

export function isXrootdUrl(s: string): boolean {
  return /^x?roots?:\/\//i.test(s);
}

export function parseXrootdUrl(url: string): XrootdUrl {
  const m = /^(x?roots?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:?]+)(?::(\d+))?\/(.*)$/i.exec(url);
  if (!m) {
    throw new SourceError(`not a valid XRootD URL: ${url}`, { url }, 'write it as root://host[:port]//absolute/path');
  }
  if (/s$/i.test(m[1])) {
    throw new SourceError(
      `${url}: roots:// (XRootD over TLS) is not supported`,
      { url },
      'use root:// (or https:// if the server also serves HTTP)',
    );
  }
  const port = m[3] ? Number(m[3]) : XROOTD_DEFAULT_PORT;
  if (!(port > 0 && port < 65536)) throw new SourceError(`${url}: port ${m[3]} is out of range`, { url });
  const rest = m[4];
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const path = `/${rawPath.replace(/^\/+/, '')}`;
  if (path === '/')
    throw new SourceError(`${url} names no file`, { url }, 'write it as root://host[:port]//absolute/path');
  return { host: m[2].replace(/^\[|\]$/g, ''), port, path, opaque: q < 0 ? '' : rest.slice(q + 1) };
}
