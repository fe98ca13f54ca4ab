// Picks a Dice threshold blind, from the scores of mutual best pairs alone: true matches form an
// upper mode, leftover records paired by chance a lower one, and the threshold goes in the valley
// between. Alternatives (Otsu, minimum error, Gaussian mixture) stay for bench/quality.ts to compare.
import { bestScores, candidatesAtOrAbove, mutualBestScores, type BestScores } from './auto-best-scores.js';
import { UserError } from '../errors.js';
import { findCandidates } from './candidates.js';
import type { FilterSet } from './shared-filters.js';

export type AutoMethod = 'valley' | 'otsu' | 'minimum-error' | 'mixture';

/** How a threshold was chosen: a split method, the floor (one high mode), or the fallback. */
export type ChoiceMethod = AutoMethod | 'gap' | 'floor' | 'fallback';

/** Histogram of best scores from `floor` to 1, with what fell below the floor counted apart. */
export interface ScoreBins {
  floor: number;
  width: number;
  counts: Float64Array;
  below: number;
}

export interface AutoThresholdOptions {
  /** Scores below it are not binned; the lowest threshold that can be chosen. Default 0.5. */
  floor?: number;
  /** Bin width; default 0.01, the resolution a threshold is usually given to. */
  width?: number;
  /** Returned, with method 'fallback', when the scores show no usable split. Default 0.8. */
  fallback?: number;
  method?: AutoMethod;
  /**
   * Candidate pairs (all of them, not only mutual best) at or above a threshold. When the scores
   * form one high mode, the threshold is lowered only while the candidates stay within twice the
   * pairs: a non-match candidate costs nothing under 1:1 matching unless it outscores a match,
   * but every extra one is work and a chance of a wrong pair.
   */
  candidatesAtOrAbove?: (threshold: number) => number;
}

export interface ThresholdChoice {
  threshold: number;
  method: ChoiceMethod;
  /** Why this value: which valley, or why no valley was trusted. */
  reason: string;
  /** Scores (of those given) at or above the threshold: with mutual best pairs, an overlap estimate. */
  recordsAbove: number;
}

export const DEFAULT_FLOOR = 0.5;
export const DEFAULT_FALLBACK = 0.8;

// A valley must be this much lower (in natural log of smoothed counts) than the lower of the two
// peaks around it: log(4), i.e. both peaks at least four times as dense as the valley floor.
// Shallower dips are sampling noise within one mode (test/auto-threshold.test.ts).
const MIN_VALLEY_DEPTH = Math.log(4);
// Fewer scores than this cannot show two modes with any confidence.
const MIN_SCORES = 20;

/** Bins scores in [floor, 1]; a score of exactly 1 joins the last bin, negatives count as below. */
export function binScores(scores: ArrayLike<number>, floor = DEFAULT_FLOOR, width = 0.01): ScoreBins {
  const n = Math.max(1, Math.round((1 - floor) / width));
  const counts = new Float64Array(n);
  let below = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!(s >= floor)) {
      below++;
      continue;
    }
    counts[Math.min(n - 1, Math.floor((s - floor) / width + 1e-9))]++;
  }
  return { floor, width, counts, below };
}

/** Left edge of bin k, rounded to a whole number of micro-units so thresholds print cleanly. */
function edge(bins: ScoreBins, k: number): number {
  return Math.round((bins.floor + k * bins.width) * 1e6) / 1e6;
}

/**
 * The deepest valley of the log-density: smoothing log(1 + count) over five bins, each split k
 * is scored by min(highest point left of k, highest point right of k) - height at k, and the
 * threshold is the left edge of the bin after the deepest point. A log scale because matches
 * are often a few percent of the records: on a linear scale their mode hardly shows.
 */
