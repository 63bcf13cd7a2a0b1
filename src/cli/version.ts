/** The installed package's version, read from its package.json when asked (for `--version`). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

/** `version` of Ristretto's package.json, or `unknown` when it cannot be read (a broken install). */
export function packageVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' && v ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}
