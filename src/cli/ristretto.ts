/** The `ristretto` command: subcommands are contributed by the modules that own them. */
import { Command } from 'commander';
import { reportCommandError } from '../errors/report.ts';
import { exitQuietlyOnClosedPipe } from './closed-pipe.ts';
import { packageVersion } from './version.ts';

type Registrar = (program: Command) => void;

/**
 * Each subcommand's module, imported only when needed: `ristretto ls FILE` loads the file readers, not
 * the FaaS service, the fit schemas or the plotting code (the CLI runs from a build split at each
 * dynamic import, so a module left out here also leaves out its npm packages). In listing order.
 */
const SUBCOMMANDS: ReadonlyArray<readonly [string, () => Promise<Registrar>]> = [
  [
    'convert',
    async () => {
      const [{ registerConvertCommand }, { openReader }] = await Promise.all([
        import('../io/convert.ts'),
        import('../io/open.ts'),
      ]);
      return (p) => registerConvertCommand(p, (path, opts) => openReader(path, opts));
    },
  ],
  ['ls', async () => (await import('../io/ls.ts')).registerLsCommand],
  ['faas', async () => (await import('../faas/cli.ts')).registerFaasCommands],
  ['init', async () => (await import('./init.ts')).registerInitCommand],
  ['fit', async () => (await import('../fit/cli.ts')).registerFitCommands],
  ['view', async () => (await import('../view/cli.ts')).registerViewCommand],
  ['draw', async () => (await import('./draw.ts')).registerDrawCommand],
];

/**
 * The subcommands to register for `argv`: the one named first when it is known (its own --help included);
 * none for a bare --version; all of them otherwise (--help, `help`, an unknown name: commander lists them).
 */
function wanted(argv: readonly string[]): ReadonlyArray<readonly [string, () => Promise<Registrar>]> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first === undefined && argv.some((a) => a === '-V' || a === '--version')) return [];
  const one = SUBCOMMANDS.filter(([name]) => name === first);
  return one.length ? one : SUBCOMMANDS;
}

const program = new Command('ristretto')
  .description('Ristretto: columnar HEP analysis and federated execution')
  .version(packageVersion(), '-V, --version', 'print the Ristretto version')
  .option('--debug', 'print stack traces on errors, before or after the subcommand (also RISTRETTO_DEBUG=1)');
exitQuietlyOnClosedPipe(); // for every subcommand
// --debug is taken out of argv wherever it stands, as run-analysis accepts it: commander would hand a
// program option written after the subcommand to the subcommand, which does not know it.
const argv = process.argv.filter((a, i) => i < 2 || a !== '--debug');
const debug =
  argv.length < process.argv.length || Boolean(process.env.RISTRETTO_DEBUG && process.env.RISTRETTO_DEBUG !== '0');
try {
  const registrars = await Promise.all(wanted(argv.slice(2)).map(([, load]) => load()));
  for (const register of registrars) register(program);
  await program.parseAsync(argv);
} catch (e) {
  // One reporter for every subcommand (src/errors/report.ts): our errors are one line (the stack with
  // --debug), anything else is a bug, printed with its stack and a request to report it.
  process.exitCode = reportCommandError('ristretto', e, { debug });
}
