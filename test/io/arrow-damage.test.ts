/**
 * Arrow IPC footers with each byte damaged in turn: opening and reading must end, with values or a
 * typed error. A damaged flatbuffer vector length once kept apache-arrow's schema decoding looping for
 * hours (a custom-metadata vector of ~2^31 entries); see the guard in src/io/arrow/read.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RistrettoError } from '../../src/errors/index.ts';
import { openArrow, writeArrowIPC } from '../../src/io/arrow/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-arrow-damage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('damaged Arrow IPC metadata', () => {
  it('every footer byte flipped: values or a typed error naming the file, never a hang or a RangeError', {
    timeout: 60_000,
  }, async () => {
    const file = join(dir, 'small.arrow');
    await writeArrowIPC(
      {
        Jet_pt: { offsets: new Int32Array([0, 2, 2, 3]), content: new Float32Array([1, 2, 3]) },
        nJet: new Int32Array([2, 0, 1]),
        MET_pt: new Float64Array([4, 5, 6]),
      },
      file,
      { dtypes: { nJet: 'int32' } },
    );
    const pristine = new Uint8Array(readFileSync(file));
    const footer = new DataView(pristine.buffer).getInt32(pristine.length - 10, true); // ... footer, int32 length, "ARROW1"
    expect(footer).toBeGreaterThan(0);
    const copy = join(dir, 'damaged.arrow');
    const outcomes = { typed: 0, read: 0 };
    for (const x of [0x80, 0x5a]) {
      for (let at = pristine.length - 10 - footer; at < pristine.length - 10; at++) {
        const b = pristine.slice();
        b[at] ^= x;
        writeFileSync(copy, b);
        try {
          const r = await openArrow(copy);
          for (const br of r.branches()) await r.read([br.name], 0, r.numEntries);
          outcomes.read++;
        } catch (e) {
          if (!(e instanceof RistrettoError) || !e.message.includes(copy)) throw e;
          outcomes.typed++;
        }
      }
    }
    expect(outcomes.typed).toBeGreaterThan(0);
  });
});
