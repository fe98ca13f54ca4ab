// The linkage unit's whole job as one function: read two encoded files, refuse mismatches, find
// candidates on worker threads, solve 1:1 greedily and build the report for the reveal mode.
import { UserError } from '../errors.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { assertWritable } from '../io/atomic-file.js';
import { writePairsCsv } from '../reveal/pairs-csv.js';
import { release, type MatchReport, type RevealMode } from '../reveal/release.js';
import { greedySolve } from '../solve/greedy.js';
import { chooseBlocking } from '../blocking/blocked-candidates.js';
import { filterSet, pairCandidates } from './pair-candidates.js';
import { assertAutoThresholdFeasible, chooseThreshold } from './auto-threshold.js';
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
  let threshold: number;
  let thresholdChoice: { method: string; reason: string } | undefined;
  if (options.threshold === 'auto') {
    assertAutoThresholdFeasible(a.count, b.count);
    options.progress?.('choosing a threshold from the score distribution');
    const choice = await chooseThreshold(filterSet(a), filterSet(b), { workers: options.workers });
    threshold = choice.threshold;
    thresholdChoice = { method: choice.method, reason: choice.reason };
  } else {
    threshold = options.threshold;
  }
  const progress = (done: number, total: number): void => options.progress?.(`comparing: ${Math.floor((100 * done) / Math.max(1, total))}%`);
  const search = { threshold, workers: options.workers, maxCandidates: options.maxCandidates, onProgress: progress };
  if (method === 'signature') options.progress?.('comparing pairs that share a block');
  const { candidates, blocking } = await pairCandidates(a, b, method, keys, search);
  return finishMatch(options, { a, b }, threshold, candidates, blocking, thresholdChoice);
}
