// A model of the candidate scores that gives every candidate pair a match probability, from the
// scores alone (no labels). It is a two-component mixture over score bins, fitted by EM (Dempster,
// Laird and Rubin 1977), with the 1:1 structure of linkage put into the E-step:
//
//   - chance (non-match) pairs arrive per bin as a Poisson count whose expected value U(b) is a
//     smooth log-concave curve: it falls at least exponentially above the chance mode, as the Dice
//     score of unrelated filters does (Walther 2009 on log-concave fits), bending up only where
//     the pairs that cannot be matches under 1:1 bend up too (relatives and namesakes);
//   - true pairs have a smooth log-concave score curve m(b) below 1, and exact copies a bin of
//     their own;
//   - each record has at most one true partner, so a pair competes with every other explanation
//     of its two records. For pair (i, j) in bin b with odds R(b) = m(b)/U(b),
//       P(match) = R(b) / (R(b) + W_i·W_j),   W_i = (1 − found matches / N_A) + Σ_k≠j R(b_ik),
//     the Poisson form of a bipartite 1:1 mixture (compare Steorts, Hall and Fienberg 2016, and
//     the best/second-best score idea of anonlink's documentation). When every record has a
//     partner, a lone pair is a match however many chance pairs share its score; when few have
//     one, it is the plain mixture posterior.
//
// Where the scores cannot tell true pairs from chance pairs (both curves fit the counts), EM keeps
// what it starts with, so it starts only from pairs that stand out (initialise).
//
// Chance scores differ between records (crowded records meet many unrelated ones at high scores),
// so the pairs are split into strata by their records' numbers of candidates
// (competition-strata.ts), each with a chance curve of its own: in the strata of typical records
// the chance tail falls fast and heavily corrupted true pairs stand out from it. The true pairs'
// score curve has one shape for all strata.
//
// When blocking finds a pair of score s only with probability f(s) < 1 (LSH planned above the
// floor), every bin's counts are weighted by 1/f (Horvitz and Thompson 1952), so the fitted curves
// and the overlap estimate describe all pairs, not only the ones the blocking found.
import { competitionStrata, type CompetitionStrata } from './competition-strata.js';
import { nearlyLogConcave } from './shape-fits.js';
import type { Candidates } from './tile.js';

export const SCORE_BIN_WIDTH = 0.005;

export interface ScoreModelInput {
  candidates: Candidates;
  countA: number;
  countB: number;
  /** Lowest score among the candidates given (every pair at or above it, up to blocking). */
  floor: number;
  /** Probability that the candidate search found a pair of this score; default 1 (all pairs compared). */
  found?: (score: number) => number;
  /** EM iterations at most; default 100. */
  iterations?: number;
  /** One chance curve for all pairs, no strata (for comparison: docs/QUALITY.md). */
  pooled?: boolean;
}

/** What the fit found, bin by bin from the floor (the last bin holds exact copies, score 1). */
export interface ScoreModel {
  floor: number;
  width: number;
  /** Bin b covers [floor + b·width, floor + (b+1)·width); the last bin is score 1 exactly. */
  bins: number;
  /** Strata of pairs by their records' competition, each with curves of its own (the per-bin figures below are their sums). */
  strata: number;
  /** Candidates per bin, weighted by 1/found. */
  candidates: Float64Array;
  /** Expected true matches and chance pairs per bin (weighted by 1/found, fitted). */
  matches: Float64Array;
  nonMatches: Float64Array;
  /** Each candidate's match probability, in the order given. */
  probability: Float64Array;
  /** Expected true pairs scoring at or above the floor: Σ p / found over the candidates. */
  matchesAboveFloor: number;
  /** Σ p(1 − p) over candidates: the spread of the number of matches given the model. */
  bernoulliVariance: number;
  /**
   * The part of matchesAboveFloor in bins (of a stratum) where the model expects more chance pairs than true
   * ones. There EM moves probability between the curves without changing the fit much (it leaves
   * the mass where the curves' shapes put it), so this part is a guess, not a measurement.
   */
  unresolved: number;
  iterations: number;
  /** The match probability the model gives pair (i, j) of this score (both records' competition included). */
  pairProbability(i: number, j: number, score: number): number;
  /**
   * Refits from this fit with each candidate weighted (a bootstrap replicate) for a few EM steps;
   * returns the expected true pairs at or above the floor. Leaves this model as it is.
   */
  refit(pairWeights: Float64Array, iterations?: number): number;
}

