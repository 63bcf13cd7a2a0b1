/** Placeholder until the runner lands. */
console.error('run-analysis: not yet implemented');
process.exit(2);
