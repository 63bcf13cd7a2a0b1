/**
 * File identity for caches and checkpoints: a local file is its absolute path + size + mtime, a URL is
 * the URL + ETag (or length + Last-Modified), a root:// URL its XRootD id, size and mtime. Any change to the file changes its id, so stale entry
 * counts are never reused.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isUrl, SourceError } from '../io/source.ts';
import { isXrootdUrl, statXrootd } from '../io/xrootd/index.ts';

/** Short stable id (16 hex chars) of the file's current version. Throws SourceError when it cannot be reached. */
export async function fileIdentity(pathOrUrl: string): Promise<string> {
  return hashId(await identityText(pathOrUrl));
}

async function identityText(p: string): Promise<string> {
  if (isXrootdUrl(p)) {
    const st = await statXrootd(p);
    return `url:${p}:xrd:${st.id}:${st.size}:${st.mtime}`;
  }
  if (isUrl(p)) {
    let r: Response;
    try {
      r = await fetch(p, { method: 'HEAD' });
    } catch (e) {
      throw new SourceError(
        `${p}: cannot reach the server: ${(e as Error).message}`,
        { url: p },
        'check that the server is up and reachable',
        { cause: e },
      );
    }
    if (!r.ok) throw new SourceError(`${p}: HTTP ${r.status}`, { url: p, status: r.status }, 'check the URL');
    const etag = r.headers.get('etag');
    const len = r.headers.get('content-length') ?? '';
    const mod = r.headers.get('last-modified') ?? '';
    return etag ? `url:${p}:etag:${etag}` : `url:${p}:len:${len}:mod:${mod}`;
  }
  try {
    const st = await stat(p);
    return `file:${p}:${st.size}:${st.mtimeMs}`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SourceError(
      code === 'ENOENT' ? `${p}: file not found` : `${p}: cannot stat: ${(e as Error).message}`,
      { file: p, code },
      code === 'ENOENT'
        ? 'check the path (in a dataset JSON, relative paths start at the JSON file’s folder)'
        : undefined,
      { cause: e },
    );
  }
}

function hashId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
