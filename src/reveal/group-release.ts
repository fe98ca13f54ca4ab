// What the linkage unit releases after deduplicating one file or linking three or more: by
// default one count, defined in the report itself; a histogram of best scores; or, on explicit
// opt-in, who is in which group. No noisy count: one record can move these counts by more than
// one (test/greedy-groups.test.ts), so there is no sensitivity to calibrate noise to (docs/PRIVACY.md).
import type { Grouping } from '../solve/greedy-groups.js';
import type { Candidates } from '../match/tile.js';
import { binBestScores, type MultiHistogramBin } from './histogram.js';
import type { BlockingSummary, InputSummary, RevealMode } from './release.js';

export type GroupRevealMode = Exclude<RevealMode, 'noisy-count'>;

export const CLUSTER_METHODS = ['greedy', 'components'] as const;
export type ClusterMethod = (typeof CLUSTER_METHODS)[number];

/** Why these modes release no noisy count, for the refusal message and --help. */
export const GROUPS_NO_NOISE =
  'one record added or removed can change a count of clusters or groups by more than one (a cascade through the greedy grouping), so no sensitivity is known to calibrate noise to; release the count, or a histogram';

/** What `count` is, word for word in every report (and in --help). */
export const DEDUP_COUNT_DEFINITION = 'duplicate records: records minus clusters (a cluster of n records counts n - 1; what keeping one record per cluster would remove)';
export const PARTIES_COUNT_DEFINITION = 'groups spanning two or more files (a group holds at most one record per file)';

export interface GroupHistogram {
  /** Each bin's counts per file (one entry for dedup): records whose best candidate score is in [from, to). */
  bins: MultiHistogramBin[];
  /** Records with no candidate at or above the threshold, per file. */
  belowThreshold: number[];
}

export interface ThresholdSummary {
  threshold: number;
  thresholdChoice?: { method: string; reason: string };
}

/** The one object `dedup --json` prints. */
export interface DedupReport extends ThresholdSummary {
  mode: 'dedup';
  reveal: GroupRevealMode;
  cluster: ClusterMethod;
  /** Greedy clustering: the share of cross pairs two clusters needed to merge (1: all). */
  mergeFraction?: number;
  count: number;
  countDefinition: string;
  input: InputSummary;
  blocking?: BlockingSummary;
  histogram?: GroupHistogram;
  out?: string;
}

/** The one object `match A B C ... --json` prints. */
export interface MultiPartyReport extends ThresholdSummary {
  mode: 'multi-party';
  reveal: GroupRevealMode;
  count: number;
  countDefinition: string;
  /** Only with --party-pair-counts: for each pair of files (0-based, in command-line order), the groups holding a record of both. */
  partyPairCounts?: Array<{ a: number; b: number; count: number }>;
  inputs: InputSummary[];
  /** Over all file pairs: pairs in all, pairs compared, reduction ratio, and the methods used. */
  blocking?: Omit<BlockingSummary, 'method' | 'lsh'> & { methods: Array<BlockingSummary['method']> };
  histogram?: GroupHistogram;
  out?: string;
}

/** Records minus clusters: each cluster of n records counts n - 1. */
export function duplicateRecords(grouping: Grouping): number {
  let inGroups = 0;
  for (const g of grouping.groupOf) if (g >= 0) inGroups++;
  return inGroups - grouping.count;
}

/** Each node's best candidate score (-1 when it has none): nodes are both ends of a pair. */
export function bestScorePerNode(nodes: number, c: Candidates): Float64Array {
  const best = new Float64Array(nodes).fill(-1);
  for (let k = 0; k < c.length; k++) {
    if (c.score[k] > best[c.a[k]]) best[c.a[k]] = c.score[k];
    if (c.score[k] > best[c.b[k]]) best[c.b[k]] = c.score[k];
  }
  return best;
}

/** Histogram of best scores with nodes split into files at `offsets` (offsets[p] = first node of file p; one more entry at the end). */
export function groupHistogram(best: Float64Array, offsets: ArrayLike<number>, threshold: number): GroupHistogram {
  const sets: Float64Array[] = [];
  for (let p = 0; p + 1 < offsets.length; p++) sets.push(best.subarray(offsets[p], offsets[p + 1]));
  const { bins, below } = binBestScores(sets, threshold);
  return { bins, belowThreshold: below };
}