/** Bin of a score at or above the floor; score 1 has a bin of its own. */
export function scoreBin(score: number, floor: number, bins: number, width = SCORE_BIN_WIDTH): number {
  if (score >= 1) return bins - 1;
  return Math.max(0, Math.min(bins - 2, Math.floor((score - floor) / width + 1e-9)));
}

/** Number of bins from the floor to 1, plus the bin of exact copies. */
export function binCount(floor: number, width = SCORE_BIN_WIDTH): number {
  return Math.max(1, Math.ceil((1 - floor) / width - 1e-9)) + 1;
}

// Penalty on the second differences of the log match curve (the chance curve's is 0.05).
const MATCH_SMOOTHING = 1;
// Empty bins in a row that part two populations: chance scores have no holes.
const GAP_BINS = 4;
// Bins whose candidates are mostly mutual best pairs can start EM as matches: among chance pairs
// a record has tens of candidates and one best, among true pairs nearly all are mutual best.
const MUTUAL_SHARE_TO_START = 0.5;
// Counts beyond the chance curve by this many standard deviations start EM as matches.
const SIGNIFICANT_EXCESS = 3;
// Half-width, in bins, of the moving average that smooths the dominated pairs' log-density.
const BEND_SMOOTHING = 2;
// EM steps before convergence is tested: the first steps move probability between bins slowly.
const MIN_ITERATIONS = 5;
// Expected matches per bin at least: see matchCurve.
const MIN_MATCHES_PER_BIN = 1e-3;
// A record's "no partner here" weight never quite reaches 0, even when every record seems matched.
const MIN_BASE = 1e-4;

interface Weights {
  /** Per-candidate weight (bootstrap); null means 1. */
  pair: Float64Array | null;
}

interface Fit {
  bins: number;
  strata: CompetitionStrata;
  binOf: Uint16Array;
  /** Each candidate's cell: stratum × bins + bin. The per-cell arrays below have strata × bins entries. */
  cellOf: Uint32Array;
  /**
   * Each candidate's records renumbered densely over the records that have a candidate: the
   * per-record sums are read for every pair on every EM step, and over a 10 M registry the
   * original row numbers scatter those reads across 80 MB (cache misses made the fit minutes).
   */
  rowA: Int32Array;
  rowB: Int32Array;
  /** Original row -> dense number, -1 for records without a candidate. */
  denseA: Int32Array;
  denseB: Int32Array;
  /** Candidates of each record (dense numbering): the strata's covariate. */
  perA: Int32Array;
  perB: Int32Array;
  /**
   * Per cell, how many observations speak for an upward bend of its stratum's chance curve: the
   * dominated pairs (both records have a better candidate, so not matches under 1:1) of all strata
   * where their curve bends up, scaled to the stratum's share of the bin; 0 elsewhere.
   */
  bendEvidence: Float64Array;
  invFound: Float64Array;
  candidates: Float64Array;
  probability: Float64Array;
  matches: Float64Array;
  nonMatches: Float64Array;
  odds: Float64Array;
  /** Prior weight that a record has no partner among its candidates: 1 − found matches / records. */
  baseA: number;
  baseB: number;
  sumA: Float64Array;
  sumB: Float64Array;
  iterations: number;
}

/** Fits the model; deterministic. */
export function fitScoreModel(input: ScoreModelInput): ScoreModel {
  const fit = prepare(input);
  initialise(input, fit);
  fit.iterations = iterate(input, fit, { pair: null }, input.iterations ?? 100);
  return summarise(input, fit);
}

