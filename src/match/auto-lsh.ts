// `--threshold auto` with LSH blocking, for inputs too large to compare in full (1.28 M x 10 M is
// 1.3 x 10^13 pairs). The score model needs candidates from well below any sensible threshold,
// where an LSH plan with the usual 99% completeness would need thousands of tables. So the plan
// is made for the lowest threshold it serves with at most MAX_TABLES tables, candidates are
// verified (exact Dice) down to the score where the plan still finds a pair 5% of the time, and
// the model weights each found pair by the inverse of that chance (foundProbability): the curves
// and the overlap estimate then describe all pairs, not only those the tables caught.
import { blockedCandidates, type BlockedCandidates } from '../blocking/blocked-candidates.js';
import { foundProbability, lshPlanFor, planSample, poolDistanceLimitFor, type LshPlan } from '../blocking/lsh-plan.js';
import { autoFromCandidates, estimateFloor, type ThresholdChoice } from './auto-threshold.js';
import type { ScoreModel } from './score-model.js';
import type { FilterSet } from './shared-filters.js';

/** Tables the plan may use: about 290 took 6.5 minutes at 1.28 M x 10 M on two cores (docs/SCALING.md). */
export const MAX_AUTO_TABLES = 400;
/** Candidates are verified down to the score found with this chance; lower, the weights 1/found would be noise. */
export const MIN_FOUND_PROBABILITY = 0.05;

export interface AutoLshOptions {
  workers: number;
  maxCandidates?: number;
  onProgress?: (done: number, total: number) => void;
  progress?: (message: string) => void;
}

export interface AutoLshResult {
  choice: ThresholdChoice;
  model: ScoreModel;
  candidates: BlockedCandidates;
  plan: LshPlan;
}

/** The lowest threshold on the 0.01 grid from `floor` whose plan needs at most MAX_AUTO_TABLES tables. */
export function autoLshPlan(a: FilterSet, b: FilterSet, floor: number): { plan: LshPlan; threshold: number } {
  // One sample of each side for every candidate threshold: sampling 10 M rows is the slow part.
  const sampleA = planSample(a);
  const sampleB = planSample(b);
  for (let step = Math.ceil(floor * 100 - 1e-9); step < 99; step++) {
    const plan = lshPlanFor(sampleA, sampleB, { threshold: step / 100 });
    if (plan.tables <= MAX_AUTO_TABLES) return { plan, threshold: step / 100 };
  }
  return { plan: lshPlanFor(sampleA, sampleB, { threshold: 0.99 }), threshold: 0.99 };
}

/** The lowest score on the 0.005 grid from `floor` that the plan finds with at least MIN_FOUND_PROBABILITY. */
export function verifyFloor(plan: LshPlan, floor: number): number {
  for (let step = Math.ceil(floor * 200 - 1e-9); step < 200; step++) {
    if (foundProbability(plan, step / 200) >= MIN_FOUND_PROBABILITY) return step / 200;
  }
  return 1;
}

/**
 * The automatic threshold on LSH candidates.
 *
 * @example const { choice, candidates } = await autoWithLsh(a, b, { workers: 2 });
 */
export async function autoWithLsh(a: FilterSet, b: FilterSet, options: AutoLshOptions): Promise<AutoLshResult> {
  const floor = await estimateFloor(a, b, options.workers);
  const { plan, threshold } = autoLshPlan(a, b, floor);
  const lowest = verifyFloor(plan, floor);
  options.progress?.(`LSH planned for ${threshold} (${plan.tables} tables of ${plan.bitsPerTable} bits); candidates verified from ${lowest}`);
  const verifying: LshPlan = { ...plan, poolDistanceLimit: poolDistanceLimitFor(plan, lowest) };
  const candidates = await blockedCandidates(a, b, { threshold: lowest, workers: options.workers, plan: verifying, maxCandidates: options.maxCandidates, onProgress: options.onProgress });
  const { choice, model } = autoFromCandidates(candidates, a.count, b.count, lowest, { found: (s) => foundProbability(plan, s) });
  return { choice, model, candidates, plan: verifying };
}
