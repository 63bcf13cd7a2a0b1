import type { Command } from 'commander';

/** Adds the `faas` command group (serve, user, endpoint) to the `ristretto` CLI. */
export function registerFaasCommands(program: Command): void {
  program.command('faas').description('function-as-a-service platform (not yet available)');
}
