/**
 * `ristretto init [dir]`: a ready analysis project in `dir` (default: the current folder) — package.json
 * (ES module, `npm run analysis`, `npm test`), tsconfig, a processor, a dataset JSON over three small
 * synthetic samples it generates (data, Z→μμ and background simulation), a test and a README.
 *
 * In a folder that already has a package.json (the usual `npm init -y && npm install ristretto` first),
 * that file is completed, not replaced: `"type": "module"`, the scripts that are missing, and the
 * Ristretto dependency as already installed. Existing files are never overwritten without `--force`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { RistrettoError } from '../errors/index.ts';
import { jsonSyntaxMessage } from '../errors/json-location.ts';
import { generateSample } from '../../samples/generate.ts';

/** A project folder that cannot be initialised as asked. */
export class InitError extends RistrettoError {}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEMPLATE = join(ROOT, 'templates', 'analysis');

export interface InitOptions {
  /** Project folder (created when missing). */
  dir: string;
  /** Events of the data sample; the simulated samples get 1.25× as many (default 40,000). */
  events?: number;
  /** Overwrite template files that exist. */
  force?: boolean;
  /** Only (re)generate the samples under data/. */
  dataOnly?: boolean;
  /** Dependency spec written for ristretto when package.json has none (default `^<this version>`). */
  ristrettoSpec?: string;
}

export interface InitResult {
  dir: string;
  /** Files written, relative to `dir`. */
  written: string[];
  /** Files left as they were. */
  kept: string[];
  /** Things the user should know (changed package.json fields, missing dependency). */
  notes: string[];
}

/** The three synthetic samples: name, seed, Z fraction, relative size. */
const SAMPLES = [
  { file: 'data', seed: 3, zFraction: 0.5, scale: 1 },
  { file: 'dy', seed: 1, zFraction: 1, scale: 1.25 },
  { file: 'background', seed: 2, zFraction: 0, scale: 1.25 },
] as const;

/**
 * The dependency spec for a new project in `dir`: where the running Ristretto came from. Ristretto is
 * not on the npm registry, so a registry range would 404 (or install whoever takes the name). Installed
 * in a project (`<proj>/node_modules/ristretto`), that project's own spec is reused — a `file:` path
 * rewritten relative to `dir`; run from a checkout, the checkout as a `file:` path.
 */
export function defaultRistrettoSpec(dir: string, root = ROOT): string {
  const fileSpec = (target: string) => `file:${relative(dir, target).split('\\').join('/') || '.'}`;
  if (basename(dirname(root)) === 'node_modules') {
    const project = dirname(dirname(root));
    try {
      const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const spec = pkg.dependencies?.ristretto ?? pkg.devDependencies?.ristretto;
      if (spec?.startsWith('file:')) return fileSpec(resolve(project, spec.slice('file:'.length)));
      if (spec) return spec;
    } catch {
      // No readable package.json above node_modules: fall through to the installed folder itself.
    }
    return fileSpec(root);
  }
  return fileSpec(root);
}

