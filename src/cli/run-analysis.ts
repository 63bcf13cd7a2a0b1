/** Entry point of `run-analysis` (launched by bin/run-analysis.mjs under tsx). */
import { main } from './analysis.ts';

process.exitCode = await main();
