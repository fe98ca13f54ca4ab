// Exact threshold test and popcount bound without division in the hot loop: for every popcount
// sum d, the least AND-popcount c with 2c/d >= T under anonlink's double arithmetic (README §5.1-5.2).
import { diceFromCounts } from './dice-reference.js';

/** Table entry for sums no AND-popcount can bring up to the threshold. Above any real count. */
export const UNREACHABLE = 0x7fffffff;

/**
 * `table[d]` for d = |A|+|B| in 0..2·filterBits is the least c with `2c / d >= threshold`
 * (inclusive, the same double division as the score), or UNREACHABLE. Correctly rounded
 * division is monotone in c, so the test `c >= table[d]` equals `score >= threshold` exactly.
 *
 * @example thresholdTable(8, 0.5)[8] // 2: 2·2/8 = 0.5
 */
export function thresholdTable(filterBits: number, threshold: number): Int32Array {
  const table = new Int32Array(2 * filterBits + 1).fill(UNREACHABLE);
  for (let d = 1; d <= 2 * filterBits; d++) {
    // c can never exceed min(|A|,|B|) <= d/2. Start a little below the real-number answer and
    // walk up, so rounding in threshold * d cannot skip the least qualifying c.
    const most = Math.floor(d / 2);
    let c = Math.max(0, Math.floor((threshold * d) / 2) - 2);
    while (c <= most && !(diceFromCounts(c, d, 0) >= threshold)) c++;
    if (c <= most) table[d] = c;
  }
  return table;
}

/**
 * Whether any pair with these popcounts can reach the threshold: the best case is |A∧B| =
 * min(|A|,|B|). Used to skip whole popcount bands (the pruning of Christen et al. and anonlink)
 * with the same exact test, so the bound never drops a qualifying pair.
 */
export function popcountsCanMatch(table: Int32Array, popcountA: number, popcountB: number): boolean {
  return table[popcountA + popcountB] <= Math.min(popcountA, popcountB);
}
