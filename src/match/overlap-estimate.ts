// The overlap estimate: how many true pairs the two files share, with a 95% interval, from the
// score model (score-model.ts). The point estimate is the model's expected number of true pairs
// at or above the floor (weighted by 1/found where blocking samples pairs); true pairs scoring
// below the floor are not counted (the floor is set low for that: about 40 chance pairs per
// record). The interval adds two spreads: the model's own uncertainty,
// measured by refitting it on bootstrap replicates (Poisson weights per record of the smaller
// side, Hanley and MacGibbon 2006), and the spread of the number of matches among the candidates
// given the model (Σ p(1 − p)), then a normal interval. Widened on both sides by the model's
// unresolved part: the true pairs it places in bins where chance pairs outnumber them, which the
// counts there do not pin down; the interval allows from none of them to twice as many (a bound
// chosen, not derived: docs/QUALITY.md).
import { Random } from '../synth/random.js';
import type { ScoreModel, ScoreModelInput } from './score-model.js';

export interface OverlapEstimate {
  /** Expected true pairs between the two files (the overlap), rounded. */
  estimate: number;
  low: number;
  high: number;
  /** Confidence level of [low, high]. */
  level: number;
  /** The lowest score the model saw: true pairs below it are not in the estimate. */
  floor: number;
  /** Expected true pairs, within the estimate, in bins where chance pairs outnumber them: the interval is widened by it on both sides. */
  unresolved: number;
}

export const ESTIMATE_LEVEL = 0.95;
const Z_95 = 1.959964;
export const DEFAULT_REPLICATES = 20;

/** Poisson(1) draw by inversion: the bootstrap weight of one record. */
function poissonOne(random: Random): number {
  let u = random.float();
  let k = 0;
  let p = Math.exp(-1);
  let cumulative = p;
  while (u > cumulative && k < 20) {
    k++;
    p /= k;
    cumulative += p;
  }
  return k;
}

/**
 * The estimate and its interval. Deterministic for a seed: replicate r draws its weights from
 * Random.forKey(seed, 0x0e5, r).
 */
export function estimateOverlap(input: ScoreModelInput, model: ScoreModel, replicates = DEFAULT_REPLICATES, seed = 1): OverlapEstimate {
  const point = model.matchesAboveFloor;
  const { candidates: c } = input;
  const onA = input.countA <= input.countB;
  const records = onA ? input.countA : input.countB;
  const rows = onA ? c.a : c.b;
  const values: number[] = [];
  const weights = new Float64Array(records);
  const pairWeights = new Float64Array(c.length);
  for (let r = 0; r < replicates; r++) {
    const random = Random.forKey(seed, 0x0e5, r);
    for (let i = 0; i < records; i++) weights[i] = poissonOne(random);
    for (let k = 0; k < c.length; k++) pairWeights[k] = weights[rows[k]];
    values.push(model.refit(pairWeights));
  }
  let mean = 0;
  for (const v of values) mean += v / Math.max(1, values.length);
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2 / Math.max(1, values.length - 1);
  const sd = Math.sqrt(variance + model.bernoulliVariance);
  const unresolved = model.unresolved;
  return {
    estimate: Math.round(point),
    low: Math.max(0, Math.floor(point - Z_95 * sd - unresolved)),
    high: Math.ceil(point + Z_95 * sd + unresolved),
    level: ESTIMATE_LEVEL,
    floor: model.floor,
    unresolved: Math.round(unresolved),
  };
}
