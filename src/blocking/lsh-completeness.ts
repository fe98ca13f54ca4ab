// Which given pairs Hamming LSH blocking would compare, for measuring pairs completeness against a
// truth: given the plan blockedCandidates uses (lshPlanFor, or passed to it as `plan`), a pair whose pools agree on every
// masked bit of at least one table, and that passes the join's two filters before Dice (pool
// distance, popcount bound). Kept beside the plan so that it changes with it.
import type { FilterSet } from '../match/shared-filters.js';
import type { Candidates } from '../match/tile.js';
import { thresholdTable } from '../similarity/threshold-table.js';
import { popcount, popcount32 } from '../bits.js';
import { readPool, type LshPlan } from './lsh-plan.js';

/** Row pairs: pair k is (a[k], b[k]). */
export type RowPairs = Pick<Candidates, 'a' | 'b' | 'length'>;

/**
 * 1 for each pair the LSH join would compare (then keep if its Dice reaches the threshold): it
 * collides in some table of `plan` (the one blockedCandidates uses), its pools differ in at most
 * plan.poolDistanceLimit bits, and the popcount bound does not exclude it. Else 0.
 *
 * @example const blocked = lshPairsBlocked(a, b, { a: Int32Array.of(0), b: Int32Array.of(3), length: 1 }, lshPlanFor(a, b, { threshold: 0.85 }), 0.85);
 */
export function lshPairsBlocked(a: FilterSet, b: FilterSet, pairs: RowPairs, plan: LshPlan, threshold: number): Uint8Array {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  const words = plan.poolWords;
  const poolA = new Int32Array(words);
  const poolB = new Int32Array(words);
  const blocked = new Uint8Array(pairs.length);
  const least = thresholdTable(a.filterBits, threshold);
  const ones = (set: FilterSet, row: number): number => popcount(set.clks, row * (set.filterBits / 8), set.filterBits / 8);
  for (let k = 0; k < pairs.length; k++) {
    readPool(a, pairs.a[k], plan.poolBits, poolA);
    readPool(b, pairs.b[k], plan.poolBits, poolB);
    let distance = 0;
    for (let w = 0; w < words; w++) distance += popcount32(poolA[w] ^ poolB[w]);
    if (distance > plan.poolDistanceLimit) continue;
    const pa = ones(a, pairs.a[k]);
    const pb = ones(b, pairs.b[k]);
    if (least[pa + pb] > Math.min(pa, pb)) continue;
    for (let t = 0; t < plan.tables && blocked[k] === 0; t++) {
      let differ = 0;
      for (let w = 0; w < words; w++) differ |= (poolA[w] ^ poolB[w]) & plan.masks[t * words + w];
      if (differ === 0) blocked[k] = 1;
    }
  }
  return blocked;
}
