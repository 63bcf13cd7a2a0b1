/** A branch the file has but cannot be read is reported as such ("cannot be read: …"), not as missing. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissingBranchError, runOnEvents } from '../../src/events/index.ts';
import { UnsupportedBranchError } from '../../src/io/root/errors.ts';
import type { EventReader } from '../../src/io/reader.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { runNode } from '../helpers/cli.ts';
import { repoRoot, sharedPath } from '../shared.ts';

describe('unreadable branches through the events layer', () => {
  let stl: EventReader;
  let nosplit: EventReader;
  beforeAll(async () => {
    stl = await openRoot(sharedPath('data', 'root-corpus', 'uproot-stl_containers.root'), { treeName: 'tree' });
    nosplit = await openRoot(sharedPath('data', 'root-corpus', 'uproot-small-evnt-tree-nosplit.root'), {
      treeName: 'tree',
    });
  });
  afterAll(async () => {
    await Promise.all([stl?.close(), nosplit?.close()]);
  });

  const errorOf = async (
    reader: EventReader,
    touch: (events: Record<string, unknown> & { column(n: string): unknown }) => unknown,
  ) =>
    runOnEvents(reader, 0, 1, (events) => touch(events as never)).then(
      () => undefined,
      (e: unknown) => e,
    );

  it('events.column of an std::map branch says it cannot be read and why', async () => {
    expect(stl.branches().some((b) => b.name === 'map_int32_int16')).toBe(false);
    const e = await errorOf(stl, (ev) => ev.column('map_int32_int16'));
    expect(e).toBeInstanceOf(UnsupportedBranchError);
    expect(e).not.toBeInstanceOf(MissingBranchError);
    expect((e as Error).message).toMatch(
      /branch 'map_int32_int16' of tree 'tree' in .*stl_containers\.root cannot be read: .*map<int,short>/,
    );
  });

  it('the same for a top-level name, and for an unsplit object branch', async () => {
    const e = await errorOf(stl, (ev) => ev.map_int32_int16);
    expect(e).toBeInstanceOf(UnsupportedBranchError);
    const n = await errorOf(nosplit, (ev) => ev.column('evt'));
    expect(n).toBeInstanceOf(UnsupportedBranchError);
    expect((n as Error).message).toMatch(/branch 'evt' .* cannot be read/);
  });

  it('a name the file does not have stays a missing branch with suggestions', async () => {
    const e = await errorOf(stl, (ev) => ev.column('vector_int3'));
    expect(e).toBeInstanceOf(MissingBranchError);
    expect((e as Error).message).toMatch(/no branch vector_int3 .*closest: vector_int32/);
  });

  it('run-analysis says the same, in process and from pool workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ristretto-unreadable-'));
    try {
      const proc = join(dir, 'touch-map.ts');
      writeFileSync(
        proc,
        "export default { accumulator: () => ({ n: 0 }), process: (ev: { column(n: string): { length: number } }) => ({ n: ev.column('map_int32_int16').length }) };\n",
      );
      const ds = join(dir, 'ds.json');
      writeFileSync(
        ds,
        JSON.stringify({
          stl: { files: { [sharedPath('data', 'root-corpus', 'uproot-stl_containers.root')]: 'tree' } },
        }),
      );
      for (const executor of [[], ['--executor', 'threads', '--workers', '2']]) {
        const r = await runNode([
          join(repoRoot, 'bin', 'run-analysis.mjs'),
          ds,
          proc,
          '--out',
          join(dir, 'out'),
          ...executor,
        ]);
        expect(r.code, executor.join(' ')).toBe(1);
        expect(r.stderr).toMatch(
          /branch 'map_int32_int16' of tree 'tree' in .* cannot be read: objects of type map<int,short>/,
        );
        expect(r.stderr).not.toMatch(/no branch/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
