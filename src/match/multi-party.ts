// Linkage across three or more encoded files at the linkage unit: candidates for every pair of
// files, then anonlink's multi-party greedy grouping (groups with at most one record per file,
// merged in descending score order), released as one count by default.
import { realpath } from 'node:fs/promises';
import { chooseBlocking } from '../blocking/blocked-candidates.js';
import { UserError } from '../errors.js';
import { assertWritable } from '../io/atomic-file.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import {
  bestScorePerNode,
  groupHistogram,
  PARTIES_COUNT_DEFINITION,
  partyPairCounts,
  type GroupRevealMode,
  type MultiPartyReport,
} from '../reveal/group-release.js';
import { writeGroupsCsv } from '../reveal/groups-csv.js';
import type { BlockingSummary } from '../reveal/release.js';
import { byScoreDescending, stableSortBy } from '../solve/greedy.js';
import { greedyGroups, type Grouping } from '../solve/greedy-groups.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { DEFAULT_MAX_CANDIDATES } from './candidates.js';
import { checkCompatible, signatureKeys } from './compatibility.js';
import type { MatchOptions } from './match-files.js';
import { chooseModeThreshold } from './mode-threshold.js';
import { filterSet, pairCandidates } from './pair-candidates.js';
import type { Candidates } from './tile.js';

/**
 * Most files one command links. The work is k(k-1)/2 two-party matches (120 at 16 files) with
 * every file in memory at once; beyond that, link in batches of files or raise the limit knowingly.
 */
export const MAX_PARTIES = 16;

/** As for matchFiles, with files in place of a and b, a reveal mode without noise, and per-pair counts. */
export interface MultiPartyOptions extends Pick<MatchOptions, 'threshold' | 'workers' | 'blocking' | 'maxCandidates' | 'warn' | 'progress'> {
  files: string[];
  reveal: GroupRevealMode;
  /** Also release, for every pair of files, how many groups hold a record of both. */
  partyPairCounts: boolean;
  /** Groups CSV path; pairs mode only. */
  out?: string;
}

/** Candidates between files p < q, rows numbered within each file. */
export interface PartyPairCandidates {
  p: number;
  q: number;
  candidates: Candidates;
}

/** The groups of a multi-party linkage, with the node numbering they use. */
export interface PartyGroups {
  grouping: Grouping;
  /** offsets[p] is file p's first node (file p's row r is node offsets[p] + r); one more entry at the end. */
  offsets: Int32Array;
  /** Each node's file. */
  partyOf: Int32Array;
  /** All candidates as nodes. */
  nodes: Candidates;
}

/**
 * anonlink's greedy grouping over the candidates of every file pair. The walk follows anonlink's
 * merged candidate order: score descending, then the file pair (p, q) ascending, then the row in
 * p, then the row in q. No candidate joins two records of one file, so a group (a clique of
 * candidate pairs) holds at most one record per file.
 *
 * @example const { grouping } = groupParties([3, 4, 5], [{ p: 0, q: 1, candidates }]);
 */
export function groupParties(counts: readonly number[], parts: readonly PartyPairCandidates[]): PartyGroups {
  const k = counts.length;
  const offsets = new Int32Array(k + 1);
  for (let p = 0; p < k; p++) offsets[p + 1] = offsets[p] + counts[p];
  const total = offsets[k];
  const partyOf = new Int32Array(total);
  for (let p = 0; p < k; p++) partyOf.fill(p, offsets[p], offsets[p + 1]);
  const length = parts.reduce((n, part) => n + part.candidates.length, 0);
  const nodes: Candidates = { length, a: new Int32Array(length), b: new Int32Array(length), score: new Float64Array(length) };
  const pairRank = new Int32Array(length);
  let at = 0;
  for (const { p, q, candidates: c } of parts) {
    if (!(p < q)) throw new RangeError(`file pair (${p}, ${q}) must have p < q`);
    for (let i = 0; i < c.length; i++, at++) {
      nodes.a[at] = offsets[p] + c.a[i];
      nodes.b[at] = offsets[q] + c.b[i];
      nodes.score[at] = c.score[i];
      pairRank[at] = p * k + q;
    }
  }
  let order: Uint32Array = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  // Least significant key first, each pass stable: row in q, row in p, file pair, then score.
  order = stableSortBy(order, (i) => nodes.b[i], total);
  order = stableSortBy(order, (i) => nodes.a[i], total);
  order = stableSortBy(order, (i) => pairRank[i], k * k);
  order = byScoreDescending(order, nodes.score);
  const grouping = greedyGroups(total, { a: nodes.a, b: nodes.b, order }, { partyOf });
  return { grouping, offsets, partyOf, nodes };
}