export function valleyThreshold(bins: ScoreBins): { threshold: number; depth: number } | null {
  const n = bins.counts.length;
  if (n < 3) return null;
  const log = Array.from(bins.counts, (c) => Math.log1p(c));
  const smooth = log.map((_, k) => {
    let sum = 0;
    let used = 0;
    for (let d = -2; d <= 2; d++) {
      if (k + d < 0 || k + d >= n) continue;
      sum += log[k + d];
      used++;
    }
    return sum / used;
  });
  const leftMax = new Float64Array(n);
  const rightMax = new Float64Array(n);
  for (let k = 0; k < n; k++) leftMax[k] = Math.max(k > 0 ? leftMax[k - 1] : -Infinity, smooth[k]);
  for (let k = n - 1; k >= 0; k--) rightMax[k] = Math.max(k < n - 1 ? rightMax[k + 1] : -Infinity, smooth[k]);
  let bestDepth = 0;
  for (let k = 1; k < n - 1; k++) bestDepth = Math.max(bestDepth, Math.min(leftMax[k - 1], rightMax[k + 1]) - smooth[k]);
  if (bestDepth <= 0) return null;
  // Two well separated modes leave a run of equally empty bins; its middle keeps the threshold
  // away from both tails, where an end would favour one kind of error.
  const deepest: number[] = [];
  for (let k = 1; k < n - 1; k++) if (Math.min(leftMax[k - 1], rightMax[k + 1]) - smooth[k] >= bestDepth - 1e-12) deepest.push(k);
  const middle = deepest[Math.floor((deepest.length - 1) / 2)];
  // The threshold starts at the upper edge of the deepest bin, excluding its stragglers.
  return { threshold: edge(bins, middle + 1), depth: bestDepth };
}

/** Otsu (1979): the split maximising the between-class variance of the binned scores. */
export function otsuThreshold(bins: ScoreBins): number | null {
  const { counts } = bins;
  let total = 0;
  let sum = 0;
  for (let k = 0; k < counts.length; k++) {
    total += counts[k];
    sum += k * counts[k];
  }
  if (total === 0) return null;
  let weightLow = 0;
  let sumLow = 0;
  let best = -1;
  let bestVariance = -1;
  for (let k = 0; k < counts.length - 1; k++) {
    weightLow += counts[k];
    sumLow += k * counts[k];
    const weightHigh = total - weightLow;
    if (weightLow === 0 || weightHigh === 0) continue;
    const meanLow = sumLow / weightLow;
    const meanHigh = (sum - sumLow) / weightHigh;
    const variance = weightLow * weightHigh * (meanLow - meanHigh) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = k + 1;
    }
  }
  return best < 0 ? null : edge(bins, best);
}

/**
 * Kittler and Illingworth (1986) minimum error thresholding: the split whose two fitted normal
 * classes explain the histogram best; unlike Otsu it copes with classes of very different size.
 */
export function minimumErrorThreshold(bins: ScoreBins): number | null {
  const { counts } = bins;
  const n = counts.length;
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  let best = -1;
  let bestCost = Infinity;
  for (let t = 1; t < n; t++) {
    const stats = (from: number, to: number): { p: number; variance: number } => {
      let w = 0;
      let s = 0;
      let s2 = 0;
      for (let k = from; k < to; k++) {
        w += counts[k];
        s += k * counts[k];
        s2 += k * k * counts[k];
      }
      if (w === 0) return { p: 0, variance: 0 };
      const mean = s / w;
      return { p: w / total, variance: s2 / w - mean * mean };
    };
    const low = stats(0, t);
    const high = stats(t, n);
    // A class confined to one bin has zero variance; a quarter bin squared keeps the log finite.
    if (low.p === 0 || high.p === 0) continue;
    const cost =
      low.p * Math.log(Math.max(low.variance, 1 / 16)) + high.p * Math.log(Math.max(high.variance, 1 / 16)) -
      2 * (low.p * Math.log(low.p) + high.p * Math.log(high.p));
    if (cost < bestCost) {
      bestCost = cost;
      best = t;
    }
  }
  return best < 0 ? null : edge(bins, best);
}

/**
 * Two-component Gaussian mixture fitted by EM to the binned scores; the threshold is where the
 * weighted densities cross between the two means.
 */
