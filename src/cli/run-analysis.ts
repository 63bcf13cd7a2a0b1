/** Entry point of `run-analysis` (launched by bin/run-analysis.mjs from the cached build, or under tsx). */
import { main } from './analysis.ts';
import { exitQuietlyOnClosedPipe } from './closed-pipe.ts';

exitQuietlyOnClosedPipe();
process.exitCode = await main();