/** Create or complete the project. */
export async function initProject(opts: InitOptions): Promise<InitResult> {
  const dir = resolve(opts.dir);
  const result: InitResult = { dir, written: [], kept: [], notes: [] };
  const nData = opts.events ?? 40_000;
  if (!Number.isInteger(nData) || nData < 100)
    throw new InitError(
      `--events must be an integer of at least 100, got ${opts.events}`,
      { events: opts.events },
      'pass e.g. --events 40000',
    );
  await mkdir(dir, { recursive: true });

  if (!opts.dataOnly) {
    await writePackageJson(dir, opts, result);
    for (const rel of [...templateFiles(), 'datasets.json']) {
      const target = join(dir, rel === 'gitignore' ? '.gitignore' : rel);
      const name = relative(dir, target);
      if (existsSync(target) && !opts.force) {
        result.kept.push(name);
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      if (rel === 'datasets.json') await writeFile(target, datasetsJson(nData));
      else await copyFile(join(TEMPLATE, rel), target);
      result.written.push(name);
    }
  }

  for (const s of SAMPLES) {
    const out = join(dir, 'data', s.file);
    await generateSample({
      events: Math.round(nData * s.scale),
      seed: s.seed,
      zFraction: s.zFraction,
      out,
      formats: ['parquet'],
    });
    result.written.push(relative(dir, `${out}.parquet`));
  }
  return result;
}

/** Template files relative to the template folder (test/ included). */
function templateFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(TEMPLATE, d), { withFileTypes: true })) {
      const rel = d ? `${d}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

/**
 * The dataset JSON: simulation normalised to the data sample by cross section × luminosity / generated
 * events (synthetic numbers chosen so that the expected yields match the data sample).
 */
function datasetsJson(nData: number): string {
  const nSim = Math.round(nData * 1.25);
  const lumi = 1;
  const fileset = {
    Data: { files: { 'data/data.parquet': 'Events' }, metadata: { isData: true } },
    DY: {
      files: { 'data/dy.parquet': 'Events' },
      metadata: { isData: false, xsec: nData * 0.55, lumi, nGenerated: nSim, label: 'Z/#gamma*#rightarrow#mu#mu' },
    },
    Background: {
      files: { 'data/background.parquet': 'Events' },
      metadata: { isData: false, xsec: nData * 0.5, lumi, nGenerated: nSim, label: 'non-resonant' },
    },
  };
  return `${JSON.stringify(fileset, null, 2)}\n`;
}

const SCRIPTS: Record<string, string> = {
  analysis: 'run-analysis datasets.json processor.ts --executor threads --out out --format json,png',
  test: 'node --import ristretto/register --test test/*.test.ts',
  sample: 'ristretto init . --data-only',
};

async function writePackageJson(dir: string, opts: InitOptions, result: InitResult): Promise<void> {
  const path = join(dir, 'package.json');
  let pkg: Record<string, unknown> = {};
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    try {
      pkg = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new InitError(
        `${path} is not valid JSON: ${jsonSyntaxMessage(text, e)}`,
        { file: path },
        'fix or remove package.json, then run ristretto init again',
      );
    }
  } else {
    pkg = {
      name:
        basename(dir)
          .toLowerCase()
          .replace(/[^a-z0-9._-]+/g, '-') || 'my-analysis',
      version: '0.1.0',
      private: true,
    };
  }
  // Always "module": without it `npm test` and the processor load as CommonJS and cannot import Ristretto.
  if (pkg.type !== 'module') {
    if (pkg.type !== undefined)
      result.notes.push(
        `package.json "type" was ${JSON.stringify(pkg.type)}; set to "module" (Ristretto processors are ES modules)`,
      );
    else if (existsSync(path))
      result.notes.push('added "type": "module" to package.json (Ristretto processors and tests are ES modules)');
    pkg.type = 'module';
  }
  const scripts = { ...((pkg.scripts as Record<string, string> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(SCRIPTS)) {
    // npm init's placeholder test script is replaced; a real one is kept.
    if (scripts[k] === undefined || (k === 'test' && scripts[k].includes('no test specified'))) scripts[k] = v;
    else if (scripts[k] !== v) result.notes.push(`kept your "${k}" script; Ristretto's would be: ${v}`);
  }
  pkg.scripts = scripts;
  const deps = { ...((pkg.dependencies as Record<string, string> | undefined) ?? {}) };
  if (!deps.ristretto) {
    deps.ristretto = opts.ristrettoSpec ?? defaultRistrettoSpec(dir);
    result.notes.push(`added "ristretto": "${deps.ristretto}" to dependencies: run npm install`);
  }
  pkg.dependencies = deps;
  await writeFile(path, `${JSON.stringify(pkg, null, 2)}\n`);
  result.written.push('package.json');
}

/** Register `ristretto init` on the CLI. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create (or complete) an analysis project: processor, dataset JSON, synthetic samples, scripts, test')
    .argument('[dir]', 'project folder (created when missing)', '.')
    .option('--events <n>', 'events in the data sample (simulation gets 1.25x)', (v) => Number(v), 40_000)
    .option('--force', 'overwrite template files that exist')
    .option('--data-only', 'only regenerate the samples under data/')
    .option('--ristretto-spec <spec>', 'dependency spec for ristretto when package.json has none')
    .action(
      async (dirArg: string, o: { events: number; force?: boolean; dataOnly?: boolean; ristrettoSpec?: string }) => {
        const r = await initProject({
          dir: dirArg,
          events: o.events,
          force: o.force,
          dataOnly: o.dataOnly,
          ristrettoSpec: o.ristrettoSpec,
        });
        const where = relative(process.cwd(), r.dir) || '.';
        for (const f of r.written) console.log(`  wrote ${join(where, f)}`);
        for (const f of r.kept) console.log(`  kept  ${join(where, f)} (exists; --force overwrites)`);
        for (const n of r.notes) console.log(`note: ${n}`);
        if (!o.dataOnly) {
          console.log(
            `\nnext:${where === '.' ? '' : `\n  cd ${where}`}\n  npm install        # if ristretto is not installed yet\n  npm run analysis   # histograms, plots and the cutflow into out/\n  npm test`,
          );
        }
      },
    );
}
