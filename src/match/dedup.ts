// Deduplication of one encoded file at the linkage unit: candidate pairs i < j by a self-join
// (never a record with itself), grouped into clusters, released as one count by default.
import { AUTO_ALL_PAIRS_LIMIT } from '../blocking/blocked-candidates.js';
import { UserError } from '../errors.js';
import { assertWritable } from '../io/atomic-file.js';
import { readEncodedFile } from '../io/encoded-file.js';
import {
  bestScorePerNode,
  DEDUP_COUNT_DEFINITION,
  duplicateRecords,
  groupHistogram,
  type ClusterMethod,
  type DedupReport,
  type GroupRevealMode,
} from '../reveal/group-release.js';
import { writeGroupsCsv } from '../reveal/groups-csv.js';
import { candidateOrder } from '../solve/greedy.js';
import { connectedComponents, greedyGroups, type Grouping } from '../solve/greedy-groups.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { chooseModeThreshold, dedupThresholdProblem } from './mode-threshold.js';
import { filterSet, selfCandidates } from './pair-candidates.js';
import type { Candidates } from './tile.js';

export const DEDUP_BLOCKING_CHOICES = ['auto', 'lsh', 'none'] as const;
export type DedupBlockingChoice = (typeof DEDUP_BLOCKING_CHOICES)[number];

export interface DedupOptions {
  file: string;
  /** A Dice threshold in (0, 1], or 'auto'. */
  threshold: number | 'auto';
  reveal: GroupRevealMode;
  cluster: ClusterMethod;
  /** Greedy clustering only: share of the pairs across two clusters that must be candidates for them to merge; default 1. */
  mergeFraction?: number;
  /** Clusters CSV path; pairs mode only. */
  out?: string;
  workers: number;
  blocking?: DedupBlockingChoice;
  maxCandidates?: number;
  progress?: (message: string) => void;
}

/** What `--blocking auto` picks for a self-join of `count` records: all pairs up to the two-party limit of pairs, LSH beyond. */
export function chooseDedupBlocking(count: number): 'none' | 'lsh' {
  return (count * (count - 1)) / 2 <= AUTO_ALL_PAIRS_LIMIT ? 'none' : 'lsh';
}

/**
 * Clusters of duplicates from self-join candidates (a < b). `greedy` is anonlink's rule: pairs by
 * score descending (ties by lower rows), two clusters merging only when every pair across them
 * is a candidate, so every cluster is a clique of candidate pairs; with `mergeFraction` below 1,
 * when that share of them is (anonlink's probabilistic variant). `components` joins any chain of
 * candidate pairs.
 *
 * @example const clusters = clusterDuplicates(found, file.count, 'greedy'); // clusters.count
 */
export function clusterDuplicates(c: Candidates, records: number, method: ClusterMethod, mergeFraction = 1): Grouping {
  if (method === 'components') return connectedComponents(records, c.a, c.b, c.length);
  return greedyGroups(records, { a: c.a, b: c.b, order: candidateOrder(c, records, records) }, { mergeFraction });
}

/** Runs a deduplication; the caller has validated the options' ranges. */
export async function dedupFile(options: DedupOptions): Promise<DedupReport> {
  if (options.out !== undefined) await assertWritable(options.out);
  const file = await readEncodedFile(options.file, { shared: true });
  if (file.filterBits > MAX_FILTER_BITS) throw new UserError(`${file.path}: ${file.filterBits}-bit filters are longer than the ${MAX_FILTER_BITS} bits the matcher supports`);
  const set = filterSet(file);
  let threshold: number;
  let thresholdChoice: DedupReport['thresholdChoice'];
  if (options.threshold === 'auto') {
    options.progress?.('choosing a threshold from the score distribution (even rows against odd rows)');
    const choice = await chooseModeThreshold([dedupThresholdProblem(set)], options.workers);
    threshold = choice.threshold;
    thresholdChoice = { method: choice.method, reason: `${choice.reason}; chosen on the even rows against the odd rows, so no record meets itself` };
  } else {
    threshold = options.threshold;
  }
  const method = (options.blocking ?? 'auto') === 'auto' ? chooseDedupBlocking(file.count) : (options.blocking as 'lsh' | 'none');
  const progress = (done: number, total: number): void => options.progress?.(`comparing: ${Math.floor((100 * done) / Math.max(1, total))}%`);
  const { candidates, blocking } = await selfCandidates(set, method, { threshold, workers: options.workers, maxCandidates: options.maxCandidates, onProgress: progress });
  const clusters = clusterDuplicates(candidates, file.count, options.cluster, options.mergeFraction);
  if (options.reveal === 'pairs' && options.out !== undefined) await writeGroupsCsv(options.out, clusters, { offsets: [0, file.count], ids: [file.ids] });
  const report: DedupReport = {
    mode: 'dedup',
    reveal: options.reveal,
    threshold,
    cluster: options.cluster,
    ...(options.cluster === 'greedy' ? { mergeFraction: options.mergeFraction ?? 1 } : {}),
    count: duplicateRecords(clusters),
    countDefinition: DEDUP_COUNT_DEFINITION,
    input: { path: file.path, records: file.count, format: file.format },
    blocking,
  };
  if (thresholdChoice !== undefined) report.thresholdChoice = thresholdChoice;
  if (options.reveal === 'histogram') report.histogram = groupHistogram(bestScorePerNode(file.count, candidates), [0, file.count], threshold);
  if (options.reveal === 'pairs') report.out = options.out;
  return report;
}
