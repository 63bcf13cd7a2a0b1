/**
 * A stage-out location comes from the user's task: one an endpoint cannot resolve (a file URL naming
 * another host) is refused with a StageOutError naming it, not a bare TypeError from Node's URL code,
 * and it lies under no allowed directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isUnder, STAGEOUT_ALLOW_ENV, StageOutError, stageOut } from '../../executors/faas/stageout.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-stageout-location-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const before = process.env[STAGEOUT_ALLOW_ENV];
afterEach(() => {
  if (before === undefined) delete process.env[STAGEOUT_ALLOW_ENV];
  else process.env[STAGEOUT_ALLOW_ENV] = before;
});

describe('stage-out locations that are no directory of this machine', () => {
  it('a file URL of another host lies under no directory, and no directory under it', () => {
    expect(isUnder('file://elsewhere/store', dir)).toBe(false);
    expect(isUnder(join(dir, 'run'), 'file://elsewhere/store')).toBe(false);
    expect(isUnder(pathToFileURL(join(dir, 'run')).href, dir)).toBe(true);
  });

  it('staging out to one fails with a StageOutError naming the location', async () => {
    delete process.env[STAGEOUT_ALLOW_ENV];
    const err = await stageOut('file://elsewhere/store', 'run1/a.bin', new Uint8Array([1, 2, 3])).catch((e) => e);
    expect(err).toBeInstanceOf(StageOutError);
    expect((err as Error).message).toContain('file://elsewhere/store');
  });

  it('with an allow list, it is refused as not allowed', async () => {
    process.env[STAGEOUT_ALLOW_ENV] = dir;
    const err = await stageOut('file://elsewhere/store', 'run1/a.bin', new Uint8Array([1])).catch((e) => e);
    expect(err).toBeInstanceOf(StageOutError);
    expect((err as Error).message).toContain('does not stage out to file://elsewhere/store');
  });
});
