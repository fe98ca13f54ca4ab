// `--threshold auto`: the threshold that maximises the F1 score the score model expects
// (score-model.ts), with the overlap estimate and its interval (overlap-estimate.ts), from every
// candidate pair at a low floor. No labelled pairs, no fixed rules: the same model serves plain
// and hardened filters, all pairs and LSH blocking (through the chance that blocking found a pair).
// An earlier rule pile (valley, Otsu, exact-copy share, gap and floor fallbacks, tuned on the
// datasets of docs/QUALITY.md) was replaced: docs/QUALITY.md compares the two.
import { UserError } from '../errors.js';
import { findCandidates, type CandidateResult } from './candidates.js';
import { estimateOverlap, type OverlapEstimate } from './overlap-estimate.js';
import { fitScoreModel, type ScoreModel, type ScoreModelInput } from './score-model.js';
import type { FilterSet } from './shared-filters.js';
import { greedySolve, type Matching } from '../solve/greedy.js';
import type { Candidates } from './tile.js';

export const DEFAULT_FLOOR = 0.5;

/** What the model expects of the matching at the chosen threshold. */
export interface ExpectedQuality {
  precision: number;
  recall: number;
  f1: number;
}

export interface ThresholdChoice {
  threshold: number;
  method: 'score-model';
  /** One sentence: how the threshold follows from the model. */
  reason: string;
  /** Lowest score the model saw; every candidate pair at or above it was scored. */
  floor: number;
  expected: ExpectedQuality;
  estimate: OverlapEstimate;
  /** Candidate pairs at or above the floor and at or above the threshold; matched pairs at the threshold. */
  candidatesAtFloor: number;
  candidatesAtThreshold: number;
  matchedAtThreshold: number;
}

export interface AutoFromCandidatesOptions {
  /** As ScoreModelInput.found: the chance that the search found a pair of this score. */
  found?: (score: number) => number;
  replicates?: number;
}

// Fewer candidates than this cannot show two score distributions.
const MIN_CANDIDATES = 50;
// Expected chance pairs below this: the non-match curve (and so every probability) is a guess.
const MIN_NON_MATCHES = 20;
// Fewer expected matches than this: nothing scores above what chance explains.
const MIN_MATCHES = 1;
const MIN_FILLED_BINS = 3;

/** Why no threshold can be chosen from these candidates, or null when the model can be fitted. */
export function refusalBeforeFit(candidates: Candidates, floor: number): string | null {
  if (candidates.length < MIN_CANDIDATES) {
    return `only ${candidates.length} candidate pairs score at or above ${floor}: too few to fit a model of the scores (${MIN_CANDIDATES} needed)`;
  }
  const filled = new Set<number>();
  for (let k = 0; k < candidates.length && filled.size < MIN_FILLED_BINS; k++) filled.add(Math.round(candidates.score[k] * 200));
  if (filled.size < MIN_FILLED_BINS) {
    return `every candidate pair scores within ${filled.size === 1 ? 'one bin' : `${filled.size} bins`} of width 0.005 (at ${candidates.score[0].toFixed(3)}): one score tells matches from chance pairs in no way`;
  }
  return null;
}

/** Why the fitted model cannot choose, or null. */
export function refusalAfterFit(model: ScoreModel): string | null {
  let chance = 0;
  for (const v of model.nonMatches) chance += v;
  let observedChance = 0;
  for (const p of model.probability) observedChance += 1 - p;
  if (Math.min(chance, observedChance) < MIN_NON_MATCHES) {
    return `almost every candidate pair looks like a match (about ${Math.round(observedChance)} chance pairs among ${model.probability.length}, as in a file matched against a copy of itself): there are too few non-matching pairs to learn their scores from`;
  }
  if (model.matchesAboveFloor < MIN_MATCHES) return noMatches(model.matchesAboveFloor);
  return null;
}

/** Why no threshold can be set when the overlap cannot be told from none, or null. */
export function refusalAfterEstimate(estimate: OverlapEstimate, expected: number): string | null {
  // A lone pair past the chance tail makes the model expect a match or two; when its 95% interval
  // reaches 0 the data do not show that there is any, and a threshold set for it is a guess.
  return estimate.low < MIN_MATCHES ? noMatches(expected, estimate) : null;
}

function noMatches(expected: number, estimate?: OverlapEstimate): string {
  const interval = estimate === undefined ? '' : `, 95% interval ${estimate.low} to ${estimate.high}`;
  return `no candidate pairs score clearly above what chance explains (the model expects ${expected.toFixed(1)} true pairs${interval}): there are no matches to set a threshold for`;
}