function prepare(input: ScoreModelInput): Fit {
  const { candidates: c, floor } = input;
  const bins = binCount(floor);
  const found = input.found ?? (() => 1);
  const invFound = new Float64Array(bins);
  for (let b = 0; b < bins; b++) {
    const centre = b === bins - 1 ? 1 : Math.min(1, floor + (b + 0.5) * SCORE_BIN_WIDTH);
    invFound[b] = 1 / Math.max(1e-3, Math.min(1, found(centre)));
  }
  const dense = (rows: Int32Array, count: number): { row: Int32Array; index: Int32Array; per: Int32Array } => {
    const index = new Int32Array(count).fill(-1);
    const row = new Int32Array(c.length);
    let distinct = 0;
    for (let k = 0; k < c.length; k++) {
      let d = index[rows[k]];
      if (d < 0) index[rows[k]] = d = distinct++;
      row[k] = d;
    }
    const per = new Int32Array(distinct);
    for (let k = 0; k < c.length; k++) per[row[k]]++;
    return { row, index, per };
  };
  const onA = dense(c.a, input.countA);
  const onB = dense(c.b, input.countB);
  const strata = competitionStrata(c, onA.row, onB.row, onA.per, onB.per, input.pooled === true ? 1 : undefined);
  const cells = strata.count * bins;
  const binOf = new Uint16Array(c.length);
  const cellOf = new Uint32Array(c.length);
  const candidates = new Float64Array(cells);
  for (let k = 0; k < c.length; k++) {
    const b = scoreBin(c.score[k], floor, bins);
    binOf[k] = b;
    cellOf[k] = strata.of[k] * bins + b;
    candidates[cellOf[k]] += invFound[b];
  }
  return {
    bins,
    strata,
    binOf,
    cellOf,
    rowA: onA.row,
    rowB: onB.row,
    denseA: onA.index,
    denseB: onB.index,
    perA: onA.per,
    perB: onB.per,
    bendEvidence: new Float64Array(cells),
    invFound,
    candidates,
    probability: new Float64Array(c.length),
    matches: new Float64Array(cells),
    nonMatches: new Float64Array(cells),
    odds: new Float64Array(cells),
    baseA: 1,
    baseB: 1,
    sumA: new Float64Array(onA.per.length),
    sumB: new Float64Array(onB.per.length),
    iterations: 0,
  };
}

/**
 * Starting point: mutual best pairs are matches in the bins that stand out, and nothing else is.
 * Where the data cannot tell matches from chance pairs, EM keeps what it started with, so it must
 * start with nothing there: mutual best pairs alone were not enough (chance pairs sparse enough
 * to be mutually best became matches), nor was the excess over a nearly log-concave fit alone
 * (that fit bends gently over a match mode and leaves no excess). Also counts the dominated pairs,
 * which tell where the chance curve may bend up.
 */
