// Candidate pairs between two encoded files, or within one, by the blocking method chosen: the
// one place `match` (two files or more) and `dedup` turn a method into candidates and the
// blocking summary the report carries.
import { blockedCandidates, blockedSelfCandidates, type BlockedCandidates } from '../blocking/blocked-candidates.js';
import { signatureCandidates } from '../blocking/signature-join.js';
import type { EncodedFile } from '../io/encoded-file.js';
import type { BlockingSummary } from '../reveal/release.js';
import { findCandidates, findSelfCandidates, type CandidateOptions } from './candidates.js';
import type { FilterSet } from './shared-filters.js';
import type { Candidates } from './tile.js';

export type CandidateMethod = 'none' | 'lsh' | 'signature';

export interface FoundCandidates {
  candidates: Candidates;
  blocking: BlockingSummary;
}

/** The filters of an encoded file, as the candidate searches read them. */
export function filterSet(f: EncodedFile): FilterSet {
  return { filterBits: f.filterBits, count: f.count, clks: f.clks };
}

function lshSummary(blocked: BlockedCandidates): BlockingSummary {
  const { bitsPerTable, tables, predictedCompleteness } = blocked.plan;
  return {
    method: 'lsh',
    pairsTotal: blocked.pairsTotal,
    pairsCompared: blocked.pairsCompared,
    reductionRatio: blocked.reductionRatio,
    lsh: { bitsPerTable, tables, predictedCompleteness },
  };
}

/** The blocking summary of an all-pairs search. */
export function allPairsSummary(found: { pairsTotal: number; pairsScanned: number }): BlockingSummary {
  return { method: 'none', pairsTotal: found.pairsTotal, pairsCompared: found.pairsScanned, reductionRatio: 1 - found.pairsScanned / Math.max(1, found.pairsTotal) };
}

/**
 * Candidates between a and b. `keys` are both files' block keys (checked by signatureKeys),
 * required for and only used by the signature method.
 *
 * @example const { candidates, blocking } = await pairCandidates(a, b, 'none', null, { threshold: 0.8, workers: 2 });
 */
export async function pairCandidates(
  a: EncodedFile,
  b: EncodedFile,
  method: CandidateMethod,
  keys: { keysA: Uint8Array; keysB: Uint8Array } | null,
  search: CandidateOptions,
): Promise<FoundCandidates> {
  if (method === 'lsh') {
    const blocked = await blockedCandidates(filterSet(a), filterSet(b), search);
    return { candidates: blocked, blocking: lshSummary(blocked) };
  }
  if (method === 'signature') {
    if (keys === null) throw new RangeError('signature blocking needs both files\' block keys');
    // The popcounts come along: the reader computed and checked them, and they save a pass over the filters.
    const withPopcounts = (f: EncodedFile) => ({ ...filterSet(f), popcounts: f.popcounts });
    const blocked = signatureCandidates(withPopcounts(a), withPopcounts(b), keys.keysA, keys.keysB, { threshold: search.threshold, maxCandidates: search.maxCandidates });
    return { candidates: blocked, blocking: { method: 'signature', pairsTotal: blocked.pairsTotal, pairsCompared: blocked.pairsCompared, reductionRatio: blocked.reductionRatio } };
  }
  const found = await findCandidates(filterSet(a), filterSet(b), search);
  return { candidates: found, blocking: allPairsSummary(found) };
}

/**
 * Candidates within one set for deduplication: pairs (i, j), i < j, never (i, i), each once, by
 * a self-join of the all-pairs tiles or of the LSH tables.
 *
 * @example const { candidates } = await selfCandidates(set, 'none', { threshold: 0.8, workers: 2 });
 */
export async function selfCandidates(set: FilterSet, method: Exclude<CandidateMethod, 'signature'>, search: CandidateOptions): Promise<FoundCandidates> {
  if (method === 'lsh') {
    const blocked = await blockedSelfCandidates(set, search);
    return { candidates: blocked, blocking: lshSummary(blocked) };
  }
  const found = await findSelfCandidates(set, search);
  return { candidates: found, blocking: allPairsSummary(found) };
}
