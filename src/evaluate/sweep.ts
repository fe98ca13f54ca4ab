// Threshold sweep over one pairs file: at each threshold t, keep the pairs scoring >= t. This only
// approximates re-running the match at t: a greedy 1:1 assignment made at a lower threshold may have
// given a record a different partner than a run at t would.
import { quality, type Quality } from './metrics.js';

export interface SweepPoint extends Quality {
  threshold: number;
  /** Pairs kept at this threshold. */
  pairs: number;
}

/** Thresholds are whole hundredths, so k/100 is the same double as parsing the decimal "0.k". */
const STEPS_PER_UNIT = 100;

/** Lowest sweep threshold: the minimum score rounded down to a hundredth; 1 when there are no pairs. */
export function sweepStart(scores: Float64Array): number {
  let min = 1;
  for (const score of scores) if (score < min) min = score;
  // The small allowance keeps 0.29 at 0.29 although 0.29 * 100 is 28.999...; the check after it
  // makes sure the allowance never lifts the start above the lowest score.
  let step = Math.floor(min * STEPS_PER_UNIT + 1e-9);
  if (step / STEPS_PER_UNIT > min) step--;
  return step / STEPS_PER_UNIT;
}

/**
 * Quality at every threshold from `sweepStart(scores)` to 1.00 in steps of 0.01, ascending.
 *
 * @example sweep(Float64Array.of(0.9, 0.7), Uint8Array.of(1, 0), 1)[0]; // threshold 0.7, tp 1, fp 1
 */
export function sweep(scores: Float64Array, correct: Uint8Array, truthSize: number): SweepPoint[] {
  const order = Array.from(scores.keys()).sort((x, y) => scores[y] - scores[x]);
  const lowest = Math.round(sweepStart(scores) * STEPS_PER_UNIT);
  const points: SweepPoint[] = [];
  let next = 0;
  let tp = 0;
  for (let step = STEPS_PER_UNIT; step >= lowest; step--) {
    const threshold = step / STEPS_PER_UNIT;
    while (next < order.length && scores[order[next]] >= threshold) tp += correct[order[next++]];
    points.push({ threshold, pairs: next, ...quality({ tp, fp: next - tp, fn: truthSize - tp }) });
  }
  return points.reverse();
}

/** The point with the highest F1; ties go to the higher threshold, which reveals fewer pairs. */
export function bestByF1(points: readonly SweepPoint[]): SweepPoint | undefined {
  let best: SweepPoint | undefined;
  for (const point of points) {
    if (point.f1 === null) continue;
    if (best === undefined || best.f1 === null || point.f1 >= best.f1) best = point;
  }
  return best;
}

export interface Histogram {
  /** Left edge of the first bin. */
  start: number;
  binWidth: number;
  matches: Uint32Array;
  nonMatches: Uint32Array;
}

/** Score counts of true and false pairs in bins of 0.01 from `sweepStart(scores)` up to 1 (a score of 1 joins the last bin). */
export function scoreHistogram(scores: Float64Array, correct: Uint8Array): Histogram {
  const start = sweepStart(scores);
  const bins = Math.max(1, Math.round((1 - start) * STEPS_PER_UNIT));
  const matches = new Uint32Array(bins);
  const nonMatches = new Uint32Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((scores[i] - start) * STEPS_PER_UNIT + 1e-9)));
    if (correct[i] === 1) matches[bin]++;
    else nonMatches[bin]++;
  }
  return { start, binWidth: 1 / STEPS_PER_UNIT, matches, nonMatches };
}
