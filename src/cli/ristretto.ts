/** The `ristretto` command: subcommands are contributed by the modules that own them. */
import { Command } from 'commander';
import { registerFaasCommands } from '../faas/cli.ts';
import { registerInitCommand } from './init.ts';
import { registerDrawCommand } from './draw.ts';
import { registerFitCommands } from '../fit/cli.ts';
import { registerConvertCommand } from '../io/convert.ts';
import { registerLsCommand } from '../io/ls.ts';
import { openReader } from '../io/open.ts';
import { packageVersion } from './version.ts';
import { registerViewCommand } from '../view/cli.ts';

const program = new Command('ristretto')
  .description('Ristretto: columnar HEP analysis and federated execution')
  .version(packageVersion(), '-V, --version', 'print the Ristretto version');
registerConvertCommand(program, (path, opts) => openReader(path, opts));
registerLsCommand(program);
registerFaasCommands(program);
registerInitCommand(program);
registerFitCommands(program);
registerViewCommand(program);
registerDrawCommand(program);
// `ristretto fit scan --json | head`: a reader that closes the pipe ends the command quietly, for every subcommand.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Users get the message (which names the file/endpoint and what to do); stacks only on request.
  const debug = Boolean(process.env.RISTRETTO_DEBUG && process.env.RISTRETTO_DEBUG !== '0');
  process.stderr.write(
    `ristretto: ${debug ? ((e as Error).stack ?? String(e)) : e instanceof Error ? e.message : String(e)}\n`,
  );
  if (!debug) process.stderr.write('(set RISTRETTO_DEBUG=1 for a stack trace)\n');
  process.exitCode = 1;
}
