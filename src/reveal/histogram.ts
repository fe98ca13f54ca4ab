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
  const { bins, below } = binBestScores([bestA, bestB], threshold, binsPerUnit);
  return { bins: bins.map(({ from, to, counts }) => ({ from, to, a: counts[0], b: counts[1] })), belowThreshold: { a: below[0], b: below[1] } };
}

/** Histogram bins over any number of record sets: `counts[s]` records of set s have their best score in the bin. */
export interface MultiHistogramBin {
  from: number;
  to: number;
  counts: number[];
}

/**
 * Bins each set's best scores (-1 = no candidate, counted in `below`) as bestScoreHistogram does,
 * for deduplication (one set) and linkage across several files (one set per file).
 */
export function binBestScores(sets: readonly Float64Array[], threshold: number, binsPerUnit = 100): { bins: MultiHistogramBin[]; below: number[] } {
  // Bin index with edges compared as doubles, so a score exactly on an edge lands above it.
  const binOf = (score: number): number => {
    let k = Math.floor(score * binsPerUnit);
    if (score < k / binsPerUnit) k--;
    if (score >= (k + 1) / binsPerUnit) k++;
    return Math.min(k, binsPerUnit - 1);
  };
  const first = binOf(threshold);
  const bins: MultiHistogramBin[] = [];
  for (let k = first; k < binsPerUnit; k++) bins.push({ from: k / binsPerUnit, to: (k + 1) / binsPerUnit, counts: sets.map(() => 0) });
  const below = sets.map(() => 0);
  sets.forEach((best, s) => {
    for (const score of best) {
      if (score < 0) below[s]++;
      else bins[binOf(score) - first].counts[s]++;
    }
  });
  return { bins, below };
}