/** For each pair of files, the groups holding a record of both. */
export function partyPairCounts(grouping: Grouping, partyOf: Int32Array, parties: number): Array<{ a: number; b: number; count: number }> {
  const has: Array<Set<number>> = Array.from({ length: grouping.count }, () => new Set());
  grouping.groupOf.forEach((g, node) => g >= 0 && has[g].add(partyOf[node]));
  const counts = new Int32Array(parties * parties);
  for (const set of has) {
    const list = [...set].sort((x, y) => x - y);
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) counts[list[i] * parties + list[j]]++;
  }
  const out: Array<{ a: number; b: number; count: number }> = [];
  for (let a = 0; a < parties; a++) for (let b = a + 1; b < parties; b++) out.push({ a, b, count: counts[a * parties + b] });
  return out;
}

function thresholdLine(report: ThresholdSummary): string {
  const chosen = report.thresholdChoice ? ` (chosen automatically, ${report.thresholdChoice.method}: ${report.thresholdChoice.reason})` : '';
  return `threshold: ${report.threshold}${chosen}`;
}

function histogramLines(histogram: GroupHistogram, threshold: number, labels: string[]): string[] {
  const lines = ['best score per record:', `  score        ${labels.map((l) => l.padStart(6)).join(' ')}`];
  for (const bin of histogram.bins) {
    if (bin.counts.every((c) => c === 0)) continue;
    lines.push(`  [${bin.from.toFixed(2)}, ${bin.to.toFixed(2)})  ${bin.counts.map((c) => String(c).padStart(6)).join(' ')}`);
  }
  lines.push(`  below ${threshold}   ${histogram.belowThreshold.map((c) => String(c).padStart(6)).join(' ')}`);
  return lines;
}

function comparisonsLine(pairsCompared: number, pairsTotal: number, how: string, reductionRatio: number): string {
  return `comparisons: ${pairsCompared.toLocaleString('en-US')} of ${pairsTotal.toLocaleString('en-US')} pairs (${how}, reduction ratio ${reductionRatio.toFixed(6)})`;
}

/** The dedup report for people. */
export function formatDedupReport(report: DedupReport): string {
  const fraction = report.mergeFraction !== undefined && report.mergeFraction !== 1 ? `, merge fraction ${report.mergeFraction}` : '';
  const lines = [`input: ${report.input.path} (${report.input.records} records)`, thresholdLine(report), `clustering: ${report.cluster}${fraction}`];
  lines.push(`duplicate records (records minus clusters): ${report.count}`);
  if (report.histogram !== undefined) lines.push(...histogramLines(report.histogram, report.threshold, ['records']));
  if (report.blocking !== undefined) {
    const { method, pairsCompared, pairsTotal, reductionRatio } = report.blocking;
    lines.push(comparisonsLine(pairsCompared, pairsTotal, method === 'lsh' ? 'Hamming LSH blocking, self-join' : 'all pairs i < j, popcount bound', reductionRatio));
  }
  if (report.out !== undefined) lines.push(`clusters written to ${report.out}`);
  return lines.join('\n');
}

/** The multi-party report for people. */
export function formatMultiPartyReport(report: MultiPartyReport): string {
  const lines = [`inputs: ${report.inputs.map((f, i) => `[${i}] ${f.path} (${f.records} records)`).join(', ')}`, thresholdLine(report)];
  lines.push(`groups spanning two or more files: ${report.count}`);
  for (const pair of report.partyPairCounts ?? []) lines.push(`  files ${pair.a} and ${pair.b}: ${pair.count}`);
  if (report.histogram !== undefined) lines.push(...histogramLines(report.histogram, report.threshold, report.inputs.map((_, i) => `[${i}]`)));
  if (report.blocking !== undefined) {
    const { pairsCompared, pairsTotal, reductionRatio, methods } = report.blocking;
    lines.push(comparisonsLine(pairsCompared, pairsTotal, `all file pairs; ${methods.join(', ')}`, reductionRatio));
  }
  if (report.out !== undefined) lines.push(`groups written to ${report.out}`);
  return lines.join('\n');
}
