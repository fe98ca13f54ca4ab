// `--threshold auto` for deduplication and for linkage across three or more files, through the
// two-party rule (chooseThreshold) and nothing else, so that a better two-party method reaches
// these modes by changing this one function.
import { assertAutoThresholdFeasible, chooseThreshold } from './auto-threshold.js';
import type { FilterSet } from './shared-filters.js';
import { evenAndOddRows } from './split-rows.js';

export interface ModeThresholdChoice {
  threshold: number;
  method: string;
  reason: string;
}

/**
 * One threshold for several two-party problems: chooseThreshold on each, then the median (the
 * lower middle value for an even number). Deduplication passes one problem, the file's even rows
 * against its odd rows, so no record is ever scored against itself: in a self-join every record's
 * best partner would be itself at score 1, and the best and second-best scores the rule reads
 * would say nothing. Its cost: a duplicate pair lands in one half (and is not seen) half the time.
 * Linkage across k files passes its k(k-1)/2 party pairs.
 *
 * @example const { threshold } = await chooseModeThreshold([evenAndOddRows(set)], 2);
 */
export async function chooseModeThreshold(problems: Array<[FilterSet, FilterSet]>, workers: number, label = (i: number) => `pair ${i}`): Promise<ModeThresholdChoice> {
  // The scans have no blocking: bound their total, as the two-party command does.
  assertAutoThresholdFeasible(problems.reduce((n, [a, b]) => n + a.count * b.count, 0), 1);
  const choices = [];
  for (const [a, b] of problems) choices.push((await chooseThreshold(a, b, { workers })).choice);
  if (choices.length === 1) return { threshold: choices[0].threshold, method: choices[0].method, reason: choices[0].reason };
  const sorted = choices.map((c, i) => ({ ...c, i })).sort((x, y) => x.threshold - y.threshold);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const each = choices.map((c, i) => `${label(i)} ${c.threshold} (${c.method})`).join(', ');
  return { threshold: median.threshold, method: `median of ${choices.length}`, reason: `median of the automatic thresholds of ${choices.length} file pairs: ${each}` };
}

/** The two-party problem deduplication's automatic threshold is chosen on: even rows against odd rows. */
export function dedupThresholdProblem(set: FilterSet): [FilterSet, FilterSet] {
  return evenAndOddRows(set);
}
