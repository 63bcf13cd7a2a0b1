/**
 * A content-addressed file (processor bundles, cached builds) whose bytes no longer match its name is
 * written again: a task on a shared endpoint that rewrote a bundle left it refused by hash for good
 * (issue 14, probe D3). A file with the right bytes is left as it is.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeContentAddressed } from '../../src/processor/bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeContentAddressed', () => {
  it('keeps a file with the right bytes and replaces one with other bytes', async () => {
    const code = 'export default 42;\n';
    const file = await writeContentAddressed(dir, 'abc.mjs', code);
    const first = statSync(file).ino;
    expect(await writeContentAddressed(dir, 'abc.mjs', code)).toBe(file);
    expect(statSync(file).ino).toBe(first);
    writeFileSync(file, 'export default 666;\n');
    await writeContentAddressed(dir, 'abc.mjs', code);
    expect(readFileSync(file, 'utf8')).toBe(code);
  });
});
