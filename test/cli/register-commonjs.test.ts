/**
 * `npm test` (node --import ristretto/register --test ...) in a project whose package.json lacks
 * "type": "module": Ristretto's own one-line message names the file, the package.json and the fix,
 * instead of Node's ERR_REQUIRE_CYCLE_MODULE (outside probe, F12); `ristretto init` always writes the
 * "type" and says so when it adds it. A real project folder with Ristretto linked in, real node processes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initProject } from '../../src/cli/init.ts';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-register-cjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A project folder with ristretto in node_modules (a link to this checkout) and one test file. */
function project(name: string, pkg: Record<string, unknown>): string {
  const p = join(dir, name);
  mkdirSync(join(p, 'node_modules'), { recursive: true });
  mkdirSync(join(p, 'test'));
  symlinkSync(repoRoot, join(p, 'node_modules', 'ristretto'), 'dir');
  writeFileSync(join(p, 'package.json'), JSON.stringify(pkg));
  writeFileSync(
    join(p, 'test', 'loads.test.ts'),
    [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "import { defineProcessor } from 'ristretto';",
      "test('ristretto loads', () => { assert.equal(typeof defineProcessor, 'function'); });",
    ].join('\n'),
  );
  return p;
}

const npmTest = (cwd: string) =>
  runNode(['--import', 'ristretto/register', '--test', join('test', 'loads.test.ts')], { cwd });

describe('node --import ristretto/register in a CommonJS package', () => {
  it('says which package.json needs "type": "module"; with it the same test passes', async () => {
    const p = project('cjs', { name: 'cjs', version: '1.0.0' });
    const r = await npmTest(p);
    const out = r.stdout + r.stderr;
    expect(r.code, out).not.toBe(0);
    expect(out).toContain(
      `ristretto/register: test/loads.test.ts would load as CommonJS: ${join(p, 'package.json')} has no "type": "module", and Ristretto is an ES module package — add "type": "module" to ${join(p, 'package.json')} (or rename the file to .mts)`,
    );
    expect(out).not.toContain('ERR_REQUIRE_CYCLE_MODULE');

    writeFileSync(join(p, 'package.json'), JSON.stringify({ name: 'cjs', version: '1.0.0', type: 'module' }));
    const fixed = await npmTest(p);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/^# pass 1$/m);
  });

  it('ristretto init adds "type": "module" to an existing package.json and says so', async () => {
    const p = join(dir, 'existing');
    mkdirSync(p);
    writeFileSync(join(p, 'package.json'), JSON.stringify({ name: 'existing', version: '1.0.0' }));
    const r = await initProject({ dir: p, events: 100, ristrettoSpec: 'file:../ristretto' });
    expect(JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')).type).toBe('module');
    expect(r.notes).toContain('added "type": "module" to package.json (Ristretto processors and tests are ES modules)');
  });
});