function initialise(input: ScoreModelInput, fit: Fit): void {
  const { candidates: c, countA, countB } = input;
  const bestA = new Float64Array(countA).fill(-1);
  const bestB = new Float64Array(countB).fill(-1);
  const partnerA = new Int32Array(countA).fill(-1);
  const partnerB = new Int32Array(countB).fill(-1);
  for (let k = 0; k < c.length; k++) {
    const i = c.a[k];
    const j = c.b[k];
    const s = c.score[k];
    if (s > bestA[i] || (s === bestA[i] && j < partnerA[i])) {
      bestA[i] = s;
      partnerA[i] = j;
    }
    if (s > bestB[j] || (s === bestB[j] && i < partnerB[j])) {
      bestB[j] = s;
      partnerB[j] = i;
    }
  }
  const { bins } = fit;
  const cells = fit.candidates.length;
  // Both counted over all strata: relatives and namesakes bend every stratum's chance curve at
  // about the same scores, and among records with few candidates few pairs are dominated and chance
  // pairs are mutual best as often as true ones, so per stratum both would mislead.
  const dominated = new Float64Array(bins);
  const mutual = new Float64Array(bins);
  const isMutual = new Uint8Array(c.length);
  for (let k = 0; k < c.length; k++) {
    const b = fit.binOf[k];
    if (bestA[c.a[k]] > c.score[k] && bestB[c.b[k]] > c.score[k]) dominated[b] += fit.invFound[b];
    if (partnerA[c.a[k]] === c.b[k] && partnerB[c.b[k]] === c.a[k]) {
      isMutual[k] = 1;
      mutual[b] += fit.invFound[b];
    }
  }
  const counts = sumOverStrata(fit.candidates, bins);
  // Scaled to each stratum's share of the bin, so a stratum needs as much evidence of its own as one pooled curve would.
  const bends = upwardBends(dominated);
  for (let cell = 0; cell < cells; cell++) {
    const b = cell % bins;
    fit.bendEvidence[cell] = counts[b] > 0 ? (bends[b] * fit.candidates[cell]) / counts[b] : 0;
  }
  // A strictly log-concave fit of all counts cannot follow a second mode; bins beyond it by more
  // than Poisson noise (a count weighted by 1/found has variance Σ 1/found²) and made mostly of
  // mutual best pairs hold the matches EM starts from.
  const chance = nearlyLogConcave(counts, { strict: true, weights: beforeFirstGap(counts) });
  const starts = new Uint8Array(bins);
  for (let b = 0; b < bins; b++) {
    const sd = Math.sqrt(chance[b] * fit.invFound[b] + fit.invFound[b] ** 2);
    starts[b] = counts[b] - chance[b] > SIGNIFICANT_EXCESS * sd && mutual[b] >= MUTUAL_SHARE_TO_START * counts[b] ? 1 : 0;
  }
  for (let k = 0; k < c.length; k++) fit.probability[k] = isMutual[k] === 1 && starts[fit.binOf[k]] === 1 ? 1 : 0;
}

/** Per-cell values (strata × bins) summed over the strata, per bin. */
function sumOverStrata(cells: Float64Array, bins: number): Float64Array {
  const out = new Float64Array(bins);
  for (let cell = 0; cell < cells.length; cell++) out[cell % bins] += cells[cell];
  return out;
}

/** EM steps from fit.probability; returns the steps taken. */
function iterate(input: ScoreModelInput, fit: Fit, weights: Weights, iterations: number): number {
  const { candidates: c } = input;
  const { bins } = fit;
  const cells = fit.candidates.length;
  const weighted = new Float64Array(cells);
  if (weights.pair === null) weighted.set(fit.candidates);
  else for (let k = 0; k < c.length; k++) weighted[fit.cellOf[k]] += weights.pair[k] * fit.invFound[fit.binOf[k]];
  let previous = -1;
  let step = 0;
  for (; step < iterations; step++) {
    // M-step: the two curves of each stratum from the current probabilities.
    const expected = new Float64Array(cells);
    let observedMatches = 0;
    for (let k = 0; k < c.length; k++) {
      const w = weights.pair === null ? 1 : weights.pair[k];
      expected[fit.cellOf[k]] += w * fit.probability[k] * fit.invFound[fit.binOf[k]];
      observedMatches += w * fit.probability[k];
    }
    const rest = new Float64Array(cells);
    for (let cell = 0; cell < cells; cell++) rest[cell] = Math.max(0, weighted[cell] - expected[cell]);
    fit.nonMatches = chanceCurves(fit, rest);
    fit.matches = matchCurves(expected, bins);
    let total = 0;
    for (const v of fit.matches) total += v;
    if (step >= MIN_ITERATIONS && Math.abs(total - previous) <= 1e-6 * Math.max(1, total)) break;
    previous = total;
    eStep(input, fit, observedMatches);
  }
  return step;
}

/**
 * The chance curve of each stratum: nearly log-concave, bending up only where fit.bendEvidence
 * says so. Each is fitted afresh (continuation from the counts) on every EM step: started
 * from the last step's curve, a tail that had reached the floor could not come back up (the
 * penalties change where the support ends), and the fit kept the first step's heavy tail.
 */
function chanceCurves(fit: Fit, rest: Float64Array): Float64Array {
  const { bins } = fit;
  const out = new Float64Array(rest.length);
  for (let at = 0; at < rest.length; at += bins) {
    out.set(nearlyLogConcave(rest.subarray(at, at + bins), { evidence: fit.bendEvidence.subarray(at, at + bins), strict: true }), at);
  }
  return out;
}

