#!/usr/bin/env node
// Thin launcher: registers tsx so the TypeScript sources (and the user's processor.ts) run without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/run-analysis.ts');
