// Strata of candidate pairs by how much competition their two records have: the score model
// (score-model.ts) fits one chance curve per stratum.
//
// Why: chance scores are not the same for every record. A record with a long, common name or a
// dense filter meets many unrelated records at high scores; most records meet few. Pooled, the
// chance curve is a blend whose upper tail is set by those few crowded records, and it decays
// slowly enough to hide heavily corrupted true pairs (a true pair's records are typical ones).
// Within a stratum of similar records the chance tail falls fast and the true pairs stand out
// (docs/QUALITY.md shows the counts). The covariate is the number of candidates each record has at
// the floor, log n_A + log n_B: a function of the records only, so stratifying by it is valid
// whatever it correlates with; a true pair adds one to each count, which hardly moves the log.
import type { Candidates } from './tile.js';

/** Shares of the candidates below each cut, lowest first: finer where the typical records are. */
const CUT_SHARES = [0.125, 0.25, 0.5];
/** Candidates per stratum at least: fewer cannot show a chance curve of their own. */
const MIN_PER_STRATUM = 5000;

export interface CompetitionStrata {
  /** Number of strata (1 when the candidates are too few to split). */
  count: number;
  /** Stratum of each candidate, in the order given. */
  of: Uint8Array;
  /** Stratum of a pair whose records have these numbers of candidates. */
  stratumOf(candidatesOfA: number, candidatesOfB: number): number;
}

function covariate(candidatesOfA: number, candidatesOfB: number): number {
  return Math.log(Math.max(1, candidatesOfA)) + Math.log(Math.max(1, candidatesOfB));
}

/**
 * Strata by the covariate's quantiles over the candidates, at most `maxStrata`. `perA[rowA[k]]`
 * and `perB[rowB[k]]` are candidate k's records' numbers of candidates.
 */
export function competitionStrata(c: Candidates, rowA: Int32Array, rowB: Int32Array, perA: Int32Array, perB: Int32Array, maxStrata = CUT_SHARES.length + 1): CompetitionStrata {
  const x = new Float64Array(c.length);
  for (let k = 0; k < c.length; k++) x[k] = covariate(perA[rowA[k]], perB[rowB[k]]);
  const sorted = Float64Array.from(x).sort();
  const cuts: number[] = [];
  for (const share of CUT_SHARES.slice(0, Math.max(0, maxStrata - 1))) {
    const at = Math.floor(share * c.length);
    // A stratum must hold enough candidates on both sides of the cut; ties stay together.
    if (at < MIN_PER_STRATUM || c.length - at < MIN_PER_STRATUM) continue;
    const cut = sorted[at];
    const previous = cuts.length > 0 ? cuts[cuts.length - 1] : -Infinity;
    if (cut <= previous) continue;
    const below = lowerBound(sorted, cut);
    const belowPrevious = previous === -Infinity ? 0 : lowerBound(sorted, previous);
    if (below - belowPrevious < MIN_PER_STRATUM || c.length - below < MIN_PER_STRATUM) continue;
    cuts.push(cut);
  }
  const stratumOfValue = (v: number): number => {
    let s = 0;
    while (s < cuts.length && v >= cuts[s]) s++;
    return s;
  };
  const of = new Uint8Array(c.length);
  for (let k = 0; k < c.length; k++) of[k] = stratumOfValue(x[k]);
  return {
    count: cuts.length + 1,
    of,
    stratumOf: (candidatesOfA, candidatesOfB) => stratumOfValue(covariate(candidatesOfA, candidatesOfB)),
  };
}

/** First index whose value is at least v (values sorted ascending). */
function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
