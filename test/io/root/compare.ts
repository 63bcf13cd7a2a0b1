/** Column comparison helpers for the ROOT reader tests (plain loops, independent of the reader). */
import { expect } from 'vitest';
import type { Column } from '../../../src/io/reader.ts';
import { columnEvents } from '../../helpers/columns.ts';

function isJagged(c: Column): c is Extract<Column, { offsets: Int32Array }> {
  return 'offsets' in c;
}

/** Entries [a, b) of a column, rebuilt by hand. */
export function sliceEntries(c: Column, a: number, b: number): (number | number[])[] {
  return columnEvents(c).slice(a, b);
}

/** Exact equality (NaN equals NaN), reporting the first differing entry. */
export function expectSameEntries(got: (number | number[])[], want: (number | number[])[], label: string): void {
  expect(got.length, `${label}: number of entries`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const same = Array.isArray(w)
      ? Array.isArray(g) && g.length === w.length && w.every((x, j) => Object.is(x, g[j]))
      : !Array.isArray(g) && Object.is(g, w);
    if (!same) expect(g, `${label}: entry ${i}`).toEqual(w);
  }
}

/** Two columns hold the same type of array and the same values. */
export function expectSameColumn(got: Column, want: Column, label: string): void {
  if (isJagged(want)) {
    expect(isJagged(got), `${label}: jagged`).toBe(true);
    const g = got as typeof want;
    expect(g.content.constructor.name, `${label}: content type`).toBe(want.content.constructor.name);
    expect(Array.from(g.offsets), `${label}: offsets`).toEqual(Array.from(want.offsets));
    expect(Buffer.compare(bytes(g.content), bytes(want.content)), `${label}: content bytes`).toBe(0);
  } else {
    expect(isJagged(got), `${label}: flat`).toBe(false);
    expect(got.constructor.name, `${label}: type`).toBe(want.constructor.name);
    expect(Buffer.compare(bytes(got as typeof want), bytes(want)), `${label}: bytes`).toBe(0);
  }
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
