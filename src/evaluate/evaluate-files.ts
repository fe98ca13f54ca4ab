// Scores a pairs file against the truth: every figure `evaluate` prints, and the histogram its
// plot draws. Used by the evaluate command, the demo and the quality bench.
import { confusionOf, quality, type Quality } from './metrics.js';
import { readPairs, readTruth, type SideA } from './read.js';
import { bestByF1, scoreHistogram, sweep, type SweepPoint } from './sweep.js';

export interface Evaluation extends Quality {
  truthLinks: number;
  pairs: number;
  minScore: number | null;
  best: SweepPoint | null;
  sweep: SweepPoint[];
}

/** Reads both files and computes every figure `evaluate` prints; `histogram` feeds the plot. */
export async function evaluateFiles(truthPath: string, pairsPath: string, sideA: SideA): Promise<{ evaluation: Evaluation; histogram: ReturnType<typeof scoreHistogram> }> {
  const truth = await readTruth(truthPath);
  const { scores, correct } = await readPairs(pairsPath, truth, sideA);
  const points = sweep(scores, correct, truth.size);
  let minScore: number | null = null;
  for (const score of scores) if (minScore === null || score < minScore) minScore = score;
  return {
    evaluation: {
      truthLinks: truth.size,
      pairs: scores.length,
      ...quality(confusionOf(correct, truth.size)),
      minScore,
      best: scores.length === 0 ? null : bestByF1(points) ?? null,
      sweep: points,
    },
    histogram: scoreHistogram(scores, correct),
  };
}
