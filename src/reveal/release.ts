// Decides what leaves the linkage unit (DESIGN.md, reveal modes): by default only the size of the
// 1:1 matching. Every mode's report says what it released; nothing else is put in it.
import type { Candidates } from '../match/tile.js';
import type { Matching } from '../solve/greedy.js';
import { bestScoreHistogram, type ScoreHistogram } from './histogram.js';
import { NOISE_MECHANISM, noisyCount } from './noise.js';

export const REVEAL_MODES = ['count', 'noisy-count', 'histogram', 'pairs'] as const;
/** Two-file matching also offers the score model's overlap estimate (with its interval) in place of the count. */
export const MATCH_REVEAL_MODES = [...REVEAL_MODES, 'estimate'] as const;
export type RevealMode = (typeof MATCH_REVEAL_MODES)[number];

export interface InputSummary {
  path: string;
  records: number;
  format: 'arrow' | 'clkhash-json';
}

/** How candidates were found: sizes the linkage unit knows anyway, so releasing them costs nothing. */
export interface BlockingSummary {
  method: 'none' | 'lsh' | 'signature';
  pairsTotal: number;
  /** Pairs whose exact Dice was computed. */
  pairsCompared: number;
  /** 1 - compared / total. */
  reductionRatio: number;
  /** LSH only: bits per table (K), tables (L), and the completeness the plan promises at the threshold. */
  lsh?: { bitsPerTable: number; tables: number; predictedCompleteness: number };
  /** Present when the larger side was searched in chunks to stay within a memory budget (bytes). */
  chunks?: { count: number; records: number; memoryBudget: number };
  /** Present when shards were searched by workers of a job engine: tasks, tasks run again after a worker was lost, workers seen, and the tasks' own seconds summed (their last runs). */
  distributed?: { engine: string; tasks: number; retried: number; workers: number; taskSeconds: number };
}

/**
 * How `--threshold auto` chose: the method and its reason, and for the score model the floor it
 * fitted from and what it expects of the matching at the threshold.
 */
export interface ThresholdChoiceSummary {
  method: string;
  reason: string;
  floor?: number;
  expected?: { precision: number; recall: number; f1: number };
  candidatesAtFloor?: number;
  candidatesAtThreshold?: number;
}

/** The score model's overlap estimate (match/overlap-estimate.ts). */
export interface OverlapEstimateSummary {
  estimate: number;
  low: number;
  high: number;
  level: number;
  /** True pairs scoring below this were not looked at and are not in the estimate. */
  floor: number;
  /** Of the estimate, the true pairs placed where chance pairs outnumber them: a guess the interval is widened by. */
  unresolved: number;
}

/** The one object `match --json` prints. */
export interface MatchReport {
  reveal: RevealMode;
  threshold: number;
  /** Present when the threshold was chosen by `--threshold auto`: how and why. */
  thresholdChoice?: ThresholdChoiceSummary;
  blocking?: BlockingSummary;
  /** The released count: noisy in noisy-count mode, the rounded overlap estimate in estimate mode, the 1:1 matched count otherwise. */
  count: number;
  /** The overlap estimate with its interval: in estimate mode, and whenever the threshold was chosen automatically (its expected recall and precision imply it). */
  estimate?: OverlapEstimateSummary;
  /** null unless noise was added. */
  epsilon: number | null;
  mechanism: string | null;
  inputs: { a: InputSummary; b: InputSummary };
  histogram?: ScoreHistogram;
  /** Where the pairs went (pairs mode). */
  out?: string;
}

export interface ReleaseInput {
  reveal: RevealMode;
  threshold: number;
  thresholdChoice?: ThresholdChoiceSummary;
  estimate?: OverlapEstimateSummary;
  blocking?: BlockingSummary;
  epsilon: number | null;
  inputs: { a: InputSummary; b: InputSummary };
  candidates: Candidates;
  matching: Matching;
  out?: string;
}

