// The histogram reveal: for each record, its best candidate score, binned. No identities and no
// pairs leave the linkage unit, yet custodians can see where true matches separate from the rest
// and choose a threshold blind.
import type { Candidates } from '../match/tile.js';

export interface HistogramBin {
  /** Inclusive lower edge and exclusive upper edge (the last bin includes 1). */
  from: number;
  to: number;
  a: number;
  b: number;
}

export interface ScoreHistogram {
  bins: HistogramBin[];
  /** Records with no candidate at or above the threshold, per side. */
  belowThreshold: { a: number; b: number };
}

/** Bins of width 1/binsPerUnit (default 0.01) from the one holding `threshold` up to 1. */
export function bestScoreHistogram(c: Candidates, countA: number, countB: number, threshold: number, binsPerUnit = 100): ScoreHistogram {
  const bestA = new Float64Array(countA).fill(-1);
  const bestB = new Float64Array(countB).fill(-1);
  for (let k = 0; k < c.length; k++) {
    if (c.score[k] > bestA[c.a[k]]) bestA[c.a[k]] = c.score[k];
    if (c.score[k] > bestB[c.b[k]]) bestB[c.b[k]] = c.score[k];
  }
  // Bin index with edges compared as doubles, so a score exactly on an edge lands above it.
  const binOf = (score: number): number => {
    let k = Math.floor(score * binsPerUnit);
    if (score < k / binsPerUnit) k--;
    if (score >= (k + 1) / binsPerUnit) k++;
    return Math.min(k, binsPerUnit - 1);
  };
  const first = binOf(threshold);
  const bins: HistogramBin[] = [];
  for (let k = first; k < binsPerUnit; k++) bins.push({ from: k / binsPerUnit, to: (k + 1) / binsPerUnit, a: 0, b: 0 });
  const belowThreshold = { a: 0, b: 0 };
  const add = (best: Float64Array, side: 'a' | 'b'): void => {
    for (const score of best) {
      if (score < 0) belowThreshold[side]++;
      else bins[binOf(score) - first][side]++;
    }
  };
  add(bestA, 'a');
  add(bestB, 'b');
  return { bins, belowThreshold };
}
