// Worker entry: registers tsx inside this thread (loader hooks are per thread in Node 20) so the
// TypeScript runtime loads without a build step, then starts the worker loop.
import { register } from 'tsx/esm/api';
register();
await import('./worker-main.ts');
