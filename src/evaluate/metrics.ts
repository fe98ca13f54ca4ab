// Linkage quality from a confusion count: precision, recall, F1, F* (Hand, Christen and Kirielle
// 2021: TP/(TP+FP+FN), one interpretable number) and the signed count error FP - FN.

export interface Confusion {
  /** Reported pairs that are true links. */
  tp: number;
  /** Reported pairs that are not. */
  fp: number;
  /** True links not reported. */
  fn: number;
}

export interface Quality extends Confusion {
  /** null when nothing was reported (0/0). */
  precision: number | null;
  /** null when the truth is empty. */
  recall: number | null;
  /** 2TP/(2TP+FP+FN); null when there are neither pairs nor true links. */
  f1: number | null;
  fStar: number | null;
  /**
   * Reported count minus true count, FP - FN: a count-only release can be exact while errors
   * cancel, so this is reported beside F1 rather than instead of it.
   */
  countError: number;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** @example quality({ tp: 8, fp: 2, fn: 2 }).f1; // 0.8 */
export function quality(confusion: Confusion): Quality {
  const { tp, fp, fn } = confusion;
  return {
    tp,
    fp,
    fn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    fStar: ratio(tp, tp + fp + fn),
    countError: fp - fn,
  };
}

/** Confusion counts of all `correct` flags (1 = the pair is a true link) against a truth of `truthSize` links. */
export function confusionOf(correct: Uint8Array, truthSize: number): Confusion {
  let tp = 0;
  for (let i = 0; i < correct.length; i++) tp += correct[i];
  return { tp, fp: correct.length - tp, fn: truthSize - tp };
}
