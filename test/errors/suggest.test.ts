/** The one closest-name ranking behind every "not found; closest: ..." message. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestNames, editDistance } from '../../src/errors/suggest.ts';

/** Textbook recursive definition with a full memo table: an independent reference for the two-row version. */
function referenceDistance(a: string, b: string): number {
  const memo = new Map<string, number>();
  const go = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    const d = Math.min(go(i - 1, j) + 1, go(i, j - 1) + 1, go(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    memo.set(k, d);
    return d;
  };
  return go(a.length, b.length);
}

describe('editDistance', () => {
  it('matches the recursive definition', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'A', '_'), maxLength: 9 });
    fc.assert(
      fc.property(word, word, (a, b) => editDistance(a, b) === referenceDistance(a, b)),
      { numRuns: 400 },
    );
  });

  it('known values; case counts', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('pt', 'Pt')).toBe(1);
  });
});

describe('closestNames', () => {
  const branches = ['nJet', 'Jet_pt', 'Jet_eta', 'MET_pt', 'Muon_pt', 'Muon_eta', 'HLT_IsoMu24'];

  it('ranks case slips, then containment, then edits', () => {
    expect(closestNames('MET_pT', branches)[0]).toBe('MET_pt');
    expect(closestNames('nJets', branches)[0]).toBe('nJet');
    expect(closestNames('Muon_ptt', branches)[0]).toBe('Muon_pt');
    expect(closestNames('HLT_IsoMu2', branches)[0]).toBe('HLT_IsoMu24');
    // 'Jet_pt' contains 'pt' (one edit at most) although 'eta'-like names are fewer plain edits away
    expect(closestNames('pt', ['eta', 'Jet_pt'])).toEqual(['Jet_pt', 'eta']);
  });

  it('ties keep the order of the candidates', () => {
    expect(closestNames('ab', ['xb', 'ax', 'ay'])).toEqual(['xb', 'ax', 'ay']);
    expect(closestNames('ab', ['ay', 'xb', 'ax'])).toEqual(['ay', 'xb', 'ax']);
  });

  it('returns at most limit names, each candidate at most once, from any iterable', () => {
    expect(closestNames('Jet', new Set(branches), 3)).toHaveLength(3);
    expect(closestNames('x', [])).toEqual([]);
    const all = closestNames('zzz', branches, 100);
    expect([...all].sort()).toEqual([...branches].sort());
  });

  it('lists a name given more than once only once', () => {
    // e.g. endpoint names shared by several users, or a branch name that occurs twice in a tree
    expect(closestNames('ep', ['ep1', 'ep1', 'ep2', 'ep1', 'ep2'])).toEqual(['ep1', 'ep2']);
    const got = closestNames('Muon_pt', ['Muon_pt2', 'Muon_pt2', 'Muon_eta', 'Muon_pt2', 'Muon_phi'], 3);
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual(['Muon_pt2', 'Muon_eta', 'Muon_phi']);
  });

  it('nearOnly leaves out names too far off to be meant', () => {
    expect(closestNames('Pt', ['pt', 'eta'], 3, { nearOnly: true })).toEqual(['pt']);
    expect(closestNames('Pt', ['pt', 'eta'], 3)).toEqual(['pt', 'eta']);
    expect(closestNames('zzzz', branches, 3, { nearOnly: true })).toEqual([]);
  });
});
