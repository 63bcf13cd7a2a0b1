/**
 * `results.json` of a scan: rewritten atomically (write a temporary file, rename it over) after every
 * finished patch, so a scan that is killed leaves a complete file of what it finished, and `--resume`
 * continues from it. The header records what was tested (workspace hash, POI value, test statistic,
 * interpolation), so a resume never mixes results of two different scans.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanError } from './errors.ts';
import type { ScanItem } from './scan.ts';

export const RESULTS_FORMAT = 'ristretto-fit-scan';

/** What makes two scans the same scan (compared on resume). */
export interface ScanIdentity {
  /** sha256 of the background-only workspace's JSON text. */
  workspaceHash: string;
  poiTest: number;
  testStat: string;
  measurement: string | null;
  interp: Record<string, string>;
  /** Fit optimizer, absent for 'lbfgsb' (files written before the field existed used lbfgsb). */
  optimizer?: string;
}

/** One finished patch, plus where it ran. */
export type ScanRecord = ScanItem & { where?: string };

export interface ScanResultsFile {
  format: typeof RESULTS_FORMAT;
  version: 1;
  identity: ScanIdentity;
  /** Workspace file name as given (for people; not compared). */
  workspace?: string;
  /** Patches in the scan, including finished ones from earlier runs. */
  total: number;
  /** Results in completion order, at most one per patch name. */
  results: ScanRecord[];
}

/** Reads an existing results file; a file that is not one names itself and says what to do. */
export function readResults(path: string): ScanResultsFile {
  let doc: ScanResultsFile;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as ScanResultsFile;
  } catch (e) {
    throw new ScanError(
      `${path}: not a readable results file (${(e as Error).message})`,
      { path },
      'remove it, or choose another --out folder',
    );
  }
  if (!doc || doc.format !== RESULTS_FORMAT || doc.version !== 1 || !Array.isArray(doc.results) || !doc.identity) {
    throw new ScanError(
      `${path}: not a ristretto fit scan results file (format ${RESULTS_FORMAT}, version 1)`,
      { path },
      'remove it, or choose another --out folder',
    );
  }
  return doc;
}

function sameIdentity(a: ScanIdentity, b: ScanIdentity): string | undefined {
  if (a.workspaceHash !== b.workspaceHash) return 'another background-only workspace';
  if (a.poiTest !== b.poiTest) return `POI test value ${a.poiTest}, not ${b.poiTest}`;
  if (a.testStat !== b.testStat) return `test statistic ${a.testStat}, not ${b.testStat}`;
  if ((a.measurement ?? null) !== (b.measurement ?? null))
    return `measurement ${a.measurement ?? '(first)'}, not ${b.measurement ?? '(first)'}`;
  if (JSON.stringify(a.interp) !== JSON.stringify(b.interp))
    return `interpolation ${JSON.stringify(a.interp)}, not ${JSON.stringify(b.interp)}`;
  if ((a.optimizer ?? 'lbfgsb') !== (b.optimizer ?? 'lbfgsb'))
    return `optimizer ${a.optimizer ?? 'lbfgsb'}, not ${b.optimizer ?? 'lbfgsb'}`;
  return undefined;
}

/** Keeps the results of one scan and rewrites `results.json` after each. */
export class ResultsWriter {
  readonly path: string;
  private readonly doc: ScanResultsFile;
  private readonly byName = new Map<string, number>();

  /**
   * Opens `dir/results.json`. With `resume`, finished (successful) results of an earlier run of the
   * same scan are kept and reported by `finished`; failed ones are tested again. Without `resume`, an
   * existing file is refused rather than overwritten.
   */
  constructor(dir: string, identity: ScanIdentity, opts: { resume?: boolean; workspace?: string; total: number }) {
    this.path = join(dir, 'results.json');
    writing(dir, () => mkdirSync(dir, { recursive: true }));
    let kept: ScanRecord[] = [];
    if (existsSync(this.path)) {
      if (!opts.resume) {
        throw new ScanError(
          `${this.path} exists (an earlier scan)`,
          { path: this.path },
          'pass --resume to continue it, or choose another --out folder',
        );
      }
      const old = readResults(this.path);
      const differs = sameIdentity(old.identity, identity);
      if (differs) {
        // Scans made with another optimizer (files from before the field: lbfgsb) say how to continue them.
        const oldOptimizer = old.identity.optimizer ?? 'lbfgsb';
        const hint = differs.startsWith('optimizer')
          ? `pass --optimizer ${oldOptimizer} to continue it, or choose another --out folder for this scan`
          : 'choose another --out folder for this scan';
        throw new ScanError(`${this.path} belongs to another scan (${differs})`, { path: this.path }, hint);
      }
      kept = old.results.filter((r) => r.ok);
    }
    this.doc = {
      format: RESULTS_FORMAT,
      version: 1,
      identity,
      workspace: opts.workspace,
      total: opts.total,
      results: [],
    };
    for (const r of kept) this.add(r, false);
    this.flush();
  }

  /** Names of patches that already have a successful result. */
  finished(): Set<string> {
    return new Set(this.doc.results.filter((r) => r.ok).map((r) => r.name));
  }

  get results(): readonly ScanRecord[] {
    return this.doc.results;
  }

  /** Records a result (replacing an earlier one of the same patch) and rewrites the file. */
  add(r: ScanRecord, flush = true): void {
    const i = this.byName.get(r.name);
    if (i === undefined) {
      this.byName.set(r.name, this.doc.results.length);
      this.doc.results.push(r);
    } else this.doc.results[i] = r;
    if (flush) this.flush();
  }

  private flush(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writing(this.path, () => {
      writeFileSync(tmp, JSON.stringify(this.doc, null, 1));
      renameSync(tmp, this.path);
    });
  }
}

/** Runs a write to `path`; an fs failure (full disk, no permission) becomes a ScanError naming the path. */
export function writing<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    throw new ScanError(
      `cannot write ${path}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'no space left on the device' : code === 'EISDIR' ? 'it is a folder' : code}`,
      { path, code },
      'choose an --out folder you can write to (the finished patches are kept; rerun with --resume)',
    );
  }
}
