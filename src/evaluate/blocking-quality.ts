// Blocking quality against the truth (Christen, Data Matching, 2012, ch. 4): pairs completeness
// (the share of true links a blocking method puts together: it bounds the recall of any match run
// on those blocks), the reduction ratio, and pairs quality, for the encoded files a match reads.
import { blockedCandidates } from '../blocking/blocked-candidates.js';
import { lshPairsBlocked } from '../blocking/lsh-completeness.js';
import { lshPlanFor } from '../blocking/lsh-plan.js';
import { signatureCandidates, signaturePairsBlocked } from '../blocking/signature-join.js';
import { UserError } from '../errors.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import { checkCompatible, signatureKeys } from '../match/compatibility.js';
import type { FilterSet } from '../match/shared-filters.js';
import { readTruth, type SideA } from './read.js';

export const BLOCKING_METHODS = ['lsh', 'signature'] as const;
export type BlockingMethod = (typeof BLOCKING_METHODS)[number];

export interface BlockingQuality {
  method: BlockingMethod;
  threshold: number;
  truthLinks: number;
  /** True links whose records share a block key (signature), or that the LSH join would compare (they collide in some table and pass its pool-distance and popcount filters). */
  blockedLinks: number;
  /** blockedLinks / truthLinks; null for an empty truth. */
  pairsCompleteness: number | null;
  pairsTotal: number;
  /** Pairs whose Dice the match would compute with this method and threshold: the figure `match` reports. */
  pairsCompared: number;
  /** 1 − pairsCompared / pairsTotal. */
  reductionRatio: number;
  /** blockedLinks / pairsCompared (true links put together per comparison made); null when nothing is compared. */
  pairsQuality: number | null;
  /** The LSH plan, so the measured completeness can be set against the model's prediction. */
  plan?: { tables: number; bitsPerTable: number; predictedCompleteness: number };
}

export interface BlockingEvaluationOptions {
  truth: string;
  /** The two encoded files in match order: the first is the match's A side. */
  encoded: readonly [string, string];
  /** Which file the truth's request rows are in: the first ('requests') or the second ('registry'). */
  sideA: SideA;
  method: BlockingMethod;
  threshold: number;
  workers: number;
  warn: (message: string) => void;
}

/** The truth's links as row pairs in (A, B) order, checked against both files' record counts. */
function truthPairs(path: string, links: ReadonlySet<string>, sideA: SideA, a: EncodedFile, b: EncodedFile): { a: Int32Array; b: Int32Array; length: number } {
  const pairs = { a: new Int32Array(links.size), b: new Int32Array(links.size), length: links.size };
  let k = 0;
  for (const link of links) {
    const [request, registry] = link.split(':').map(Number);
    const [rowA, rowB] = sideA === 'requests' ? [request, registry] : [registry, request];
    for (const [row, file] of [[rowA, a], [rowB, b]] as const) {
      if (row >= file.count) {
        throw new UserError(`${path}: a true link names row ${row}, but ${file.path} holds ${file.count} records (are the files in match order, and --a right?)`);
      }
    }
    pairs.a[k] = rowA;
    pairs.b[k] = rowB;
    k++;
  }
  return pairs;
}

/**
 * Reads the truth and both encoded files and measures how well `method` blocks them at
 * `threshold`. The comparisons are counted by running the method's candidate search, so the
 * reduction ratio is the one `match` would report.
 *
 * @example const quality = await evaluateBlocking({ truth: 'truth.csv', encoded: ['requests.arrow', 'registry.arrow'], sideA: 'requests', method: 'signature', threshold: 0.8, workers: 2, warn: console.error });
 */
export async function evaluateBlocking(options: BlockingEvaluationOptions): Promise<BlockingQuality> {
  const links = await readTruth(options.truth);
  const [a, b] = await Promise.all(options.encoded.map((path) => readEncodedFile(path, { shared: true })));
  const keys = options.method === 'signature' ? signatureKeys(a, b) : null;
  for (const warning of checkCompatible(a, b)) options.warn(warning);
  const pairs = truthPairs(options.truth, links, options.sideA, a, b);
  const set = (f: EncodedFile): FilterSet => ({ filterBits: f.filterBits, count: f.count, clks: f.clks });
  const threshold = options.threshold;
  let blocked: Uint8Array;
  let pairsCompared: number;
  let plan: BlockingQuality['plan'];
  if (keys !== null) {
    blocked = signaturePairsBlocked(keys.keysA, keys.keysB, pairs);
    pairsCompared = signatureCandidates({ ...set(a), popcounts: a.popcounts }, { ...set(b), popcounts: b.popcounts }, keys.keysA, keys.keysB, { threshold }).pairsCompared;
  } else {
    // One plan for both: the completeness check and the search must use the same tables.
    const lshPlan = lshPlanFor(set(a), set(b), { threshold });
    blocked = lshPairsBlocked(set(a), set(b), pairs, lshPlan, threshold);
    const search = await blockedCandidates(set(a), set(b), { threshold, workers: options.workers, plan: lshPlan });
    pairsCompared = search.pairsCompared;
    plan = { tables: search.plan.tables, bitsPerTable: search.plan.bitsPerTable, predictedCompleteness: search.plan.predictedCompleteness };
  }
  let blockedLinks = 0;
  for (let k = 0; k < blocked.length; k++) blockedLinks += blocked[k];
  const pairsTotal = a.count * b.count;
  const quality: BlockingQuality = {
    method: options.method,
    threshold,
    truthLinks: links.size,
    blockedLinks,
    pairsCompleteness: links.size === 0 ? null : blockedLinks / links.size,
    pairsTotal,
    pairsCompared,
    reductionRatio: pairsTotal === 0 ? 1 : 1 - pairsCompared / pairsTotal,
    pairsQuality: pairsCompared === 0 ? null : blockedLinks / pairsCompared,
  };
  if (plan !== undefined) quality.plan = plan;
  return quality;
}
