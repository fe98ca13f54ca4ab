// `--threshold auto` below the CLI: the threshold of highest expected F1 from the score model,
// the refusals when no threshold can be chosen (each with its reason, never a fallback), the
// all-pairs path end to end on perturbed filters, and the LSH helpers that let it run at scale.
import { describe, expect, it } from 'vitest';
import { agreementAt, foundProbability, lshPlanFor } from '../src/blocking/lsh-plan.js';
import { UserError } from '../src/errors.js';
import { assertAutoThresholdFeasible, autoFromCandidates, AUTO_THRESHOLD_MAX_PAIRS, candidatesAtOrAbove, chooseThreshold } from '../src/match/auto-threshold.js';
import { autoLshPlan, MAX_AUTO_TABLES, MIN_FOUND_PROBABILITY, verifyFloor } from '../src/match/auto-lsh.js';
import { greedySolve } from '../src/solve/greedy.js';
import type { Candidates } from '../src/match/tile.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';
import { scoreWorld } from './helpers/score-candidates.js';

function pairs(scores: number[], spread = 1): Candidates {
  return {
    length: scores.length,
    a: Int32Array.from(scores, (_, k) => k),
    b: Int32Array.from(scores, (_, k) => Math.floor(k / spread)),
    score: Float64Array.from(scores),
  };
}

function refusal(candidates: Candidates, countA: number, countB: number, floor: number): string {
  try {
    autoFromCandidates(candidates, countA, countB, floor);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('autoFromCandidates', () => {
  const world = scoreWorld({ countA: 2000, countB: 20_000, matches: 600, floor: 0.6, chancePerRecord: 15, chanceSpread: 0.06, matchMean: 0.88, matchSpread: 0.12, seed: 3 });

  it('chooses the threshold of highest expected F1, close to the best threshold by the truth', () => {
    const { choice } = autoFromCandidates(world.candidates, world.countA, world.countB, world.floor, { replicates: 5 });
    expect(choice.method).toBe('score-model');
    expect(choice.reason).toMatch(/highest expected F1/);
    const matching = greedySolve(world.candidates, world.countA, world.countB);
    const truePair = new Set<string>();
    for (let k = 0; k < world.candidates.length; k++) if (world.isMatch[k]) truePair.add(`${world.candidates.a[k]}:${world.candidates.b[k]}`);
    const f1At = (t: number): number => {
      let tp = 0;
      let n = 0;
      for (let k = 0; k < matching.length; k++) {
        if (matching.score[k] < t) continue;
        n++;
        if (truePair.has(`${matching.a[k]}:${matching.b[k]}`)) tp++;
      }
      return (2 * tp) / (n + world.matches);
    };
    let best = 0;
    for (let t = world.floor; t <= 1; t += 0.005) best = Math.max(best, f1At(t));
    expect(best - f1At(choice.threshold)).toBeLessThan(0.01);
    expect(Math.abs(choice.expected.f1 - f1At(choice.threshold))).toBeLessThan(0.03);
    expect(choice.candidatesAtThreshold).toBe(candidatesAtOrAbove(world.candidates, choice.threshold).length);
    expect(choice.estimate.low).toBeLessThanOrEqual(world.matches);
    expect(choice.estimate.high).toBeGreaterThanOrEqual(world.matches);
  });

  it('refuses too few candidates, one score, no chance pairs and no matches, saying why', () => {
    expect(refusal(pairs([0.9, 0.8, 0.95]), 3, 3, 0.5)).toMatch(/only 3 candidate pairs .* too few to fit/);
    expect(refusal(pairs(new Array<number>(500).fill(0.9)), 500, 500, 0.5)).toMatch(/every candidate pair scores within one bin/);
    // A file against a copy of itself: every record has its partner at 1 and a few near copies.
    const identical = pairs(Array.from({ length: 400 }, (_, k) => (k % 4 === 0 ? 1 : 0.97 + (k % 7) * 0.004)), 1);
    expect(refusal(identical, 400, 400, 0.9)).toMatch(/too few non-matching pairs|almost every candidate pair looks like a match/);
    const chanceOnly = scoreWorld({ countA: 2000, countB: 20_000, matches: 0, floor: 0.6, chancePerRecord: 15, chanceSpread: 0.03, matchMean: 0.9, matchSpread: 0.1, seed: 5 });
    expect(refusal(chanceOnly.candidates, 2000, 20_000, 0.6)).toMatch(/no candidate pairs score clearly above what chance explains/);
  });
});

describe('chooseThreshold on filters', () => {
  it('separates perturbed copies from unrelated filters, every pair at the floor', async () => {
    const random = seeded(7);
    const b = randomFilters(1500, 1024, 0.3, random);
    const a = perturbed(b, 120, random);
    const { choice, candidates } = await chooseThreshold(a, b, { workers: 0 });
    expect(choice.threshold).toBeGreaterThanOrEqual(choice.floor);
    expect(candidates.length).toBe(choice.candidatesAtFloor);
    const kept = candidatesAtOrAbove(candidates, choice.threshold);
    const matching = greedySolve(kept, a.count, b.count);
    let right = 0;
    for (let k = 0; k < matching.length; k++) if (matching.a[k] === matching.b[k]) right++;
    expect(right).toBe(a.count);
    expect(matching.length).toBe(a.count);
    expect(choice.estimate.low).toBeLessThanOrEqual(a.count);
    expect(choice.estimate.high).toBeGreaterThanOrEqual(a.count);
  });
});

describe('--threshold auto on inputs too large to compare in full', () => {
  it('is refused without blocking, above the pair limit only', () => {
    expect(() => assertAutoThresholdFeasible(200_000, 20_000)).not.toThrow();
    expect(() => assertAutoThresholdFeasible(AUTO_THRESHOLD_MAX_PAIRS, 1)).not.toThrow();
    expect(() => assertAutoThresholdFeasible(1_280_000, 10_000_000)).toThrow(/all 1\.28e\+13 pairs without blocking, about 18 hours/);
  });

  it('plans LSH for a threshold it can serve and verifies down to where pairs are still found', () => {
    const random = seeded(8);
    const b = randomFilters(3000, 1024, 0.3, random);
    const a = perturbed(b, 150, random);
    const { plan, threshold } = autoLshPlan(a, b, 0.5);
    expect(plan.tables).toBeLessThanOrEqual(MAX_AUTO_TABLES);
    expect(threshold).toBeGreaterThanOrEqual(0.5);
    const lowest = verifyFloor(plan, 0.5);
    expect(foundProbability(plan, lowest)).toBeGreaterThanOrEqual(MIN_FOUND_PROBABILITY);
    if (lowest > 0.5) expect(foundProbability(plan, lowest - 0.005)).toBeLessThan(MIN_FOUND_PROBABILITY);
    // The chance of being found rises with the score, and the plan keeps its promise at its threshold.
    for (let s = lowest; s < 1; s += 0.01) expect(foundProbability(plan, s + 0.01)).toBeGreaterThanOrEqual(foundProbability(plan, s));
    expect(foundProbability(plan, threshold)).toBeCloseTo(plan.predictedCompleteness, 6);
    expect(agreementAt(plan, 1)).toBe(1);
    expect(lshPlanFor(a, b, { threshold }).tables).toBe(plan.tables);
  });
});
