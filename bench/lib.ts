/**
 * Helpers the benchmarks share: one command-line parser and a seeded random source.
 *
 * Every bench declares its options with `benchArgs`, so all of them answer `--help`, and an unknown
 * option or a bad value the way the CLI does: one line naming the option and what it takes, exit code 2,
 * no stack trace (a bench run from a script must not look like a crash of the code it measures).
 *
 * @example
 * ```ts
 * import { benchArgs, flag, int, words } from './lib.ts';
 * const a = benchArgs('Fill histograms and time it.', {
 *   reps: int('repetitions per measurement', 5, 1),
 *   modes: words('what to run', ['fill', 'merge'], ['fill', 'merge', 'plot']),
 *   warm: flag('one untimed round first'),
 * });
 * // npx tsx bench/x.ts --reps 0  →  bench/x.ts: --reps must be an integer ≥ 1, got "0" (--help lists every option)
 * console.log(a.reps, a.modes, a.warm);
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** One option (or positional argument): its help line, its value when absent, and how to read its text. */
export interface Opt<T> {
  readonly help: string;
  readonly fallback: T;
  /** What the value looks like in `--help` (`<n>`, `<file>`); absent for a flag. */
  readonly metavar?: string;
  /** Read the text given on the command line; throws `UsageError` naming `name` when it is wrong. */
  readonly parse?: (text: string, name: string) => T;
}

type Values<O> = { -readonly [K in keyof O]: O[K] extends Opt<infer T> ? T : never };

/** A bad command line: its message is the one line the bench prints (thrown by an `Opt`'s `parse`). */
export class UsageError extends Error {}

/** A present-or-absent switch. */
export function flag(help: string): Opt<boolean> {
  return { help, fallback: false };
}

/** An integer ≥ `min` (default 0). */
export function int<F extends number | undefined>(help: string, fallback: F, min = 0): Opt<number | F> {
  return { help, fallback, metavar: '<n>', parse: (t, name) => readInt(t, name, min) };
}

/** A finite number > 0 (or ≥ `min` when given). */
export function num<F extends number | undefined>(help: string, fallback: F, min?: number): Opt<number | F> {
  return {
    help,
    fallback,
    metavar: '<x>',
    parse: (t, name) => {
      const n = t.trim() === '' ? Number.NaN : Number(t);
      if (!Number.isFinite(n) || (min === undefined ? n <= 0 : n < min))
        throw new UsageError(`${name} must be a number ${min === undefined ? '> 0' : `≥ ${min}`}, got "${t}"`);
      return n;
    },
  };
}

/** A word or path, taken as written. */
export function text<F extends string | undefined>(help: string, fallback: F, metavar = '<text>'): Opt<string | F> {
  return {
    help,
    fallback,
    metavar,
    parse: (t, name) => {
      if (t === '') throw new UsageError(`${name} needs a value`);
      return t;
    },
  };
}

/** One of `choices`. */
export function choice<C extends string, F extends C | undefined>(
  help: string,
  choices: readonly C[],
  fallback: F,
): Opt<C | F> {
  return {
    help: `${help} (${choices.join(', ')})`,
    fallback,
    metavar: '<name>',
    parse: (t, name) => {
      if (!(choices as readonly string[]).includes(t))
        throw new UsageError(`${name} must be one of ${choices.join(', ')}, got "${t}"`);
      return t as C;
    },
  };
}

/** A comma-separated list of integers ≥ `min` (default 0). */
export function ints(help: string, fallback: readonly number[], min = 0): Opt<number[]> {
  return {
    help,
    fallback: [...fallback],
    metavar: '<n,…>',
    parse: (t, name) => t.split(',').map((x) => readInt(x, name, min)),
  };
}

/** A comma-separated list of words (paths, names); with `choices`, each must be one of them. */
export function words<C extends string = string>(
  help: string,
  fallback: readonly C[],
  choices?: readonly C[],
): Opt<C[]> {
  return {
    help: choices ? `${help} (${choices.join(', ')})` : help,
    fallback: [...fallback],
    metavar: '<a,…>',
    parse: (t, name) => {
      const list = t.split(',').filter(Boolean);
      if (list.length === 0) throw new UsageError(`${name} needs at least one value, got "${t}"`);
      const bad = choices ? list.filter((x) => !(choices as readonly string[]).includes(x)) : [];
      if (bad.length) throw new UsageError(`${name}: unknown ${bad.join(', ')} (known: ${choices?.join(', ')})`);
      return list as C[];
    },
  };
}

