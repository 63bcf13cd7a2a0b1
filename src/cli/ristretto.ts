/** The `ristretto` command: subcommands are contributed by the modules that own them. */
import { Command } from 'commander';
import { registerFaasCommands } from '../faas/cli.ts';

const program = new Command('ristretto').description('Ristretto: columnar HEP analysis and federated execution');
registerFaasCommands(program);
await program.parseAsync(process.argv);