/**
 * E-step: odds per bin, then each pair against its records' other explanations: no partner at
 * all, a partner among the pairs not scored (below the floor, or missed by blocking), or another
 * candidate. The first two together have prior 1 − (matches found)/N on each side.
 */
function eStep(input: ScoreModelInput, fit: Fit, observedMatches: number): void {
  const { candidates: c, countA, countB } = input;
  fit.baseA = Math.max(MIN_BASE, 1 - observedMatches / Math.max(1, countA));
  fit.baseB = Math.max(MIN_BASE, 1 - observedMatches / Math.max(1, countB));
  for (let cell = 0; cell < fit.odds.length; cell++) fit.odds[cell] = fit.matches[cell] / Math.max(1e-12, fit.nonMatches[cell]);
  fit.sumA.fill(0);
  fit.sumB.fill(0);
  const { rowA, rowB, sumA, sumB, cellOf } = fit;
  for (let k = 0; k < c.length; k++) {
    const odds = fit.odds[cellOf[k]];
    sumA[rowA[k]] += odds;
    sumB[rowB[k]] += odds;
  }
  for (let k = 0; k < c.length; k++) {
    const odds = fit.odds[cellOf[k]];
    fit.probability[k] = competing(odds, fit.baseA + sumA[rowA[k]] - odds, fit.baseB + sumB[rowB[k]] - odds);
  }
}

/** P(i and j are each other's partner) against every other explanation of each record. */
function competing(odds: number, elseA: number, elseB: number): number {
  return odds / (odds + Math.max(MIN_BASE, elseA) * Math.max(MIN_BASE, elseB));
}

/**
 * Weight 1 for the bins up to the first run of GAP_BINS empty bins, 0 after it: a second mode
 * across an empty stretch (well separated true pairs) must not pull the starting chance curve up
 * to it, which a nearly log-concave fit would otherwise do by bending gently over the gap.
 */
function beforeFirstGap(counts: Float64Array): Float64Array {
  const weights = new Float64Array(counts.length).fill(1);
  let seen = false;
  let empty = 0;
  for (let b = 0; b < counts.length; b++) {
    if (counts[b] > 0) {
      if (seen && empty >= GAP_BINS) {
        weights.fill(0, b);
        break;
      }
      seen = true;
      empty = 0;
    } else if (seen) empty++;
  }
  return weights;
}

/**
 * Dominated pairs are chance pairs thinned by a share that changes slowly with the score, so
 * where their (smoothed) log-density bends up, the chance curve may bend up too: relatives and
 * namesakes add a heavier tail. Elsewhere the chance curve is held log-concave. Returns the
 * dominated count in bins where it bends up, 0 elsewhere.
 */
function upwardBends(dominated: Float64Array): Float64Array {
  const n = dominated.length;
  const smooth = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let sum = 0;
    let used = 0;
    for (let d = -BEND_SMOOTHING; d <= BEND_SMOOTHING; d++) {
      if (b + d < 0 || b + d >= n - 1) continue;
      sum += Math.log(dominated[b + d] + 0.5);
      used++;
    }
    smooth[b] = used > 0 ? sum / used : 0;
  }
  const out = new Float64Array(n);
  for (let b = 1; b < n - 2; b++) if (smooth[b - 1] - 2 * smooth[b] + smooth[b + 1] > 0) out[b] = dominated[b];
  return out;
}

/**
 * Matches per bin: a smooth log-concave curve (one mode) below 1, exact copies (score 1) as they
 * are. Where matches are swamped by chance pairs the data cannot split the two (any small match
 * count fits), and the smoothness of log m carries the curve on from where matches are clear,
 * instead of letting it drop to nothing at the edge of the clear zone.
 */
function matchCurve(expected: Float64Array): Float64Array {
  const bins = expected.length;
  const smooth = nearlyLogConcave(expected.subarray(0, bins - 1), { smoothPenalty: MATCH_SMOOTHING });
  const out = new Float64Array(bins);
  out.set(smooth, 0);
  out[bins - 1] = expected[bins - 1];
  return out;
}

