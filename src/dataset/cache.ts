/**
 * On-disk cache of preprocessing results (entry counts and cluster boundaries), keyed by file identity
 * and tree, so that a re-run does not reopen every file. Written atomically (temp file + rename); a
 * corrupt or foreign cache file is ignored and rewritten, never trusted.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const VERSION = 1;

export interface CachedFile {
  readonly numEntries: number;
  readonly boundaries: readonly number[];
  /** The tree the reader opened (kept for entries looked up without a tree name). */
  readonly tree?: string;
}

export class PreprocessCache {
  private dirty = false;
  private constructor(
    /** Where the cache lives; undefined keeps it in memory only. */
    readonly file: string | undefined,
    private readonly entries: Map<string, CachedFile>,
  ) {}

  /** Load the cache at `file` (missing or unreadable → empty). */
  static async load(file: string | undefined): Promise<PreprocessCache> {
    const map = new Map<string, CachedFile>();
    if (file) {
      try {
        const j = JSON.parse(await readFile(file, 'utf8')) as {
          version?: number;
          entries?: Record<string, CachedFile>;
        };
        if (j.version === VERSION && j.entries && typeof j.entries === 'object') {
          for (const [k, v] of Object.entries(j.entries)) {
            if (Number.isInteger(v?.numEntries) && Array.isArray(v.boundaries)) {
              map.set(k, {
                numEntries: v.numEntries,
                boundaries: v.boundaries,
                ...(typeof v.tree === 'string' ? { tree: v.tree } : {}),
              });
            }
          }
        }
      } catch {
        // No cache yet, or not ours: start empty.
      }
    }
    return new PreprocessCache(file, map);
  }

  get size(): number {
    return this.entries.size;
  }

  get(fileId: string, tree: string): CachedFile | undefined {
    return this.entries.get(key(fileId, tree));
  }

  set(fileId: string, tree: string, v: CachedFile): void {
    this.entries.set(key(fileId, tree), {
      numEntries: v.numEntries,
      boundaries: [...v.boundaries],
      ...(v.tree !== undefined ? { tree: v.tree } : {}),
    });
    this.dirty = true;
  }

  /** Write the cache if it changed. */
  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: VERSION, entries: Object.fromEntries(this.entries) }));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

function key(fileId: string, tree: string): string {
  return `${fileId}/${tree}`;
}