/** The threshold of highest expected F1 on the 0.005 grid, from the greedy matching at the floor. */
export function bestThreshold(model: ScoreModel, matching: Matching, totalMatches: number): { threshold: number; expected: ExpectedQuality; matched: number } {
  const order = Array.from({ length: matching.length }, (_, k) => k).sort((x, y) => matching.score[y] - matching.score[x]);
  const probability = order.map((k) => model.pairProbability(matching.a[k], matching.b[k], matching.score[k]));
  let best = { threshold: 1, expected: { precision: 1, recall: 0, f1: 0 }, matched: 0 };
  let at = 0;
  let truePairs = 0;
  // Thresholds from 1 down, so that among equal expected F1 the higher threshold (fewer pairs) wins.
  const steps = Math.round((1 - model.floor) / model.width);
  for (let step = 0; step <= steps; step++) {
    const t = Math.round((1 - step * model.width) * 1e6) / 1e6;
    while (at < order.length && matching.score[order[at]] >= t - 1e-12) truePairs += probability[at++];
    const f1 = at + totalMatches > 0 ? (2 * truePairs) / (at + totalMatches) : 0;
    if (f1 > best.expected.f1 + 1e-12) {
      best = { threshold: t, expected: { precision: at > 0 ? truePairs / at : 1, recall: totalMatches > 0 ? truePairs / totalMatches : 0, f1 }, matched: at };
    }
  }
  return best;
}

/** Candidate pairs scoring at or above t, as their own set (views kept small by copying). */
export function candidatesAtOrAbove(c: Candidates, t: number): Candidates {
  let n = 0;
  for (let k = 0; k < c.length; k++) if (c.score[k] >= t) n++;
  const out: Candidates = { length: n, a: new Int32Array(n), b: new Int32Array(n), score: new Float64Array(n) };
  let at = 0;
  for (let k = 0; k < c.length; k++) {
    if (c.score[k] < t) continue;
    out.a[at] = c.a[k];
    out.b[at] = c.b[k];
    out.score[at++] = c.score[k];
  }
  return out;
}

/**
 * The automatic threshold and the overlap estimate from every candidate pair at `floor`. Throws
 * UserError (exit 1) with the reason when the scores cannot support a choice.
 *
 * @example const { choice } = autoFromCandidates(found, a.count, b.count, 0.62);
 */
export function autoFromCandidates(candidates: Candidates, countA: number, countB: number, floor: number, options: AutoFromCandidatesOptions = {}): { choice: ThresholdChoice; model: ScoreModel } {
  const before = refusalBeforeFit(candidates, floor);
  if (before !== null) throw new UserError(`--threshold auto cannot choose: ${before}`);
  const input: ScoreModelInput = { candidates, countA, countB, floor, found: options.found };
  const model = fitScoreModel(input);
  const after = refusalAfterFit(model);
  if (after !== null) throw new UserError(`--threshold auto cannot choose: ${after}`);
  const estimate = estimateOverlap(input, model, options.replicates);
  const unclear = refusalAfterEstimate(estimate, model.matchesAboveFloor);
  if (unclear !== null) throw new UserError(`--threshold auto cannot choose: ${unclear}`);
  const matching = greedySolve(candidates, countA, countB);
  const best = bestThreshold(model, matching, model.matchesAboveFloor);
  let atThreshold = 0;
  for (let k = 0; k < candidates.length; k++) if (candidates.score[k] >= best.threshold) atThreshold++;
  const { precision, recall, f1 } = best.expected;
  return {
    model,
    choice: {
      threshold: best.threshold,
      method: 'score-model',
      reason:
        `highest expected F1 (${f1.toFixed(3)}: precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}) under a ` +
        `1:1 mixture model of the ${candidates.length} candidate scores at or above ${floor}`,
      floor,
      expected: best.expected,
      estimate,
      candidatesAtFloor: candidates.length,
      candidatesAtThreshold: atThreshold,
      matchedAtThreshold: best.matched,
    },
  };
}

/** Evenly spaced rows of a filter set (deterministic, so the same inputs give the same floor). */
function sampleRows(set: FilterSet, rows: number): FilterSet {
  if (set.count <= rows) return set;
  const bytes = set.filterBits / 8;
  const clks = new Uint8Array(rows * bytes);
  for (let k = 0; k < rows; k++) {
    const row = Math.floor((k * set.count) / rows);
    clks.set(set.clks.subarray(row * bytes, row * bytes + bytes), k * bytes);
  }
  return { filterBits: set.filterBits, count: rows, clks };
}

