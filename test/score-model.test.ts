// The score model on candidate sets drawn from its own assumptions (test/helpers/score-candidates):
// it finds the true pairs' number, gives them high probabilities and chance pairs low ones, finds
// nothing where there is nothing, and is deterministic.
import { describe, expect, it } from 'vitest';
import { estimateOverlap } from '../src/match/overlap-estimate.js';
import { fitScoreModel } from '../src/match/score-model.js';
import { scoreWorld, type ScoreWorldOptions } from './helpers/score-candidates.js';

const base: ScoreWorldOptions = { countA: 2000, countB: 20_000, matches: 600, floor: 0.6, chancePerRecord: 15, chanceSpread: 0.06, matchMean: 0.88, matchSpread: 0.12, seed: 3 };

function split(options: Partial<ScoreWorldOptions>) {
  const world = scoreWorld({ ...base, ...options });
  const model = fitScoreModel(world);
  let onMatches = 0;
  let onChance = 0;
  for (let k = 0; k < world.candidates.length; k++) {
    if (world.isMatch[k] === 1) onMatches += model.probability[k];
    else onChance += model.probability[k];
  }
  let seen = 0;
  for (const m of world.isMatch) seen += m;
  return { world, model, onMatches, onChance, seen };
}

describe('fitScoreModel', () => {
  it('estimates the number of true pairs and puts the probability on them', () => {
    const { model, onMatches, onChance, seen } = split({});
    expect(Math.abs(model.matchesAboveFloor - seen) / seen).toBeLessThan(0.05);
    expect(onMatches / seen).toBeGreaterThan(0.85);
    expect(onChance / seen).toBeLessThan(0.1);
  });

  it('finds (almost) nothing in chance pairs alone', () => {
    // 30,000 chance pairs of 2,000 records: the last pairs of a Gaussian tail sit past where a
    // log-concave fit of the tail ends, and the model takes about a dozen of them for matches
    // (docs/QUALITY.md, known weaknesses).
    const { model } = split({ matches: 0 });
    expect(model.matchesAboveFloor).toBeLessThan(15);
  });

  it('finds the true pairs of typical records among crowded records with heavy chance tails', () => {
    // A tenth of the records meet eight times as many unrelated ones, with a tail twice as wide:
    // pooled, their tail hides the true pairs; one chance curve per stratum of competition does not.
    for (const seed of [3, 4]) {
      const world = scoreWorld({ ...base, countA: 4000, countB: 40_000, matches: 400, chancePerRecord: 10, chanceSpread: 0.04, matchMean: 0.85, matchSpread: 0.15, seed, crowded: { share: 0.1, factor: 8, spread: 0.08 } });
      let seen = 0;
      for (const m of world.isMatch) seen += m;
      const stratified = fitScoreModel(world);
      const pooled = fitScoreModel({ ...world, pooled: true });
      expect(stratified.strata).toBeGreaterThan(1);
      expect(pooled.strata).toBe(1);
      const error = Math.abs(stratified.matchesAboveFloor - seen) / seen;
      expect(error).toBeLessThan(0.15);
      expect(Math.abs(pooled.matchesAboveFloor - seen) / seen).toBeGreaterThan(2 * error);
    }
  });

  it('finds a few true pairs among many chance ones, and nearly every record matched', () => {
    const few = split({ matches: 40, chancePerRecord: 20 });
    expect(Math.abs(few.model.matchesAboveFloor - few.seen)).toBeLessThan(8);
    const most = split({ matches: 1900, matchMean: 0.85, matchSpread: 0.15, chancePerRecord: 30 });
    expect(Math.abs(most.model.matchesAboveFloor - most.seen) / most.seen).toBeLessThan(0.05);
  });

  it('is deterministic, and its interval covers the truth', () => {
    const { world, model, seen } = split({ seed: 9 });
    const again = fitScoreModel(world);
    expect(Array.from(again.probability)).toEqual(Array.from(model.probability));
    const estimate = estimateOverlap(world, model, 10);
    expect(estimate.low).toBeLessThanOrEqual(seen);
    expect(estimate.high).toBeGreaterThanOrEqual(seen);
    expect(estimate.low).toBeLessThanOrEqual(estimate.estimate);
    expect(estimate.estimate).toBeLessThanOrEqual(estimate.high);
    // The unresolved part (true pairs placed where chance pairs outnumber them) widens the
    // interval on both sides by itself.
    expect(estimate.unresolved).toBeGreaterThanOrEqual(0);
    expect(estimate.unresolved).toBeLessThan(estimate.estimate);
    expect(estimate.estimate - estimate.low).toBeGreaterThanOrEqual(estimate.unresolved - 1);
    expect(estimate.high - estimate.estimate).toBeGreaterThanOrEqual(estimate.unresolved - 1);
    expect(estimateOverlap(world, model, 10)).toEqual(estimate);
  });

  it('weights pairs by the inverse of the chance that blocking found them', () => {
    // Keep each pair with probability 0.5 (as a blocking that finds half the pairs): the estimate
    // with found = 0.5 stays near the whole set's.
    const { world, seen } = split({ seed: 4 });
    const keep: number[] = [];
    for (let k = 0; k < world.candidates.length; k++) if ((k * 2654435761) % 4294967296 < 2147483648) keep.push(k);
    const half = {
      length: keep.length,
      a: Int32Array.from(keep, (k) => world.candidates.a[k]),
      b: Int32Array.from(keep, (k) => world.candidates.b[k]),
      score: Float64Array.from(keep, (k) => world.candidates.score[k]),
    };
    const model = fitScoreModel({ ...world, candidates: half, found: () => 0.5 });
    expect(Math.abs(model.matchesAboveFloor - seen) / seen).toBeLessThan(0.15);
    const unweighted = fitScoreModel({ ...world, candidates: half });
    expect(unweighted.matchesAboveFloor / seen).toBeLessThan(0.65);
  });
});
