/**
 * Installed copies have no pyhf schema files (they are looked up beside the repository only), so our
 * own structural checks must reject what pyhf's schemas reject: each bad document below is refused by
 * pyhf's schema (checked here against ../shared's copy, the reference) and by our checks, in one line
 * naming the JSON path — also from a copy of the sources that finds no schemas, as an installed package.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  checkJsonPatchStructure,
  checkPatchSetStructure,
  checkWorkspaceStructure,
  PatchError,
  readPatchFile,
  validateAgainstSchema,
  WorkspaceError,
} from '../../src/fit/index.ts';
import { uncorrelatedBackground } from '../../src/fit/simplemodels.ts';
import { runNode } from '../helpers/cli.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const good = () => JSON.parse(JSON.stringify(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48])));
const schemaDir = sharedPath('fit', 'pyhf-schemas-1.0.0');

type Case = [name: string, doc: unknown, path: string, msg: RegExp];
const workspaces: Case[] = [
  ['not an object', [], '/', /expected an object, got an array/],
  ['no channels', { ...good(), channels: [] }, '/channels', /at least 1 item/],
  [
    'sample data not numbers',
    (() => {
      const w = good();
      w.channels[0].samples[1].data = [50, '52'];
      return w;
    })(),
    '/channels/0/samples/1/data/1',
    /expected a number, got the string "52"/,
  ],
  [
    'unknown modifier type',
    (() => {
      const w = good();
      w.channels[0].samples[0].modifiers[0].type = 'normfactr';
      return w;
    })(),
    '/channels/0/samples/0/modifiers/0/type',
    /unknown modifier type "normfactr"/,
  ],
  [
    'normsys without lo',
    (() => {
      const w = good();
      w.channels[0].samples[0].modifiers.push({ name: 'n', type: 'normsys', data: { hi: 1.1 } });
      return w;
    })(),
    '/channels/0/samples/0/modifiers/1/data',
    /missing property "lo"/,
  ],
  [
    'shapesys data not a list',
    (() => {
      const w = good();
      w.channels[0].samples[1].modifiers[0].data = 3;
      return w;
    })(),
    '/channels/0/samples/1/modifiers/0/data',
    /expected an array, got the number 3/,
  ],
  [
    'measurement without poi',
    (() => {
      const w = good();
      delete w.measurements[0].config.poi;
      return w;
    })(),
    '/measurements/0/config',
    /missing property "poi"/,
  ],
  [
    'no version',
    (() => {
      const w = good();
      delete w.version;
      return w;
    })(),
    '/',
    /missing property "version"/,
  ],
  [
    'observation data missing',
    (() => {
      const w = good();
      delete w.observations[0].data;
      return w;
    })(),
    '/observations/0',
    /missing property "data"/,
  ],
];
const patches: Case[] = [
  [
    'a patch that is not a list (2f7944b)',
    { op: 'add', path: '/channels/0', value: 1 },
    '/',
    /expected an array, got an object/,
  ],
  ['unknown op', [{ op: 'ad', path: '/x', value: 1 }], '/0/op', /unknown op "ad"/],
  ['add without value', [{ op: 'add', path: '/x' }], '/0', /missing property "value"/],
  ['path not a string', [{ op: 'remove', path: 3 }], '/0/path', /expected a string, got the number 3/],
];
const patchsets: Case[] = [
  [
    'no digests',
    { metadata: { labels: ['m'], description: 'd' }, patches: [], version: '1.0.0' },
    '/metadata',
    /missing property "digests"/,
  ],
  [
    'patch of a set not a list',
    {
      metadata: { digests: {}, labels: ['m'], description: 'd' },
      patches: [{ metadata: { name: 'a', values: [1] }, patch: {} }],
      version: '1.0.0',
    },
    '/patches/0/patch',
    /expected an array/,
  ],
];

function rejects(check: (d: unknown, s?: string) => void, doc: unknown, path: string, msg: RegExp): void {
  let err: unknown;
  try {
    check(doc, 'x.json');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WorkspaceError);
  expect((err as WorkspaceError).path).toBe(path);
  expect((err as Error).message).toMatch(msg);
  expect((err as Error).message).toMatch(/^x\.json: at \S+: not a valid pyhf /);
  expect((err as Error).message).not.toMatch(/\n/);
}

describe('structural checks without pyhf schemas', () => {
  it('workspaces pyhf’s schema rejects are rejected, naming the JSON path', () => {
    for (const [name, doc, path, msg] of workspaces) {
      expect(() => validateAgainstSchema(doc, 'workspace', { schemaDir }), `schema: ${name}`).toThrow(WorkspaceError);
      rejects(checkWorkspaceStructure, doc, path, msg);
    }
    checkWorkspaceStructure(good());
  });

  it('JSON Patches and patch sets likewise; the real files pass', () => {
    for (const [name, doc, path, msg] of patches) {
      expect(() => validateAgainstSchema(doc, 'jsonpatch', { schemaDir }), `schema: ${name}`).toThrow(WorkspaceError);
      rejects(checkJsonPatchStructure, doc, path, msg);
    }
    for (const [name, doc, path, msg] of patchsets) {
      expect(() => validateAgainstSchema(doc, 'patchset', { schemaDir }), `schema: ${name}`).toThrow(WorkspaceError);
      rejects(checkPatchSetStructure, doc, path, msg);
    }
    checkPatchSetStructure(JSON.parse(readFileSync(sharedPath('fit', 'example-patchset.json'), 'utf8')));
    checkWorkspaceStructure(JSON.parse(readFileSync(sharedPath('fit', 'example-patchset-bkgonly.json'), 'utf8')));
  });

  it('a patch that is not a list: readPatchFile names the file; applyPatch a PatchError (2f7944b)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-structure-'));
    try {
      const f = join(dir, 'patch.sig_1.json');
      writeFileSync(f, JSON.stringify({ op: 'add', path: '/channels/0', value: 1 }));
      expect(() => readPatchFile(f)).toThrow(
        `${f}: at /: not a valid pyhf JSON Patch (1.0.0): expected an array, got an object`,
      );
      expect(() => applyPatch(good(), { op: 'add' } as never, { name: 'sig_1', file: f })).toThrow(PatchError);
      expect(() => applyPatch(good(), { op: 'add' } as never, { name: 'sig_1', file: f })).toThrow(
        /patch sig_1 \(.*patch\.sig_1\.json\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a copy of the sources that finds no schemas (as installed) refuses a bad workspace and patch in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-installed-'));
    try {
      const pkg = join(dir, 'pkg');
      cpSync(join(repoRoot, 'src'), join(pkg, 'src'), { recursive: true });
      cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
      symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
      const ws = join(dir, 'ws.json');
      const w = good();
      w.channels[0].samples[1].data = [50, '52'];
      writeFileSync(ws, JSON.stringify(w));
      const tsx = join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
      const cli = join(pkg, 'src', 'cli', 'ristretto.ts');
      const probe = await runNode(
        [
          tsx,
          '-e',
          `import('${join(pkg, 'src', 'fit', 'schema.ts')}').then((m) => console.log(String(m.findSchemaDir())))`,
        ],
        { env: { ...process.env, RISTRETTO_PYHF_SCHEMAS: '' } },
      );
      expect(probe.stdout.trim(), probe.stderr).toBe('undefined');
      const r = await runNode([tsx, cli, 'fit', 'cls', ws], { env: { ...process.env, RISTRETTO_PYHF_SCHEMAS: '' } });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toBe(
        `ristretto fit: ${ws}: at /channels/0/samples/1/data/1: not a valid pyhf workspace (1.0.0): expected a number, got the string "52"\n`,
      );
      const p = join(dir, 'patch.json');
      writeFileSync(p, JSON.stringify({ op: 'add', path: '/channels/0', value: 1 }));
      writeFileSync(ws, JSON.stringify(good()));
      const r2 = await runNode([tsx, cli, 'fit', 'mle', ws, '-p', p], {
        env: { ...process.env, RISTRETTO_PYHF_SCHEMAS: '' },
      });
      expect(r2.code, r2.stderr).toBe(1);
      expect(r2.stderr).toBe(
        `ristretto fit: ${p}: at /: not a valid pyhf JSON Patch (1.0.0): expected an array, got an object\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
