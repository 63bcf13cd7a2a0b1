/** Entry point of `run-analysis` (launched by bin/run-analysis.mjs from the cached build, or under tsx). */
import { main } from './analysis.ts';

// `run-analysis … | head`: a reader that closes the pipe (also while workers' printed lines are relayed)
// ends the command quietly instead of with an unhandled EPIPE stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await main();
