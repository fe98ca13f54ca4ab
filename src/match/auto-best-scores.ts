// Each record's best Dice score against the other side, at a low floor, without holding the
// candidate pairs: tiles are folded into per-record maxima as they arrive, so memory is bounded by
// one tile's candidates however many pairs clear the floor.
import { UserError } from '../errors.js';
import { forEachTile, planTiles } from './candidates.js';
import { loadSharedFilters, type FilterSet } from './shared-filters.js';
import type { Candidates } from './tile.js';

export interface BestScoreOptions {
  /** Lowest score collected; records with no pair at or above it get -1. */
  floor: number;
  /** Worker threads; 0 or 1 runs in this thread. */
  workers: number;
  /** Most candidate pairs one tile may produce before the scan stops (memory guard). */
  maxTileCandidates?: number;
}

export interface BestScores {
  floor: number;
  /** Best score of each A row and each B row, -1 when nothing reached the floor. */
  a: Float64Array;
  b: Float64Array;
  /**
   * Second-best score of each row, -1 when fewer than two pairs reached the floor. With every
   * record matched (FEBRL4) best scores alone show no non-match mode; second-best ones do.
   */
  aSecond: Float64Array;
  bSecond: Float64Array;
  /** The row on the other side giving the best score (the lowest such row on ties), -1 when none. */
  aPartner: Int32Array;
  bPartner: Int32Array;
  /** Candidate pairs at or above the floor. */
  candidates: number;
  /**
   * Candidate pairs binned by score in steps of 1/1000 from 0 (bin k holds [k/1000, (k+1)/1000),
   * the last bin holds 1), so pairs at or above any threshold can be counted afterwards.
   */
  candidateBins: Float64Array;
}

export const CANDIDATE_BINS_PER_UNIT = 1000;

// Tiles are made 8 times smaller than the matcher's so that one tile's candidates stay small even
// at a floor that most compared pairs clear (1024-bit filters: at most about 16 MiB per tile).
const TILE_SPLIT = 8;
const DEFAULT_MAX_TILE_CANDIDATES = 20_000_000;

function emptyScores(a: FilterSet, b: FilterSet, floor: number): BestScores {
  return {
    floor,
    a: new Float64Array(a.count).fill(-1),
    b: new Float64Array(b.count).fill(-1),
    aSecond: new Float64Array(a.count).fill(-1),
    bSecond: new Float64Array(b.count).fill(-1),
    aPartner: new Int32Array(a.count).fill(-1),
    bPartner: new Int32Array(b.count).fill(-1),
    candidates: 0,
    candidateBins: new Float64Array(CANDIDATE_BINS_PER_UNIT + 1),
  };
}

/** Folds one batch of candidates into the per-record maxima and the score bins. */
export function foldCandidates(into: BestScores, c: Candidates): void {
  const { a, b, aSecond, bSecond, aPartner, bPartner, candidateBins } = into;
  for (let k = 0; k < c.length; k++) {
    const score = c.score[k];
    const i = c.a[k];
    const j = c.b[k];
    // Ties go to the lower row, so the result does not depend on the order tiles finish in.
    if (score > a[i] || (score === a[i] && j < aPartner[i])) {
      if (aPartner[i] !== j) aSecond[i] = a[i];
      a[i] = score;
      aPartner[i] = j;
    } else if (score > aSecond[i]) aSecond[i] = score;
    if (score > b[j] || (score === b[j] && i < bPartner[j])) {
      if (bPartner[j] !== i) bSecond[j] = b[j];
      b[j] = score;
      bPartner[j] = i;
    } else if (score > bSecond[j]) bSecond[j] = score;
    // Dice scores are fractions with denominators below 2^17, so none lies within 1e-10 below an
    // edge: the allowance only puts scores exactly on an edge (0.7 computed as 7/10) above it.
    candidateBins[Math.min(CANDIDATE_BINS_PER_UNIT, Math.floor(score * CANDIDATE_BINS_PER_UNIT + 1e-10))]++;
  }
  into.candidates += c.length;
}

/**
 * Scores of mutual best pairs: A row i and B row j that are each other's best. Each such pair is
 * what a greedy 1:1 matching would almost always accept, so their scores are close to the scores
 * a matching at the floor releases: true matches high, leftover records paired low.
 */
export function mutualBestScores(scores: BestScores): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < scores.a.length; i++) {
    const j = scores.aPartner[i];
    if (j >= 0 && scores.bPartner[j] === i) out.push(scores.a[i]);
  }
  return Float64Array.from(out);
}

/** Candidate pairs whose score is at least `threshold`, from the bins (exact at multiples of 1/1000). */
export function candidatesAtOrAbove(scores: BestScores, threshold: number): number {
  let total = 0;
  const first = Math.ceil(threshold * CANDIDATE_BINS_PER_UNIT - 1e-9);
  for (let k = Math.max(0, first); k <= CANDIDATE_BINS_PER_UNIT; k++) total += scores.candidateBins[k];
  return total;
}

function tooMany(limit: number, floor: number): UserError {
  return new UserError(`more than ${limit} candidate pairs in one tile at floor ${floor}: raise the floor`);
}

/**
 * Best score per record on both sides, for pairs with Dice >= `floor`.
 *
 * @example const best = await bestScores(a, b, { floor: 0.5, workers: 2 }); // best.a[0]: row 0's best
 */
export async function bestScores(a: FilterSet, b: FilterSet, options: BestScoreOptions): Promise<BestScores> {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  const workers = Math.max(0, Math.floor(options.workers));
  const limit = options.maxTileCandidates ?? DEFAULT_MAX_TILE_CANDIDATES;
  const result = emptyScores(a, b, options.floor);
  const shared = loadSharedFilters(a, b, options.floor, Math.max(1, workers) + 1);
  const { tiles } = planTiles(shared, Math.max(1, workers) * TILE_SPLIT);
  await forEachTile(shared, tiles, workers, () => limit, (part) => {
    if (part === null) throw tooMany(limit, options.floor);
    foldCandidates(result, part);
  });
  return result;
}