/** Refuses a file given twice: by path, by the file it resolves to, or by identical encodings under two names. */
async function assertDistinct(files: EncodedFile[], paths: string[]): Promise<void> {
  const real = await Promise.all(paths.map((p) => realpath(p).catch(() => p)));
  for (let i = 0; i < files.length; i++) {
    for (let j = i + 1; j < files.length; j++) {
      if (real[i] === real[j]) throw new UserError(`${paths[j]}: the same file as ${paths[i]} is given twice; each custodian's file must appear once`);
      const a = files[i];
      const b = files[j];
      if (a.count > 0 && a.count === b.count && a.filterBits === b.filterBits && Buffer.compare(a.clks, b.clks) === 0) {
        throw new UserError(`${paths[j]} and ${paths[i]} hold identical encodings: the same file given twice under two names?`);
      }
    }
  }
}

/** Runs a linkage of three to MAX_PARTIES files; the caller has validated the options' ranges. */
export async function matchParties(options: MultiPartyOptions): Promise<MultiPartyReport> {
  const k = options.files.length;
  if (k < 3) throw new RangeError('matchParties links three or more files; two go through matchFiles');
  if (k > MAX_PARTIES) throw new UserError(`${k} files given: at most ${MAX_PARTIES} can be linked at once (the work grows with every pair of files: ${(k * (k - 1)) / 2} pairs here)`, 2);
  if (options.out !== undefined) await assertWritable(options.out);
  const files = await Promise.all(options.files.map((path) => readEncodedFile(path, { shared: true })));
  await assertDistinct(files, options.files);
  const method = options.blocking ?? 'auto';
  if (method === 'signature') for (let p = 1; p < k; p++) signatureKeys(files[0], files[p]);
  const warnings = new Set<string>();
  for (let p = 1; p < k; p++) for (const warning of checkCompatible(files[0], files[p])) warnings.add(warning);
  for (const warning of warnings) options.warn(warning);
  if (files[0].filterBits > MAX_FILTER_BITS) throw new UserError(`${files[0].path}: ${files[0].filterBits}-bit filters are longer than the ${MAX_FILTER_BITS} bits the matcher supports`);

  const pairs: Array<[number, number]> = [];
  for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) pairs.push([p, q]);
  let threshold: number;
  let thresholdChoice: MultiPartyReport['thresholdChoice'];
  if (options.threshold === 'auto') {
    options.progress?.(`choosing a threshold for each of ${pairs.length} file pairs`);
    const choice = await chooseModeThreshold(
      pairs.map(([p, q]) => [filterSet(files[p]), filterSet(files[q])]),
      options.workers,
      (i) => `${pairs[i][0]}-${pairs[i][1]}`,
    );
    threshold = choice.threshold;
    thresholdChoice = { method: choice.method, reason: choice.reason };
  } else {
    threshold = options.threshold;
  }

  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  const parts: PartyPairCandidates[] = [];
  const summaries: BlockingSummary[] = [];
  let found = 0;
  for (const [p, q] of pairs) {
    options.progress?.(`comparing files ${p} and ${q}`);
    const a = files[p];
    const b = files[q];
    const pairMethod = method === 'auto' ? chooseBlocking(a.count, b.count) : method;
    const keys = pairMethod === 'signature' ? signatureKeys(a, b) : null;
    const { candidates, blocking } = await pairCandidates(a, b, pairMethod, keys, { threshold, workers: options.workers, maxCandidates });
    // The limit holds over all pairs of files together: their candidates are all in memory for the grouping.
    found += candidates.length;
    if (found > maxCandidates) {
      throw new UserError(`more than ${maxCandidates} candidate pairs over all pairs of files at threshold ${threshold}: stopped before memory runs out; raise --threshold or --max-candidates`);
    }
    parts.push({ p, q, candidates });
    summaries.push(blocking);
  }
  const groups = groupParties(
    files.map((f) => f.count),
    parts,
  );
  if (options.reveal === 'pairs' && options.out !== undefined) {
    await writeGroupsCsv(options.out, groups.grouping, { offsets: groups.offsets, ids: files.map((f) => f.ids) });
  }
  const pairsTotal = summaries.reduce((n, s) => n + s.pairsTotal, 0);
  const pairsCompared = summaries.reduce((n, s) => n + s.pairsCompared, 0);
  const report: MultiPartyReport = {
    mode: 'multi-party',
    reveal: options.reveal,
    threshold,
    count: groups.grouping.count,
    countDefinition: PARTIES_COUNT_DEFINITION,
    inputs: files.map((f) => ({ path: f.path, records: f.count, format: f.format })),
    blocking: { pairsTotal, pairsCompared, reductionRatio: 1 - pairsCompared / Math.max(1, pairsTotal), methods: [...new Set(summaries.map((s) => s.method))] },
  };
  if (thresholdChoice !== undefined) report.thresholdChoice = thresholdChoice;
  if (options.partyPairCounts) report.partyPairCounts = partyPairCounts(groups.grouping, groups.partyOf, k);
  if (options.reveal === 'histogram') report.histogram = groupHistogram(bestScorePerNode(groups.offsets[k], groups.nodes), groups.offsets, threshold);
  if (options.reveal === 'pairs') report.out = options.out;
  return report;
}
