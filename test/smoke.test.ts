import { describe, expect, it } from 'vitest';
import { lengthOf } from '../src/columnar/types.ts';

describe('skeleton', () => {
  it('lengthOf counts events from offsets', () => {
    expect(lengthOf({ offsets: Int32Array.from([0, 2, 2, 5]), content: new Float32Array(5) })).toBe(3);
  });
});