/**
 * The match curve of each stratum: one shape (matchCurve of all strata's expected matches) scaled
 * to the stratum's share below score 1, and the stratum's own exact copies. A true pair's score
 * hardly depends on how crowded its records are, and one shape keeps a stratum with few true
 * pairs from mistaking a shoulder of its chance curve for a mode of matches.
 */
function matchCurves(expected: Float64Array, bins: number): Float64Array {
  const shape = matchCurve(sumOverStrata(expected, bins));
  let total = 0;
  for (let b = 0; b < bins - 1; b++) total += shape[b];
  const out = new Float64Array(expected.length);
  for (let at = 0; at < expected.length; at += bins) {
    let own = 0;
    for (let b = 0; b < bins - 1; b++) own += expected[at + b];
    const share = total > 0 ? own / total : 0;
    for (let b = 0; b < bins - 1; b++) out[at + b] = share * shape[b];
    out[at + bins - 1] = expected[at + bins - 1];
  }
  // Never exactly 0: a cell given no matches could never gain any (its pairs' odds would stay 0).
  for (let cell = 0; cell < out.length; cell++) out[cell] = Math.max(out[cell], MIN_MATCHES_PER_BIN);
  return out;
}

/** Expected true pairs among the candidates (weighted by 1/found): the probabilities summed, not the smoothed curve, which also spans bins no pair fell in. */
function expectedMatches(fit: Fit, pairWeights: Float64Array | null): number {
  let total = 0;
  for (let k = 0; k < fit.probability.length; k++) total += (pairWeights === null ? 1 : pairWeights[k]) * fit.probability[k] * fit.invFound[fit.binOf[k]];
  return total;
}

function summarise(input: ScoreModelInput, fit: Fit): ScoreModel {
  const above = expectedMatches(fit, null);
  // Per cell: a stratum of uncrowded records can show its true pairs clearly at a score where the
  // crowded strata hold many chance pairs.
  let unresolved = 0;
  for (let k = 0; k < fit.probability.length; k++) {
    const cell = fit.cellOf[k];
    if (fit.binOf[k] < fit.bins - 1 && fit.matches[cell] < fit.nonMatches[cell]) unresolved += fit.probability[k] * fit.invFound[fit.binOf[k]];
  }
  let bernoulli = 0;
  for (let k = 0; k < fit.probability.length; k++) {
    const p = fit.probability[k];
    bernoulli += p * (1 - p) * fit.invFound[fit.binOf[k]] ** 2;
  }
  const { bins } = fit;
  const { floor } = input;
  return {
    floor,
    width: SCORE_BIN_WIDTH,
    bins,
    strata: fit.strata.count,
    candidates: sumOverStrata(fit.candidates, bins),
    matches: sumOverStrata(fit.matches, bins),
    nonMatches: sumOverStrata(fit.nonMatches, bins),
    probability: fit.probability,
    matchesAboveFloor: above,
    bernoulliVariance: bernoulli,
    unresolved,
    iterations: fit.iterations,
    pairProbability(i: number, j: number, score: number): number {
      const di = fit.denseA[i];
      const dj = fit.denseB[j];
      const stratum = fit.strata.stratumOf(di >= 0 ? fit.perA[di] : 1, dj >= 0 ? fit.perB[dj] : 1);
      const odds = fit.odds[stratum * bins + scoreBin(score, floor, bins)];
      const sumI = di >= 0 ? fit.sumA[di] : odds;
      const sumJ = dj >= 0 ? fit.sumB[dj] : odds;
      return competing(odds, fit.baseA + sumI - odds, fit.baseB + sumJ - odds);
    },
    refit(pairWeights: Float64Array, iterations = 10): number {
      const replicate: Fit = {
        ...fit,
        probability: Float64Array.from(fit.probability),
        odds: new Float64Array(fit.odds.length),
        sumA: new Float64Array(fit.sumA.length),
        sumB: new Float64Array(fit.sumB.length),
      };
      iterate(input, replicate, { pair: pairWeights }, iterations);
      return expectedMatches(replicate, pairWeights);
    },
  };
}