export function mixtureThreshold(bins: ScoreBins, iterations = 200): number | null {
  const { counts } = bins;
  const n = counts.length;
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const start = otsuThreshold(bins);
  if (start === null) return null;
  const split = Math.round((start - bins.floor) / bins.width);
  const x = (k: number): number => k + 0.5;
  let w = [0, 0];
  let mu = [0, 0];
  let v = [0, 0];
  for (let c = 0; c < 2; c++) {
    let s = 0;
    let s2 = 0;
    let m = 0;
    for (let k = c === 0 ? 0 : split; k < (c === 0 ? split : n); k++) {
      m += counts[k];
      s += x(k) * counts[k];
      s2 += x(k) * x(k) * counts[k];
    }
    w[c] = m / total;
    mu[c] = m > 0 ? s / m : c * n;
    v[c] = m > 0 ? Math.max(0.25, s2 / m - mu[c] ** 2) : 1;
  }
  const density = (c: number, at: number): number => (w[c] * Math.exp(-((at - mu[c]) ** 2) / (2 * v[c]))) / Math.sqrt(2 * Math.PI * v[c]);
  for (let it = 0; it < iterations; it++) {
    const m = [0, 0];
    const s = [0, 0];
    const s2 = [0, 0];
    for (let k = 0; k < n; k++) {
      if (counts[k] === 0) continue;
      const d0 = density(0, x(k));
      const d1 = density(1, x(k));
      const r1 = d0 + d1 > 0 ? d1 / (d0 + d1) : x(k) > (mu[0] + mu[1]) / 2 ? 1 : 0;
      const r = [1 - r1, r1];
      for (let c = 0; c < 2; c++) {
        m[c] += r[c] * counts[k];
        s[c] += r[c] * counts[k] * x(k);
        s2[c] += r[c] * counts[k] * x(k) * x(k);
      }
    }
    if (m[0] === 0 || m[1] === 0) return null;
    w = [m[0] / total, m[1] / total];
    mu = [s[0] / m[0], s[1] / m[1]];
    v = [Math.max(0.25, s2[0] / m[0] - mu[0] ** 2), Math.max(0.25, s2[1] / m[1] - mu[1] ** 2)];
  }
  const [lo, hi] = mu[0] < mu[1] ? [0, 1] : [1, 0];
  for (let k = Math.max(0, Math.floor(mu[lo])); k < Math.min(n, Math.ceil(mu[hi])); k++) {
    if (density(hi, x(k)) >= density(lo, x(k))) return edge(bins, k);
  }
  return null;
}

const SPARE_CANDIDATES = 2;

/** The lowest threshold on the 0.01 grid from the floor where candidates <= 2 x scores above it. */
/** Share of scores (above the floor) at exactly 1 from which the high mode is read as exact copies: between 0.25 and 0.5 on NCVR ocp_20, below 0.25 on FEBRL4. */
const EXACT_COPY_SHARE = 0.25;

function shareOfExactCopies(scores: ArrayLike<number>, floor: number): number {
  let above = 0;
  let exact = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] >= floor) above++;
    if (scores[i] === 1) exact++;
  }
  return above === 0 ? 0 : exact / above;
}

/** Width of an empty stretch of best scores that counts as a clear separation. */
const MIN_GAP = 0.05;

/** The widest run of empty bins between the first non-empty bin and `below`, as [from, to). */
function widestEmptyRun(bins: ScoreBins, below: number): { from: number; to: number } | null {
  let best: { from: number; to: number } | null = null;
  let start = -1;
  let seenScore = false;
  for (let i = 0; i < bins.counts.length; i++) {
    const from = bins.floor + i * bins.width;
    if (from >= below) break;
    if (bins.counts[i] > 0) {
      if (seenScore && start >= 0) {
        const run = { from: bins.floor + start * bins.width, to: from };
        if (best === null || run.to - run.from > best.to - best.from) best = run;
      }
      seenScore = true;
      start = -1;
    } else if (seenScore && start < 0) {
      start = i;
    }
  }
  return best;
}

function lowestSparseThreshold(scores: ArrayLike<number>, floor: number, candidates?: (t: number) => number): number {
  if (candidates === undefined) return floor;
  for (let step = Math.ceil(floor * 100 - 1e-9); step <= 100; step++) {
    const t = step / 100;
    const pairs = countAbove(scores, t);
    if (pairs > 0 && candidates(t) <= SPARE_CANDIDATES * pairs) return t;
  }
  return floor;
}