/** Builds the report for the chosen mode; noise is drawn here, once. */
export function release(input: ReleaseInput): MatchReport {
  const { reveal, threshold, inputs, matching } = input;
  const report: MatchReport = { reveal, threshold, count: matching.length, epsilon: null, mechanism: null, inputs };
  if (input.thresholdChoice !== undefined) report.thresholdChoice = input.thresholdChoice;
  if (input.blocking !== undefined) report.blocking = input.blocking;
  if (input.estimate !== undefined && (reveal === 'estimate' || input.thresholdChoice !== undefined)) report.estimate = input.estimate;
  if (reveal === 'estimate') {
    if (input.estimate === undefined) throw new RangeError('estimate mode needs the overlap estimate');
    report.count = input.estimate.estimate;
  } else if (reveal === 'noisy-count') {
    if (input.epsilon === null) throw new RangeError('noisy-count needs epsilon');
    report.count = noisyCount(matching.length, input.epsilon, Math.min(inputs.a.records, inputs.b.records));
    report.epsilon = input.epsilon;
    report.mechanism = NOISE_MECHANISM;
  } else if (reveal === 'histogram') {
    report.histogram = bestScoreHistogram(input.candidates, inputs.a.records, inputs.b.records, threshold);
  } else if (reveal === 'pairs') {
    report.out = input.out;
  }
  return report;
}

/** The report for people: a few lines on stdout. */
export function formatReport(report: MatchReport): string {
  const { a, b } = report.inputs;
  const chosen = report.thresholdChoice ? ` (chosen automatically, ${report.thresholdChoice.method}: ${report.thresholdChoice.reason})` : '';
  const lines = [`inputs: ${a.path} (${a.records} records), ${b.path} (${b.records} records)`, `threshold: ${report.threshold}${chosen}`];
  const expected = report.thresholdChoice?.expected;
  if (expected !== undefined) {
    lines.push(`expected at this threshold: precision ${expected.precision.toFixed(3)}, recall ${expected.recall.toFixed(3)}, F1 ${expected.f1.toFixed(3)} (score model, not measured)`);
  }
  if (report.reveal === 'noisy-count') {
    lines.push(`noisy count: ${report.count}`, `mechanism: ${report.mechanism}`, `epsilon: ${report.epsilon}`);
  } else if (report.reveal !== 'estimate') {
    lines.push(`matched pairs (1:1): ${report.count}`);
  }
  if (report.estimate !== undefined) {
    const e = report.estimate;
    const n = (x: number): string => x.toLocaleString('en-US');
    lines.push(
      `estimated overlap: ${n(e.estimate)} true pairs (${Math.round(e.level * 100)}% interval ${n(e.low)} to ${n(e.high)}, ` +
        `about ${n(e.unresolved)} of them at scores where chance pairs outnumber true ones; pairs scoring below ${e.floor} not counted)`,
    );
  }
  if (report.histogram !== undefined) {
    lines.push('best score per record:', '  score          A      B');
    for (const bin of report.histogram.bins) {
      if (bin.a === 0 && bin.b === 0) continue;
      lines.push(`  [${bin.from.toFixed(2)}, ${bin.to.toFixed(2)})  ${String(bin.a).padStart(6)} ${String(bin.b).padStart(6)}`);
    }
    lines.push(`  below ${report.threshold}   ${String(report.histogram.belowThreshold.a).padStart(6)} ${String(report.histogram.belowThreshold.b).padStart(6)}`);
  }
  if (report.blocking !== undefined) {
    const { method, pairsCompared, pairsTotal, reductionRatio } = report.blocking;
    const lsh = report.blocking.lsh;
    const how =
      method === 'lsh'
        ? `Hamming LSH blocking${lsh === undefined ? '' : `, K = ${lsh.bitsPerTable}, L = ${lsh.tables}, predicted completeness at the threshold ${lsh.predictedCompleteness.toFixed(4)}`}`
        : method === 'signature'
          ? 'keyed signature blocking'
          : 'all pairs, popcount bound';
    lines.push(`comparisons: ${pairsCompared.toLocaleString('en-US')} of ${pairsTotal.toLocaleString('en-US')} pairs (${how}, reduction ratio ${reductionRatio.toFixed(6)})`);
    const { chunks, distributed } = report.blocking;
    if (chunks !== undefined) lines.push(`searched in ${chunks.count} chunks of up to ${chunks.records.toLocaleString('en-US')} records of the larger file (memory budget ${(chunks.memoryBudget / 2 ** 30).toFixed(1)} GiB)`);
    if (distributed !== undefined) lines.push(`searched as ${distributed.tasks} shard tasks on ${distributed.engine} by ${distributed.workers} worker process(es), ${distributed.retried} run again after a worker was lost`);
  }
  if (report.out !== undefined) lines.push(`pairs written to ${report.out}`);
  return lines.join('\n');
}
