// The linkage unit's whole job as one function: read two encoded files, refuse mismatches, find
// candidates on worker threads, solve 1:1 greedily and build the report for the reveal mode.
import { UserError } from '../errors.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { assertWritable } from '../io/atomic-file.js';
import type { BlockingSummary, MatchReport, RevealMode, ThresholdChoiceSummary } from '../reveal/release.js';
import { chooseBlocking } from '../blocking/blocked-candidates.js';
import { foundProbability } from '../blocking/lsh-plan.js';
import { allPairsSummary, filterSet, pairCandidates } from './pair-candidates.js';
import type { Candidates } from './tile.js';
import { assertAutoThresholdFeasible, autoFromCandidates, candidatesAtOrAbove, chooseThreshold, estimateFloor, type ThresholdChoice } from './auto-threshold.js';
import { autoWithLsh } from './auto-lsh.js';
import { checkCompatible, signatureKeys } from './compatibility.js';
import { chunkLayout, matchInChunks } from './chunked.js';
import { finishMatch } from './finish-match.js';

export const BLOCKING_CHOICES = ['auto', 'lsh', 'signature', 'none'] as const;
export type BlockingChoice = (typeof BLOCKING_CHOICES)[number];

export interface MatchOptions {
  a: string;
  b: string;
  /** A Dice threshold in (0, 1], or 'auto' to choose one from the score distribution alone. */
  threshold: number | 'auto';
  reveal: RevealMode;
  epsilon: number | null;
  /** Pairs CSV path; pairs mode only. */
  out?: string;
  workers: number;
  /**
   * Candidate generation: all pairs, Hamming LSH on the encodings, keyed signature blocks carried
   * in both files, or auto (all pairs or LSH by input size; never signature, which must be asked for).
   */
  blocking?: BlockingChoice;
  maxCandidates?: number;
  /**
   * Bytes the match may take (default: defaultMemoryBudget()). When one pass over both files
   * does not fit, the larger side is read and searched in chunks (match/chunked.ts) with the same
   * result. `chunkRecords` sets the chunk size directly instead.
   */
  memoryBudget?: number;
  chunkRecords?: number;
  warn: (message: string) => void;
  progress?: (message: string) => void;
}

/** Runs a match; the caller has validated the options' ranges. */
export async function matchFiles(options: MatchOptions): Promise<MatchReport> {
  if (options.out !== undefined) await assertWritable(options.out);
  const layout = await chunkLayout(options);
  if (layout !== null) return matchInChunks(options, layout);
  // Shared buffers cost nothing more to allocate, and LSH blocking then reads the filters in place
  // instead of copying gigabytes into shared memory for its workers.
  const [a, b]: EncodedFile[] = await Promise.all([readEncodedFile(options.a, { shared: true }), readEncodedFile(options.b, { shared: true })]);
  const method = (options.blocking ?? 'auto') === 'auto' ? chooseBlocking(a.count, b.count) : (options.blocking as Exclude<BlockingChoice, 'auto'>);
  // Before the fingerprint check: a file without keys also has a different schema, and "no block
  // keys" is the message the user can act on.
  const keys = method === 'signature' ? signatureKeys(a, b) : null;
  for (const warning of checkCompatible(a, b)) options.warn(warning);
  if (a.filterBits > MAX_FILTER_BITS) throw new UserError(`${a.path}: ${a.filterBits}-bit filters are longer than the ${MAX_FILTER_BITS} bits the matcher supports`);
  const progress = (done: number, total: number): void => options.progress?.(`comparing: ${Math.floor((100 * done) / Math.max(1, total))}%`);
  if (options.threshold === 'auto' || options.reveal === 'estimate') return matchWithModel(options, a, b, method, keys, progress);
  const search = { threshold: options.threshold, workers: options.workers, maxCandidates: options.maxCandidates, onProgress: progress };
  if (method === 'signature') options.progress?.('comparing pairs that share a block');
  const { candidates, blocking } = await pairCandidates(a, b, method, keys, search);
  return finishMatch(options, { a, b }, options.threshold, candidates, blocking);
}

/** What the score model needs from the threshold choice for the report. */
function choiceSummary(choice: ThresholdChoice): ThresholdChoiceSummary {
  const { method, reason, floor, expected, candidatesAtFloor, candidatesAtThreshold } = choice;
  return { method, reason, floor, expected, candidatesAtFloor, candidatesAtThreshold };
}

/**
 * `--threshold auto` or `--reveal estimate`: candidates at a low floor, the score model, then the
 * matching of the candidates at or above the threshold (chosen, or given) without a second scan.
 */
async function matchWithModel(
  options: MatchOptions,
  a: EncodedFile,
  b: EncodedFile,
  method: Exclude<BlockingChoice, 'auto'>,
  keys: { keysA: Uint8Array; keysB: Uint8Array } | null,
  onProgress: (done: number, total: number) => void,
): Promise<MatchReport> {
  options.progress?.('scoring candidate pairs at a low floor for the score model');
  let choice: ThresholdChoice;
  let candidates: Candidates;
  let blocking: BlockingSummary;
  if (method === 'lsh') {
    const found = await autoWithLsh(filterSet(a), filterSet(b), { workers: options.workers, maxCandidates: options.maxCandidates, onProgress, progress: options.progress });
    choice = found.choice;
    candidates = found.candidates;
    const threshold = options.threshold === 'auto' ? choice.threshold : options.threshold;
    const { bitsPerTable, tables } = found.plan;
    blocking = {
      method: 'lsh',
      pairsTotal: found.candidates.pairsTotal,
      pairsCompared: found.candidates.pairsCompared,
      reductionRatio: found.candidates.reductionRatio,
      lsh: { bitsPerTable, tables, predictedCompleteness: foundProbability(found.plan, threshold) },
    };
  } else if (method === 'signature') {
    const floor = await estimateFloor(filterSet(a), filterSet(b), options.workers);
    const found = await pairCandidates(a, b, 'signature', keys, { threshold: floor, workers: options.workers, maxCandidates: options.maxCandidates });
    choice = autoFromCandidates(found.candidates, a.count, b.count, floor).choice;
    candidates = found.candidates;
    blocking = found.blocking;
  } else {
    assertAutoThresholdFeasible(a.count, b.count);
    const found = await chooseThreshold(filterSet(a), filterSet(b), { workers: options.workers, maxCandidates: options.maxCandidates });
    choice = found.choice;
    candidates = found.candidates;
    blocking = allPairsSummary(found.candidates);
  }
  const threshold = options.threshold === 'auto' ? choice.threshold : options.threshold;
  if (threshold < choice.floor) throw new UserError(`--reveal estimate scores pairs from ${choice.floor} up; --threshold ${threshold} is below that: give a threshold of at least ${choice.floor}, or auto`);
  const kept = candidatesAtOrAbove(candidates, threshold);
  return finishMatch(options, { a, b }, threshold, kept, blocking, options.threshold === 'auto' ? choiceSummary(choice) : undefined, choice.estimate);
}
