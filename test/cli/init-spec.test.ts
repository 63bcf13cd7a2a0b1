/**
 * `ristretto init NEWDIR` writes a ristretto dependency the new project can install: Ristretto is not
 * on the npm registry, so a registry range (`^0.1.0`) would 404 — or install whoever registers the
 * name (outside probe, F11). The spec points where the running Ristretto came from.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRistrettoSpec, initProject } from '../../src/cli/init.ts';
import { repoRoot } from '../shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-init-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ristretto init: the dependency spec of a new project', () => {
  it('installed from a tarball into a project: that file: spec, relative to the new folder', () => {
    const project = join(dir, 'myana');
    const installed = join(project, 'node_modules', 'ristretto');
    mkdirSync(installed, { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ dependencies: { ristretto: 'file:../ristretto-0.1.0.tgz' } }),
    );
    expect(defaultRistrettoSpec(join(project, 'sub'), installed)).toBe('file:../../ristretto-0.1.0.tgz');
    expect(defaultRistrettoSpec(join(dir, 'other'), installed)).toBe('file:../ristretto-0.1.0.tgz');
  });

  it('a registry spec of the installing project is kept; no package.json: the installed folder', () => {
    const a = join(dir, 'reg', 'node_modules', 'ristretto');
    mkdirSync(a, { recursive: true });
    writeFileSync(join(dir, 'reg', 'package.json'), JSON.stringify({ devDependencies: { ristretto: '^0.2.0' } }));
    expect(defaultRistrettoSpec(join(dir, 'x'), a)).toBe('^0.2.0');
    const b = join(dir, 'bare', 'node_modules', 'ristretto');
    mkdirSync(b, { recursive: true });
    expect(defaultRistrettoSpec(join(dir, 'y'), b)).toBe('file:../bare/node_modules/ristretto');
  });

  it('run from a checkout: the new project depends on the checkout', async () => {
    const target = join(dir, 'from-checkout');
    await initProject({ dir: target, events: 100 });
    const pkg = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const spec = pkg.dependencies.ristretto ?? '';
    expect(spec.startsWith('file:')).toBe(true);
    expect(resolve(target, spec.slice('file:'.length))).toBe(resolve(repoRoot));
  });
});
