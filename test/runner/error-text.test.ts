/**
 * What a user reads when a chunk fails or is retried: each chunk named once, the tree only for ROOT
 * files, and one piece of advice per cause (found by the admin probe on root:// reads: three hints).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/dataset/chunking.ts';
import { RistrettoError } from '../../src/errors/index.ts';
import { describeItem, FileReadError } from '../../src/runner/errors.ts';
import { progressReporter } from '../../src/runner/progress.ts';

const item = (file: string): WorkItem => ({
  dataset: 'DY',
  file,
  tree: 'Events',
  entryStart: 0,
  entryStop: 100,
  fileId: file,
});

describe('chunk error text', () => {
  it('names the tree of ROOT files only', () => {
    expect(describeItem(item('/d/a.root'))).toBe('dataset DY, file /d/a.root (tree Events), entries [0, 100)');
    expect(describeItem(item('root://h:1094//d/a.root'))).toContain('(tree Events)');
    expect(describeItem(item('https://h/a.ROOT?x=1'))).toContain('(tree Events)');
    expect(describeItem(item('/d/a.parquet'))).toBe('dataset DY, file /d/a.parquet, entries [0, 100)');
    expect(describeItem(item('root://h:1094//d/a.parquet'))).not.toContain('tree');
  });

  it('a reader error with its own advice gets --skipbadfiles joined to it: one piece of advice', () => {
    const told = new RistrettoError('server gone', {}, 'check that the server is up');
    const e = new FileReadError(item('/d/a.parquet'), told.message, { cause: told });
    expect(e.message).toBe(
      'cannot read dataset DY, file /d/a.parquet, entries [0, 100): server gone — check that the server is up, or pass --skipbadfiles to leave unreadable files out',
    );
    const bare = new FileReadError(item('/d/a.parquet'), 'bad magic', { cause: new Error('bad magic') });
    expect(bare.message).toMatch(/bad magic — check the file, or pass --skipbadfiles/);
  });

  it('a retry line names the chunk once', () => {
    let text = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    });
    const r = progressReporter({ stream });
    const it0 = item('/d/a.parquet');
    r.onRetry?.(it0, 1, new FileReadError(it0, 'timeout'));
    r.onRetry?.(it0, 2, new Error('worker died'));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(
      'retry 1: cannot read dataset DY, file /d/a.parquet, entries [0, 100): timeout — check the file, or pass --skipbadfiles to leave unreadable files out',
    );
    expect(lines[1]).toBe('retry 2 of dataset DY, file /d/a.parquet, entries [0, 100): worker died');
  });
});
