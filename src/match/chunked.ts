// Bounded-memory matching: when one pass over both files would not fit the memory budget, the
// smaller side is read whole and the larger side a chunk at a time; each chunk gets its own index
// (LSH tables, or all-pairs tiles) and its candidates join one merged set, on which the greedy 1:1
// runs once. The candidate set is exactly the single pass's: all-pairs and LSH decide each pair
// on its own (Dice at the threshold; for LSH a key collision under the same tables, pool bound and
// first-table rule), and the LSH plan is made once from samples of the whole files.
import { open } from 'node:fs/promises';
import { blockedCandidates, chooseBlocking } from '../blocking/blocked-candidates.js';
import { lshPlanFor, planSample, PlanSampler, type LshPlan } from '../blocking/lsh-plan.js';
import { UserError } from '../errors.js';
import { readEncodedChunks, readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import type { BlockingSummary, MatchReport } from '../reveal/release.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { CandidateSink } from './candidate-sink.js';
import { DEFAULT_MAX_CANDIDATES, findCandidates } from './candidates.js';
import { checkCompatible } from './compatibility.js';
import { finishMatch } from './finish-match.js';
import type { MatchOptions } from './match-files.js';
import { chunkRecordsFor, defaultMemoryBudget } from './memory-budget.js';
import type { FilterSet } from './shared-filters.js';
import type { Candidates } from './tile.js';

/** How one shard (part of A × part of B) is searched: the same for every shard of a match. */
export interface ShardSearch {
  method: 'none' | 'lsh';
  threshold: number;
  /** The LSH plan made once for the whole inputs (null for all pairs). */
  plan: LshPlan | null;
  maxCandidates: number;
}

export interface ShardResult {
  /** Pairs in the shard's own row numbers. */
  candidates: Candidates;
  pairsTotal: number;
  pairsCompared: number;
}

/**
 * Candidates of one shard on `workers` threads. Throws the usual UserError past
 * `search.maxCandidates`.
 */
export async function searchShard(a: FilterSet, b: FilterSet, search: ShardSearch, workers: number, onProgress?: (done: number, total: number) => void): Promise<ShardResult> {
  if (search.method === 'lsh') {
    if (search.plan === null) throw new RangeError('an LSH shard needs the match-wide plan');
    const found = await blockedCandidates(a, b, { threshold: search.threshold, workers, plan: search.plan, maxCandidates: search.maxCandidates, onProgress });
    return { candidates: found, pairsTotal: found.pairsTotal, pairsCompared: found.pairsCompared };
  }
  const found = await findCandidates(a, b, { threshold: search.threshold, workers, maxCandidates: search.maxCandidates, onProgress });
  return { candidates: found, pairsTotal: found.pairsTotal, pairsCompared: found.pairsScanned };
}

/** Adds a shard's candidates to `sink`, moved from shard rows to whole-file rows. */
export function mergeShard(sink: CandidateSink, part: Candidates, offsetA: number, offsetB: number): void {
  const start = sink.length;
  sink.append(part);
  for (let i = start; i < sink.length; i++) {
    sink.a[i] += offsetA;
    sink.b[i] += offsetB;
  }
}

/** What a file says about itself before its records are read; null when only reading it whole tells (clkhash JSON, Arrow without metadata). */
export interface EncodedPeek {
  path: string;
  count: number;
  filterBits: number;
  hasIds: boolean;
}

/** Reads the first record batch only: the record count is in the footer's metadata. */
export async function peekEncodedFile(path: string): Promise<EncodedPeek | null> {
  let first = '';
  try {
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(64);
      const { bytesRead } = await handle.read(head, 0, 64, 0);
      first = head.subarray(0, bytesRead).toString('latin1').trimStart()[0] ?? '';
    } finally {
      await handle.close();
    }
  } catch {
    return null; // the full read reports the problem with its usual message
  }
  if (first === '{') return null;
  for await (const chunk of readEncodedChunks(path, 1)) {
    if (chunk.metadata === null) return null;
    return { path, count: chunk.metadata.recordCount, filterBits: chunk.filterBits, hasIds: chunk.ids !== null };
  }
  return null;
}

/** The plan for a chunked match: which side is cut, into chunks of how many records. */
export interface ChunkLayout {
  method: 'none' | 'lsh';
  /** The side read a chunk at a time: the larger one. */
  large: 'a' | 'b';
  chunkRecords: number;
  /** Records of the larger side, as its metadata says (checked when its last chunk is read). */
  largeCount: number;
  budget: number;
}

/**
 * Null when the match runs as one pass over both files (they fit the budget, or the search or a
 * file format needs them whole); else how to cut the larger side.
 */