function readInt(t: string, name: string, min: number): number {
  const n =
    /^\s*-?\d+(e\d+)?\s*$/i.test(t) || /^\s*-?\d{1,3}(_\d{3})+\s*$/.test(t) ? Number(t.replaceAll('_', '')) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got "${t}"`);
  return n;
}

/** The options of the benches that run ADL queries over one file, `reps` repetitions by default. */
export function adlFileOptions(reps: number) {
  return {
    file: text('nested-layout ADL Parquet file (default bench/data/adl-2M.parquet)', undefined, '<file>'),
    queries: ints('ADL queries', [1, 2, 3, 4, 5, 6, 7, 8], 1),
    reps: int('repetitions', reps, 1),
    chunksize: int('events per chunk', 100_000, 1),
  };
}

/** The absolute path of an ADL bench's `--file` (default: bench/data/adl-2M.parquet); usage error if it is missing. */
export function adlFile(file: string | undefined): string {
  const path = resolve(file ?? fileURLToPath(new URL('data/adl-2M.parquet', import.meta.url)));
  if (!existsSync(path)) usageFail(`--file: ${path} is missing: build it with  npx tsx bench/make-adl-dataset.ts`);
  return path;
}

/** A command line the options allow but the bench cannot use (a required option missing): one line, exit 2. */
export function usageFail(message: string): never {
  process.stderr.write(`${benchName()}: ${message} (--help lists every option)\n`);
  process.exit(2);
}

/** The bench's path as typed from the repository (`bench/codec.ts`), for messages. */
function benchName(): string {
  return relative(process.cwd(), process.argv[1] ?? 'bench') || 'bench';
}

function usage(
  about: string,
  options: Record<string, Opt<unknown>>,
  positionals: Record<string, Opt<unknown>>,
): string {
  const pos = Object.keys(positionals)
    .map((k) => ` [${k}]`)
    .join('');
  const rows = [
    ...Object.entries(positionals).map(([k, o]) => [k, o]),
    ...Object.entries(options).map(([k, o]) => [`--${k}${o.metavar ? ` ${o.metavar}` : ''}`, o]),
  ] as [string, Opt<unknown>][];
  rows.push(['--help', { help: 'this text', fallback: false }]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const shown = (v: unknown) =>
    Array.isArray(v)
      ? v.length
        ? ` (default ${v.join(',')})`
        : ''
      : typeof v === 'number' || (typeof v === 'string' && v)
        ? ` (default ${v})`
        : '';
  return [
    `usage: npx tsx ${benchName()} [options]${pos}`,
    about,
    '',
    ...rows.map(([k, o]) => `  ${k.padEnd(w)}  ${o.help}${shown(o.fallback)}`),
    '',
  ].join('\n');
}

/**
 * Read this process's command line against `options` (`--name value`, `--name=value`, flags) and, in
 * order, `positionals`. `--help` prints the usage and exits 0; anything wrong prints one line naming
 * the option and exits 2.
 */
export function benchArgs<
  O extends Record<string, Opt<unknown>>,
  P extends Record<string, Opt<unknown>> = Record<never, never>,
>(about: string, options: O, positionals?: P, argv: readonly string[] = process.argv.slice(2)): Values<O> & Values<P> {
  const pos: Record<string, Opt<unknown>> = positionals ?? {};
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage(about, options, pos));
    process.exit(0);
  }
  try {
    return readArgs(options, pos, argv) as Values<O> & Values<P>;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    usageFail(e.message);
  }
}

function readArgs(options: Record<string, Opt<unknown>>, pos: Record<string, Opt<unknown>>, argv: readonly string[]) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [k, { type: o.parse ? 'string' : 'boolean', multiple: false }]),
      ) as Record<string, { type: 'string' | 'boolean' }>,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const m = /'(-[^' ]*)/.exec((e as Error).message);
    const opt = m?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${opt}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(
        !options[opt.replace(/^--/, '')]?.parse
          ? `${opt} is a switch and takes no value`
          : /ambiguous/.test((e as Error).message)
            ? `${opt} needs a value; for one that starts with "-" write ${opt}=VALUE`
            : `${opt} needs a value`,
      );
    throw new UsageError((e as Error).message.split('\n')[0] ?? String(e));
  }
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(options)) {
    const v = parsed.values[k];
    if (typeof v === 'string') out[k] = o.parse?.(v, `--${k}`);
    else out[k] = typeof v === 'boolean' ? v : o.fallback;
  }
  const names = Object.keys(pos);
  if (parsed.positionals.length > names.length)
    throw new UsageError(
      `unexpected argument "${parsed.positionals[names.length]}"${names.length ? ` (takes ${names.map((n) => `[${n}]`).join(' ')})` : ''}`,
    );
  names.forEach((k, i) => {
    const o = pos[k] as Opt<unknown>;
    const v = parsed.positionals[i];
    out[k] = v === undefined ? o.fallback : o.parse ? o.parse(v, k) : v;
  });
  return out;
}

/** xorshift32: uniform numbers in [0, 1), the same sequence for a seed in every process. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** CPU seconds (user + kernel) process `pid` has used so far, from /proc/PID/stat (Linux, 100 ticks/s). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The `p`-th percentile (0-100) of `xs`, nearest rank; NaN when `xs` is empty. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}
