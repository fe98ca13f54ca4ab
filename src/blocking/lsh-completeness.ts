// Which given pairs Hamming LSH blocking would compare, for measuring pairs completeness against a
// truth: the same plan blockedCandidates builds (lshPlanFor), a pair whose pools agree on every
// masked bit of at least one table, and that passes the join's two filters before Dice (pool
// distance, popcount bound). Kept beside the plan so that it changes with it.
import type { FilterSet } from '../match/shared-filters.js';
import type { Candidates } from '../match/tile.js';
import { thresholdTable } from '../similarity/threshold-table.js';
import { popcount32 } from '../bits.js';
import { lshPlanFor, type LshPlanChoice } from './lsh-plan.js';

/** Row pairs: pair k is (a[k], b[k]). */
export type RowPairs = Pick<Candidates, 'a' | 'b' | 'length'>;

/** Pool bit k of a row: filter bit plan.poolBits[k], at word k >>> 5, bit k & 31 (as lsh-scan.ts extracts it). */
function poolOf(set: FilterSet, row: number, poolBits: Int32Array, out: Int32Array): void {
  out.fill(0);
  const base = row * (set.filterBits / 8);
  for (let k = 0; k < poolBits.length; k++) {
    const bit = poolBits[k];
    if (set.clks[base + (bit >>> 3)] & (0x80 >>> (bit & 7))) out[k >>> 5] |= 1 << (k & 31);
  }
}

/**
 * 1 for each pair the LSH join would compare (then keep if its Dice reaches the threshold): it
 * collides in some table of the plan blockedCandidates uses, its pools differ in at most
 * plan.poolDistanceLimit bits, and the popcount bound does not exclude it. Else 0.
 *
 * @example const blocked = lshPairsBlocked(a, b, { a: Int32Array.of(0), b: Int32Array.of(3), length: 1 }, { threshold: 0.85 });
 */
export function lshPairsBlocked(a: FilterSet, b: FilterSet, pairs: RowPairs, options: LshPlanChoice): Uint8Array {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  const plan = lshPlanFor(a, b, options);
  const words = plan.poolWords;
  const poolA = new Int32Array(words);
  const poolB = new Int32Array(words);
  const blocked = new Uint8Array(pairs.length);
  const least = thresholdTable(a.filterBits, options.threshold);
  const ones = (set: FilterSet, row: number): number => {
    const width = set.filterBits / 8;
    let count = 0;
    for (let i = row * width; i < (row + 1) * width; i++) count += popcount32(set.clks[i]);
    return count;
  };
  for (let k = 0; k < pairs.length; k++) {
    poolOf(a, pairs.a[k], plan.poolBits, poolA);
    poolOf(b, pairs.b[k], plan.poolBits, poolB);
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
