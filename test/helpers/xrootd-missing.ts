/**
 * The xrootd tests' notice when the server cannot run (kept apart from xrootd-server.ts, which bench/xrootd.ts
 * imports outside vitest).
 */
import { describe, it } from 'vitest';
import { xrootdMissing } from './xrootd-server.ts';

/**
 * Why xrootd cannot run here (undefined when it can), said once per test file: under CI=true a missing xrootd
 * is a failing test (.ci/run installs it), elsewhere a skipped suite naming the reason. Suites that need the
 * server use `describe.skipIf(missing !== undefined)`.
 */
export function xrootdMissingFor(suite: string): string | undefined {
  const missing = xrootdMissing();
  if (!missing) return undefined;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(suite, () => {
      it('needs xrootd in CI', () => {
        throw new Error(`${missing}: .ci/run installs it with scripts/ci/setup-xrootd.sh`);
      });
    });
  } else {
    describe.skip(`${suite} — skipped: ${missing}; run scripts/ci/setup-xrootd.sh (root) to test`, () => {
      it('skipped', () => {});
    });
  }
  return missing;
}