/** Median of the scores at or above the floor. */
function median(scores: ArrayLike<number>, floor: number): number {
  const kept = Float64Array.from(Array.prototype.filter.call(scores, (s: number) => s >= floor) as number[]).sort();
  return kept.length === 0 ? -1 : kept[Math.floor(kept.length / 2)];
}

function countAbove(scores: ArrayLike<number>, threshold: number): number {
  let n = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] >= threshold) n++;
  return n;
}

/**
 * Chooses a threshold from a list of similarity scores (mutual best pairs' by default in
 * chooseThreshold; any value below the floor, such as -1, means "no candidate"). Pure: the same
 * scores give the same choice.
 *
 * @example
 * autoThreshold(mutualBestScores(best)).threshold; // e.g. 0.74, in the valley between the modes
 */
export function autoThreshold(scores: ArrayLike<number>, options: AutoThresholdOptions = {}): ThresholdChoice {
  const floor = options.floor ?? DEFAULT_FLOOR;
  const fallback = options.fallback ?? DEFAULT_FALLBACK;
  const method = options.method ?? 'valley';
  const bins = binScores(scores, floor, options.width ?? 0.01);
  let above = 0;
  for (const c of bins.counts) above += c;
  const fallBack = (reason: string): ThresholdChoice => ({
    threshold: fallback,
    method: 'fallback',
    reason,
    recordsAbove: countAbove(scores, fallback),
  });
  if (above < MIN_SCORES) return fallBack(`only ${above} records have a candidate at or above ${floor}: too few to see two modes`);
  let distinct = 0;
  for (const c of bins.counts) if (c > 0) distinct++;
  if (distinct < 3) return fallBack(`best scores fill only ${distinct} bins of width ${bins.width}: no distribution to split`);
  let threshold: number | null;
  let reason: string;
  switch (method) {
    case 'valley': {
      // Exact copies (score 1) are a spike of their own: beside it, the dip just below 1 would
      // look like the deepest valley (NCVR ocp_20 has 80% of its matches as exact copies).
      const valley = valleyThreshold(binScores(Array.prototype.filter.call(scores, (x: number) => x < 1) as number[], floor, bins.width));
      if (valley === null || valley.depth < MIN_VALLEY_DEPTH) {
        const depth = `deepest valley ${Math.exp(valley?.depth ?? 0).toFixed(1)}x below its peaks, ${Math.exp(MIN_VALLEY_DEPTH)}x needed`;
        // One mode in the upper half: nothing above the floor looks like chance (every record
        // has its match, as in FEBRL4), so keep all of it. One low mode: no matches to find.
        if (median(scores, floor) >= (1 + floor) / 2) {
          // A few non-matches below a clear empty stretch are too few to form a valley, but the
          // stretch itself separates them: cut in its middle rather than at the floor.
          const gap = widestEmptyRun(bins, median(scores, floor));
          if (gap !== null && gap.to - gap.from >= MIN_GAP) {
            const t = Math.round(((gap.from + gap.to) / 2) * 100) / 100;
            return { threshold: t, method: 'gap', reason: `no score falls in [${gap.from.toFixed(2)}, ${gap.to.toFixed(2)}): cut in the middle of that gap`, recordsAbove: countAbove(scores, t) };
          }
          // Mostly exact copies (NCVR ocp_20: 80% of matches score 1): what is left below 1 is
          // the corrupted matches and the chance pairs together, and Otsu's split of that rest
          // found the best threshold on NCVR where the floor rule fell 0.16 F1 short.
          if (shareOfExactCopies(scores, floor) >= EXACT_COPY_SHARE) {
            const rest = Array.prototype.filter.call(scores, (x: number) => x < 1) as number[];
            const split = otsuThreshold(binScores(rest, floor, bins.width));
            if (split !== null) {
              return { threshold: split, method: 'otsu', reason: `scores form one high mode of mostly exact copies (${depth}): Otsu split of the scores below 1`, recordsAbove: countAbove(scores, split) };
            }
          }
          const t = lowestSparseThreshold(scores, floor, options.candidatesAtOrAbove);
          return { threshold: t, method: 'floor', reason: `scores form one high mode (${depth}): all pairs above ${t} look like matches, with at most 2 candidates per pair`, recordsAbove: countAbove(scores, t) };
        }
        return fallBack(`scores form one low mode (${depth}): no group of matches stands out`);
      }
      threshold = valley.threshold;
      reason = `deepest valley of the best-score histogram, ${Math.exp(valley.depth).toFixed(1)}x below the lower of its two peaks`;
      break;
    }
    case 'otsu':
      threshold = otsuThreshold(bins);
      reason = 'Otsu split of the best-score histogram';
      break;
    case 'minimum-error':
      threshold = minimumErrorThreshold(bins);
      reason = 'Kittler-Illingworth minimum-error split of the best-score histogram';
      break;
    case 'mixture':
      threshold = mixtureThreshold(bins);
      reason = 'crossing of a two-component Gaussian mixture fitted to the best-score histogram';
      break;
  }
  if (threshold === null) return fallBack(`${method} found no split`);
  return { threshold, method, reason, recordsAbove: countAbove(scores, threshold) };
}

