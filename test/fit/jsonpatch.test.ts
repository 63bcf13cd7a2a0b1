import { describe, expect, it } from 'vitest';
import { applyPatch, parsePointer, PatchError } from '../../src/fit/index.ts';

describe('JSON Patch (RFC 6902)', () => {
  const doc = { a: { b: [1, 2, 3] }, 'x/y': { '~z': 1 } };

  it('parses pointers with escapes', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/x~1y/~0z')).toEqual(['x/y', '~z']);
  });

  it('applies add, remove, replace, test, move and copy without touching the input', () => {
    const out = applyPatch(doc, [
      { op: 'test', path: '/a/b/0', value: 1 },
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/x~1y/~0z', value: { deep: true } },
      { op: 'copy', from: '/a/b', path: '/c' },
      { op: 'move', from: '/c', path: '/d' },
    ]);
    expect(out).toEqual({ a: { b: [9, 2, 3, 4] }, 'x/y': { '~z': { deep: true } }, d: [9, 2, 3, 4] });
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, 'x/y': { '~z': 1 } });
  });

  it('names the path and the operation that does not apply', () => {
    const bad = () =>
      applyPatch(
        doc,
        [
          { op: 'add', path: '/a/b/1', value: 0 },
          { op: 'remove', path: '/channels/7/samples/0' },
        ],
        'patch.x.json',
      );
    expect(bad).toThrow(PatchError);
    expect(bad).toThrow(/patch patch\.x\.json: operation 1 at \/channels\/7\/samples\/0/);
    expect(() => applyPatch(doc, [{ op: 'replace', path: '/a/b/3', value: 0 }])).toThrow(
      /at \/a\/b\/3: index 3 is out of range/,
    );
    expect(() => applyPatch(doc, [{ op: 'test', path: '/a/b/0', value: 2 }])).toThrow(/test failed/);
    expect(() => applyPatch(doc, [{ op: 'replace', path: '/nope', value: 0 }])).toThrow(/no member "nope"/);
  });

  it('names the file and the pointer of the operation in it: a patch file, or a patch in a patch set', () => {
    const ops = [
      { op: 'add' as const, path: '/a/b/1', value: 0 },
      { op: 'remove' as const, path: '/channels/7/samples/0' },
    ];
    const caught = (origin: Parameters<typeof applyPatch>[2]) => {
      try {
        applyPatch(doc, ops, origin);
      } catch (e) {
        return e as PatchError;
      }
      throw new Error('the patch applied');
    };
    const inFile = caught({ name: 'sig_1', file: 'set/patch.sig_1.json', pointer: '' });
    expect(inFile.message).toMatch(
      /^patch sig_1 \(set\/patch\.sig_1\.json at \/1\): operation 1 at \/channels\/7\/samples\/0: no member "channels"/,
    );
    expect([inFile.file, inFile.filePointer, inFile.path, inFile.opIndex]).toEqual([
      'set/patch.sig_1.json',
      '/1',
      '/channels/7/samples/0',
      1,
    ]);
    const inSet = caught({ name: 'sig_2', file: 'patchset.json', pointer: '/patches/4/patch' });
    expect(inSet.message).toMatch(/^patch sig_2 \(patchset\.json at \/patches\/4\/patch\/1\): operation 1 at /);
    expect(inSet.context).toMatchObject({ file: 'patchset.json', filePointer: '/patches/4/patch/1', patch: 'sig_2' });
    expect(caught({ file: 'bad.json' }).message).toMatch(/^patch file bad\.json at \/1: operation 1 at /);
  });

  it('throws PatchError, never a plain Error, for every step that fails', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('no error');
    };
    const bad = err(() => parsePointer('a/b')) as PatchError;
    expect(bad).toBeInstanceOf(PatchError);
    expect(bad.reason).toBe('JSON pointer must start with "/": "a/b"');
    const cases: [Parameters<typeof applyPatch>[1], RegExp][] = [
      [[{ op: 'add', path: 'a', value: 1 }], /operation 0 at a: JSON pointer must start with "\/"/],
      [[{ op: 'add', path: '/a/b/x', value: 1 }], /operation 0 at \/a\/b\/x: "x" is not an array index/],
      [[{ op: 'remove', path: '' }], /cannot remove the whole document/],
      [[{ op: 'move', from: '/a', path: '/a/c' }], /cannot move \/a into its own child/],
      [[{ op: 'nope', path: '/a' } as never], /unknown operation "nope"/],
      // structuredClone refuses a function: still a PatchError naming the operation
      [[{ op: 'add', path: '/f', value: () => 1 }], /operation 0 at \/f: .*could not be cloned/],
    ];
    for (const [ops, msg] of cases) {
      const e = err(() => applyPatch(doc, ops, 'p'));
      expect(e).toBeInstanceOf(PatchError);
      expect((e as Error).message).toMatch(msg);
      expect((e as PatchError).opIndex).toBe(0);
    }
  });
});
