// Which given pairs Hamming LSH blocking would put together, for measuring pairs completeness
// against a truth: the same plan blockedCandidates builds (planLsh with the same options), and a
// pair counts as blocked when its pools agree on every masked bit of at least one table. Kept
// beside the plan so that it changes with it.
import type { FilterSet } from '../match/shared-filters.js';
import type { Candidates } from '../match/tile.js';
import { DEFAULT_TARGET_COMPLETENESS } from './blocked-candidates.js';
import { planLsh, type LshPlan } from './lsh-plan.js';

/** Row pairs: pair k is (a[k], b[k]). */
export type RowPairs = Pick<Candidates, 'a' | 'b' | 'length'>;

export interface LshCompletenessOptions {
  threshold: number;
  /** As for blockedCandidates; default 1. */
  seed?: number;
  /** As for blockedCandidates; default DEFAULT_TARGET_COMPLETENESS. */
  targetCompleteness?: number;
}

/** The plan blockedCandidates uses for these inputs and options: the smaller side is indexed. */
export function lshPlanFor(a: FilterSet, b: FilterSet, options: LshCompletenessOptions): LshPlan {
  return planLsh(a, b, {
    threshold: options.threshold,
    targetCompleteness: options.targetCompleteness ?? DEFAULT_TARGET_COMPLETENESS,
    seed: options.seed ?? 1,
    indexedCount: Math.min(a.count, b.count),
  });
}

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
 * 1 for each pair that collides in some table of the LSH plan blockedCandidates would use, else 0.
 * The join also drops colliding pairs whose pools differ in more than plan.poolDistanceLimit bits
 * before comparing them (a 4-sigma bound for pairs at the threshold); that step is a filter on
 * comparisons, not on blocks, and is not applied here.
 *
 * @example const blocked = lshPairsBlocked(a, b, { a: Int32Array.of(0), b: Int32Array.of(3), length: 1 }, { threshold: 0.85 });
 */
export function lshPairsBlocked(a: FilterSet, b: FilterSet, pairs: RowPairs, options: LshCompletenessOptions): Uint8Array {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  const plan = lshPlanFor(a, b, options);
  const words = plan.poolWords;
  const poolA = new Int32Array(words);
  const poolB = new Int32Array(words);
  const blocked = new Uint8Array(pairs.length);
  for (let k = 0; k < pairs.length; k++) {
    poolOf(a, pairs.a[k], plan.poolBits, poolA);
    poolOf(b, pairs.b[k], plan.poolBits, poolB);
    for (let t = 0; t < plan.tables && blocked[k] === 0; t++) {
      let differ = 0;
      for (let w = 0; w < words; w++) differ |= (poolA[w] ^ poolB[w]) & plan.masks[t * words + w];
      if (differ === 0) blocked[k] = 1;
    }
  }
  return blocked;
}
