// `node --import ristretto/register ...`: lets Node run TypeScript processors, tests and scripts
// (Ristretto ships TypeScript sources; its own commands register the same loader).
import { register } from 'tsx/esm/api';
register();
