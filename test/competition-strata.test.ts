// Strata of candidate pairs by their records' competition: quantile cuts of log n_A + log n_B,
// none when the candidates are too few, and the same stratum for a pair however it is asked.
import { describe, expect, it } from 'vitest';
import { competitionStrata } from '../src/match/competition-strata.js';
import type { Candidates } from '../src/match/tile.js';
import { seeded } from './helpers/clk-json.js';

/** Candidates whose A records have very different numbers of candidates (1 to 60). */
function crowdedCandidates(records: number, seed: number): { c: Candidates; rowA: Int32Array; rowB: Int32Array; perA: Int32Array; perB: Int32Array } {
  const random = seeded(seed);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < records; i++) {
    const n = 1 + Math.floor(60 * random() ** 3);
    for (let k = 0; k < n; k++) {
      a.push(i);
      b.push(Math.floor(random() * records * 10));
    }
  }
  const c: Candidates = { length: a.length, a: Int32Array.from(a), b: Int32Array.from(b), score: new Float64Array(a.length).fill(0.7) };
  const perA = new Int32Array(records);
  const perB = new Int32Array(records * 10);
  for (let k = 0; k < c.length; k++) {
    perA[c.a[k]]++;
    perB[c.b[k]]++;
  }
  return { c, rowA: c.a, rowB: c.b, perA, perB };
}

describe('competitionStrata', () => {
  it('cuts by quantiles of the covariate, crowded records in the higher strata', () => {
    const { c, rowA, rowB, perA, perB } = crowdedCandidates(6000, 1);
    const strata = competitionStrata(c, rowA, rowB, perA, perB);
    expect(strata.count).toBe(4);
    const sizes = new Array<number>(strata.count).fill(0);
    const meanCandidates = new Array<number>(strata.count).fill(0);
    for (let k = 0; k < c.length; k++) {
      sizes[strata.of[k]]++;
      meanCandidates[strata.of[k]] += perA[c.a[k]];
    }
    for (let s = 0; s < strata.count; s++) {
      expect(sizes[s]).toBeGreaterThanOrEqual(5000);
      meanCandidates[s] /= sizes[s];
      if (s > 0) expect(meanCandidates[s]).toBeGreaterThan(meanCandidates[s - 1]);
    }
    for (let k = 0; k < c.length; k += 97) expect(strata.stratumOf(perA[c.a[k]], perB[c.b[k]])).toBe(strata.of[k]);
  });

  it('keeps one stratum when the candidates are too few, or when asked for one', () => {
    const few = crowdedCandidates(200, 2);
    expect(competitionStrata(few.c, few.rowA, few.rowB, few.perA, few.perB).count).toBe(1);
    const many = crowdedCandidates(6000, 3);
    const pooled = competitionStrata(many.c, many.rowA, many.rowB, many.perA, many.perB, 1);
    expect(pooled.count).toBe(1);
    expect(pooled.of.every((s) => s === 0)).toBe(true);
  });
});