const SAMPLE_ROWS = 1500;
/**
 * Candidate pairs the scan at the floor should find, per record of the smaller side: enough chance
 * pairs per record to learn their score curve and each record's competition, few enough that a
 * large registry does not multiply the work (every record of the smaller side has at most one partner).
 */
const CANDIDATES_PER_RECORD = 40;

/**
 * A floor from the scores of a sample of (almost all non-matching) pairs: the score that about
 * CANDIDATES_PER_RECORD x min(|A|, |B|) of all pairs reach. Hardening moves the whole score scale
 * (balanced filters put unrelated records near 0.5-0.6), so a fixed floor would either see no
 * non-match mode or make every pair a candidate. Clamped to [0.3, 0.95], in steps of 0.01.
 */
export async function estimateFloor(a: FilterSet, b: FilterSet, workers: number): Promise<number> {
  const sa = sampleRows(a, SAMPLE_ROWS);
  const sb = sampleRows(b, SAMPLE_ROWS);
  const sample = await findCandidates(sa, sb, { threshold: 1e-9, workers: Math.min(workers, 1) });
  const pairs = sa.count * sb.count;
  if (pairs === 0) return DEFAULT_FLOOR;
  const share = Math.min(1, (CANDIDATES_PER_RECORD * Math.min(a.count, b.count)) / (a.count * b.count));
  const scores = Float64Array.from(sample.score.subarray(0, sample.length)).sort();
  // Pairs that scored nothing (empty filters) are not candidates at all; they count as lowest.
  const rank = Math.max(0, Math.min(pairs - 1, Math.floor((1 - share) * pairs))) - (pairs - scores.length);
  const at = rank < 0 ? 0 : scores[Math.min(scores.length - 1, rank)];
  return Math.min(0.95, Math.max(0.3, Math.floor(at * 100 + 1e-9) / 100));
}

/**
 * Most pairs `--threshold auto` will scan: its best scores come from every pair at the floor, with
 * no blocking, so 2 × 10^10 pairs is one to two minutes on two cores (1 × 10^11 pairs of balanced
 * 2048-bit filters took 495 s in bench/scale.ts). Beyond it the scan grows without bound: 1.28 M ×
 * 10 M is 1.28 × 10^13 pairs, about 18 hours.
 */
export const AUTO_THRESHOLD_MAX_PAIRS = 2e10;

// All-pairs rate on two cores for balanced 2048-bit filters (bench/scale.ts subsample), for the message.
const ALL_PAIRS_PER_SECOND = 2e8;

/** Refuses `--threshold auto` for inputs too large to scan in full, saying what to do instead. */
export function assertAutoThresholdFeasible(countA: number, countB: number): void {
  const pairs = countA * countB;
  if (pairs <= AUTO_THRESHOLD_MAX_PAIRS) return;
  const minutes = pairs / ALL_PAIRS_PER_SECOND / 60;
  const duration = minutes < 120 ? `${Math.ceil(minutes)} minutes` : `${Math.round(minutes / 60)} hours`;
  throw new UserError(
    `--threshold auto compares all ${pairs.toExponential(2)} pairs without blocking, about ${duration} here ` +
      `(limit ${AUTO_THRESHOLD_MAX_PAIRS.toExponential(0)}); give --threshold T instead, for example one that --threshold auto ` +
      'chose on encodings of a sample of both sides, or one from docs/QUALITY.md for the example schemas',
  );
}

export interface ChooseThresholdOptions {
  workers: number;
  /** Lowest score looked at; default: estimated by estimateFloor. */
  floor?: number;
  maxCandidates?: number;
}

/** Candidate pairs held at the floor at most, unless the caller says otherwise: 16 bytes each. */
export const AUTO_MAX_CANDIDATES = 60_000_000;

/**
 * End to end for two filter sets compared in full: every pair at the floor on worker threads,
 * then autoFromCandidates. The candidates come back too: the matching at the chosen threshold is
 * the greedy matching of those at or above it, with no second scan.
 *
 * @example const { choice } = await chooseThreshold(a, b, { workers: 2 });
 */
export async function chooseThreshold(a: FilterSet, b: FilterSet, options: ChooseThresholdOptions): Promise<{ choice: ThresholdChoice; model: ScoreModel; candidates: CandidateResult }> {
  const floor = options.floor ?? (await estimateFloor(a, b, options.workers));
  const candidates = await findCandidates(a, b, { threshold: floor, workers: options.workers, maxCandidates: options.maxCandidates ?? AUTO_MAX_CANDIDATES });
  return { ...autoFromCandidates(candidates, a.count, b.count, floor), candidates };
}