export interface ChooseThresholdOptions {
  workers: number;
  /** Lowest score looked at; default: estimated by estimateFloor. */
  floor?: number;
  fallback?: number;
  method?: AutoMethod;
}

export interface AutoThresholdResult extends ThresholdChoice {
  floor: number;
  /** Candidate pairs at or above the floor, and at or above the chosen threshold. */
  candidatesAtFloor: number;
  candidatesAtThreshold: number;
  /** The per-record best scores it was chosen from, for a histogram reveal or a report. */
  best: BestScores;
}

/**
 * The scores autoThreshold splits: every record's best and second-best score, both sides. A
 * true pair lifts one record's best on each side, so its mode is counted twice; second-best
 * scores are nearly all non-matches, so the lower mode is there even when every record has a
 * match (FEBRL4), where best scores alone are one mode.
 */
export function pooledBestScores(best: BestScores, withSecond = true): Float64Array {
  const parts = withSecond ? [best.a, best.b, best.aSecond, best.bSecond] : [best.a, best.b];
  const pooled = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    pooled.set(part, at);
    at += part.length;
  }
  return pooled;
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
/** Candidate pairs the scan at the floor should find, per record of both sides. */
const CANDIDATES_PER_RECORD = 20;

/**
 * A floor from the scores of a sample of (almost all non-matching) pairs: the score that about
 * CANDIDATES_PER_RECORD x (|A| + |B|) of all pairs reach. Hardening moves the whole score scale
 * (balanced filters put unrelated records near 0.5-0.6), so a fixed floor would either see no
 * non-match mode or make every pair a candidate. Clamped to [0.3, 0.95], in steps of 0.01.
 */
export async function estimateFloor(a: FilterSet, b: FilterSet, workers: number): Promise<number> {
  const sa = sampleRows(a, SAMPLE_ROWS);
  const sb = sampleRows(b, SAMPLE_ROWS);
  const sample = await findCandidates(sa, sb, { threshold: 1e-9, workers: Math.min(workers, 1) });
  const pairs = sa.count * sb.count;
  if (pairs === 0) return DEFAULT_FLOOR;
  const share = Math.min(1, (CANDIDATES_PER_RECORD * (a.count + b.count)) / (a.count * b.count));
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

/**
 * End to end for two filter sets: best scores at the floor on worker threads (memory bounded by
 * a tile, not by all candidates), then autoThreshold over the scores of mutual best pairs.
 *
 * @example const { threshold, method, reason } = await chooseThreshold(a, b, { workers: 2 });
 */
export async function chooseThreshold(a: FilterSet, b: FilterSet, options: ChooseThresholdOptions): Promise<AutoThresholdResult> {
  const floor = options.floor ?? (await estimateFloor(a, b, options.workers));
  const best = await bestScores(a, b, { floor, workers: options.workers });
  const choice = autoThreshold(mutualBestScores(best), {
    floor,
    fallback: options.fallback,
    method: options.method,
    candidatesAtOrAbove: (t) => candidatesAtOrAbove(best, t),
  });
  return {
    ...choice,
    floor,
    candidatesAtFloor: best.candidates,
    candidatesAtThreshold: candidatesAtOrAbove(best, choice.threshold),
    best,
  };
}
