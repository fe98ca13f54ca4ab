// Decides what leaves the linkage unit (DESIGN.md, reveal modes): by default only the size of the
// 1:1 matching. Every mode's report says what it released; nothing else is put in it.
import type { Candidates } from '../match/tile.js';
import type { Matching } from '../solve/greedy.js';
import { bestScoreHistogram, type ScoreHistogram } from './histogram.js';
import { NOISE_MECHANISM, noisyCount } from './noise.js';

export const REVEAL_MODES = ['count', 'noisy-count', 'histogram', 'pairs'] as const;
export type RevealMode = (typeof REVEAL_MODES)[number];

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

/** The one object `match --json` prints. */
export interface MatchReport {
  reveal: RevealMode;
  threshold: number;
  /** Present when the threshold was chosen by `--threshold auto`: how and why. */
  thresholdChoice?: { method: string; reason: string };
  blocking?: BlockingSummary;
  /** The released count: noisy in noisy-count mode, exact otherwise. */
  count: number;
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
  thresholdChoice?: { method: string; reason: string };
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
  if (reveal === 'noisy-count') {
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
  if (report.reveal === 'noisy-count') {
    lines.push(`noisy count: ${report.count}`, `mechanism: ${report.mechanism}`, `epsilon: ${report.epsilon}`);
  } else {
    lines.push(`matched pairs (1:1): ${report.count}`);
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