export async function chunkLayout(options: MatchOptions): Promise<ChunkLayout | null> {
  if (options.blocking === 'signature') return null;
  const [a, b] = await Promise.all([peekEncodedFile(options.a), peekEncodedFile(options.b)]);
  if (a === null || b === null || a.filterBits !== b.filterBits) return null;
  const method = (options.blocking ?? 'auto') === 'auto' ? chooseBlocking(a.count, b.count) : (options.blocking as 'none' | 'lsh');
  const large = b.count >= a.count ? 'b' : 'a';
  const small = large === 'b' ? a : b;
  const budget = options.memoryBudget ?? defaultMemoryBudget();
  const inputs = { filterBits: a.filterBits, smallCount: small.count, largeCount: Math.max(a.count, b.count), smallHasIds: small.hasIds, method, workers: options.workers };
  const chunkRecords = options.chunkRecords ?? chunkRecordsFor(inputs, budget, '--memory-budget');
  if (chunkRecords >= inputs.largeCount) return null;
  if (options.threshold === 'auto' || options.reveal === 'estimate') {
    const what = options.threshold === 'auto' ? '--threshold auto' : '--reveal estimate';
    throw new UserError(`${what} reads both files whole, and they do not fit the memory budget (${options.memoryBudget === undefined ? 'default, half of this machine' : '--memory-budget'}): ${options.threshold === 'auto' ? 'give a threshold, or' : 'give'} a larger --memory-budget`);
  }
  return { method, large, chunkRecords: Math.max(1, Math.floor(chunkRecords)), largeCount: inputs.largeCount, budget };
}

/** The LSH plan sample of a side read in chunks: one streaming pass over the file. */
async function sampleInChunks(path: string, filterBits: number, count: number, chunkRecords: number): Promise<ReturnType<PlanSampler['sample']>> {
  const sampler = new PlanSampler(filterBits, count);
  for await (const chunk of readEncodedChunks(path, chunkRecords, { reuseBuffers: true })) sampler.add(chunk, chunk.start);
  return sampler.sample();
}

/** Runs a match whose larger side is read in chunks; the report is the single pass's. */
export async function matchInChunks(options: MatchOptions, layout: ChunkLayout): Promise<MatchReport> {
  const threshold = options.threshold as number;
  const smallPath = layout.large === 'b' ? options.a : options.b;
  const largePath = layout.large === 'b' ? options.b : options.a;
  const small = await readEncodedFile(smallPath, { shared: true });
  if (small.filterBits > MAX_FILTER_BITS) throw new UserError(`${small.path}: ${small.filterBits}-bit filters are longer than the ${MAX_FILTER_BITS} bits the matcher supports`);
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  let plan: LshPlan | null = null;
  if (layout.method === 'lsh') {
    options.progress?.('sampling the larger file for the LSH plan');
    const largeSample = await sampleInChunks(largePath, small.filterBits, layout.largeCount, layout.chunkRecords);
    const smallSample = planSample(small);
    plan = layout.large === 'b' ? lshPlanFor(smallSample, largeSample, { threshold }) : lshPlanFor(largeSample, smallSample, { threshold });
  }
  const search: ShardSearch = { method: layout.method, threshold, plan, maxCandidates };
  const sink = new CandidateSink();
  const chunks = Math.ceil(layout.largeCount / layout.chunkRecords);
  let pairsTotal = 0;
  let pairsCompared = 0;
  let largeHasIds = false;
  let largeCount = 0;
  // Each chunk is searched before the next is read, so one set of buffers serves them all.
  for await (const chunk of readEncodedChunks(largePath, layout.chunkRecords, { shared: true, reuseBuffers: true })) {
    if (chunk.start === 0) {
      largeHasIds = chunk.ids !== null;
      const [a, b] = layout.large === 'b' ? [small, chunk] : [chunk, small];
      for (const warning of checkCompatible(a, b)) options.warn(warning);
    }
    const index = Math.floor(chunk.start / layout.chunkRecords);
    const progress = (done: number, total: number): void =>
      options.progress?.(`comparing: chunk ${index + 1} of ${chunks}, ${Math.floor((100 * done) / Math.max(1, total))}%`);
    const shard = { ...search, maxCandidates: maxCandidates - sink.length };
    const found = layout.large === 'b' ? await searchShard(small, chunk, shard, options.workers, progress) : await searchShard(chunk, small, shard, options.workers, progress);
    if (sink.length + found.candidates.length > maxCandidates) throw new UserError(`more than ${maxCandidates} candidate pairs at threshold ${threshold}: stopped before memory runs out; raise --threshold or --max-candidates`);
    mergeShard(sink, found.candidates, layout.large === 'a' ? chunk.start : 0, layout.large === 'b' ? chunk.start : 0);
    pairsTotal += found.pairsTotal;
    pairsCompared += found.pairsCompared;
    largeCount = chunk.start + chunk.count;
  }
  const blocking: BlockingSummary = {
    method: layout.method,
    pairsTotal,
    pairsCompared,
    reductionRatio: pairsTotal === 0 ? 1 : 1 - pairsCompared / pairsTotal,
    chunks: { count: chunks, records: layout.chunkRecords, memoryBudget: layout.budget },
  };
  if (plan !== null) blocking.lsh = { bitsPerTable: plan.bitsPerTable, tables: plan.tables, predictedCompleteness: plan.predictedCompleteness };
  const largeIds = options.reveal === 'pairs' && largeHasIds ? await idsOf(largePath, layout.chunkRecords) : null;
  const large: Pick<EncodedFile, 'path' | 'count' | 'format' | 'ids'> = { path: largePath, count: largeCount, format: 'arrow', ids: largeIds };
  const inputs = layout.large === 'b' ? { a: small, b: large } : { a: large, b: small };
  return finishMatch(options, inputs, threshold, sink.view(), blocking);
}

/** The larger side's ids, for pairs mode only: read once more, after the search, so the search never holds them. */
export async function idsOf(path: string, chunkRecords: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const chunk of readEncodedChunks(path, chunkRecords, { reuseBuffers: true })) for (const id of chunk.ids ?? []) ids.push(id);
  return ids;
}
