// Candidate pairs through Hamming LSH blocking instead of all pairs: the plan (lsh-plan.ts), pool
// extraction and one join per table on piscina workers sharing the filters, and results streamed
// into one set of typed columns in the shape findCandidates returns, so greedySolve runs unchanged.
import { UserError } from '../errors.js';
import { withPool } from '../pool.js';
import { DEFAULT_MAX_CANDIDATES } from '../match/candidates.js';
import type { FilterSet } from '../match/shared-filters.js';
import type { Candidates } from '../match/tile.js';
import { thresholdTable } from '../similarity/threshold-table.js';
import { workerFile } from '../worker-path.js';
import { CandidateSink } from '../match/candidate-sink.js';
import { evenAndOddRows } from '../match/split-rows.js';
import { DEFAULT_TARGET_COMPLETENESS, lshPlanFor, planLsh, type LshPlan } from './lsh-plan.js';
import { CHUNK_ROWS, extractPools, TableJoin, unpackTableResult, type LshShared, type LshTask, type TableResult } from './lsh-scan.js';

export interface BlockingOptions {
  threshold: number;
  /** Worker threads; 0 or 1 runs in this thread. */
  workers: number;
  /** Pair completeness wanted for pairs exactly at the threshold; default 0.99. */
  targetCompleteness?: number;
  /** Seeds the choice of sampled bits; the same seed and inputs give the same pairs. Default 1. */
  seed?: number;
  maxCandidates?: number;
  /** A plan made by lshPlanFor for these inputs, when the caller needs it too (evaluate); else made here. */
  plan?: LshPlan;
  /** Stream rows keyed per pass of the join; default CHUNK_ROWS. Only tests and tuning set it. */
  streamChunkRows?: number;
  /** Each table's new candidates, as they arrive (views valid during the call only). */
  onCandidates?: (part: Candidates) => void;
  /** Called with (tables done, tables). */
  onProgress?: (done: number, total: number) => void;
}

export interface BlockedCandidates extends Candidates {
  pairsTotal: number;
  /** Pairs whose exact Dice was computed: each at most once. */
  pairsCompared: number;
  /** Key collisions over all tables, including pairs seen in an earlier table. */
  collisions: number;
  /** 1 − pairsCompared / pairsTotal. */
  reductionRatio: number;
  plan: Omit<LshPlan, 'masks' | 'poolBits'>;
}

/** `auto` compares all pairs up to this many (about 10 s on two cores for balanced 2048-bit filters); blocks above. */
export const AUTO_ALL_PAIRS_LIMIT = 2e9;

/** What `--blocking auto` picks for inputs of these sizes. */
export function chooseBlocking(countA: number, countB: number): 'none' | 'lsh' {
  return countA * countB <= AUTO_ALL_PAIRS_LIMIT ? 'none' : 'lsh';
}

function sharedBytes(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(4, Math.ceil(bytes / 4) * 4));
}

/**
 * The filters as 32-bit words in shared memory: a view of the caller's buffer when it already is a
 * suitably aligned SharedArrayBuffer (readEncodedFile with shared: true gives one), otherwise one padded copy.
 */
export function sharedWords(set: FilterSet): Int32Array {
  const width = set.filterBits / 8;
  const words = Math.ceil(set.filterBits / 32);
  const { clks } = set;
  if (clks.length < set.count * width) throw new RangeError(`filters hold ${clks.length} bytes, ${set.count} filters need ${set.count * width}`);
  if (clks.buffer instanceof SharedArrayBuffer && clks.byteOffset % 4 === 0 && width === words * 4) {
    return new Int32Array(clks.buffer, clks.byteOffset, set.count * words);
  }
  const copy = new Uint8Array(sharedBytes(set.count * words * 4));
  for (let row = 0; row < set.count; row++) copy.set(clks.subarray(row * width, row * width + width), row * words * 4);
  return new Int32Array(copy.buffer, 0, set.count * words);
}

function limitError(maxCandidates: number, threshold: number): UserError {
  return new UserError(
    `more than ${maxCandidates} candidate pairs at threshold ${threshold}: stopped before memory runs out; ` +
      'raise --threshold or --max-candidates',
  );
}

// Rows per pool-extraction task: about 50 ms of work.
const POOL_TASK_ROWS = 1 << 16;

/**
 * Candidate pairs (Dice >= threshold, exact anonlink scores) found by Hamming LSH blocking; each
 * pair once. Order is unspecified (greedySolve orders them).
 *
 * @example const found = await blockedCandidates(a, b, { threshold: 0.85, workers: 2 });
 */
export async function blockedCandidates(a: FilterSet, b: FilterSet, options: BlockingOptions): Promise<BlockedCandidates> {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  const plan = options.plan ?? lshPlanFor(a, b, { threshold: options.threshold, targetCompleteness: options.targetCompleteness, seed: options.seed ?? 1 });
  return joinTables(a, b, plan, options, a.count * b.count);
}

/**
 * Deduplication's candidates by Hamming LSH: pairs (i, j), i < j, of one set with Dice >=
 * threshold, each once. The plan's chance-collision estimate samples pairs across the even and
 * odd rows, so it never counts a record colliding with itself.
 *
 * @example const found = await blockedSelfCandidates(file, { threshold: 0.85, workers: 2 });
 */
export async function blockedSelfCandidates(a: FilterSet, options: BlockingOptions): Promise<BlockedCandidates> {
  const [even, odd] = evenAndOddRows(a);
  const plan =
    options.plan ??
    planLsh(even, odd, {
      threshold: options.threshold,
      targetCompleteness: options.targetCompleteness ?? DEFAULT_TARGET_COMPLETENESS,
      seed: options.seed ?? 1,
      indexedCount: a.count,
    });
  return joinTables(a, null, plan, options, (a.count * (a.count - 1)) / 2);
}

/** The pool and table joins of `plan` between a and b, or of a with itself when b is null. */
async function joinTables(a: FilterSet, b: FilterSet | null, plan: LshPlan, options: BlockingOptions, pairsTotal: number): Promise<BlockedCandidates> {
  const self = b === null;
  const swapped = b !== null && b.count < a.count;
  const index = swapped ? (b as FilterSet) : a;
  const stream = swapped ? a : (b ?? a);
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  const words = (count: number): Int32Array => new Int32Array(sharedBytes(count * 4), 0, count);
  const halves = (count: number): Uint16Array => new Uint16Array(sharedBytes(count * 2), 0, count);
  const indexClks = sharedWords(index);
  const indexPool = words(index.count * plan.poolWords);
  const indexPopcounts = halves(index.count);
  const shared: LshShared = {
    clkWords: Math.ceil(a.filterBits / 32),
    poolWords: plan.poolWords,
    indexClks,
    streamClks: self ? indexClks : sharedWords(stream),
    indexPool,
    streamPool: self ? indexPool : words(stream.count * plan.poolWords),
    indexPopcounts,
    streamPopcounts: self ? indexPopcounts : halves(stream.count),
    poolBits: plan.poolBits,
    masks: plan.masks,
    poolDistanceLimit: plan.poolDistanceLimit,
    thresholdTable: thresholdTable(a.filterBits, options.threshold),
    chunkRows: Math.max(1, Math.floor(options.streamChunkRows ?? CHUNK_ROWS)),
    swapped,
    self,
    indexCount: index.count,
    streamCount: stream.count,
  };

  const workers = Math.max(0, Math.floor(options.workers));
  const poolTasks: LshTask[] = [];
  // A self-join's stream pools are its index pools: extract them once.
  const sides = self ? ([['index', index.count]] as const) : ([['index', index.count], ['stream', stream.count]] as const);
  for (const [side, count] of sides) {
    for (let start = 0; start < count; start += POOL_TASK_ROWS) poolTasks.push({ kind: 'pool', side, start, end: Math.min(count, start + POOL_TASK_ROWS) });
  }
  // With fewer tables than threads, cut the stream side so every thread has work.
  const chunks = Math.max(1, Math.ceil((2 * Math.max(1, workers)) / plan.tables));
  const chunkRows = Math.ceil(stream.count / chunks);
  const tableTasks: LshTask[] = [];
  for (let table = 0; table < plan.tables; table++) {
    for (let start = 0; start < stream.count; start += chunkRows) {
      tableTasks.push({ kind: 'table', table, start, end: Math.min(stream.count, start + chunkRows), maxCandidates });
    }
  }

  const sink = new CandidateSink();
  let collisions = 0;
  let compared = 0;
  let done = 0;
  const accept = (result: TableResult): void => {
    collisions += result.collisions;
    compared += result.compared;
    if (result.candidates === null || sink.length + result.candidates.length > maxCandidates) throw limitError(maxCandidates, options.threshold);
    sink.append(result.candidates);
    options.onCandidates?.(result.candidates);
    options.onProgress?.(++done, tableTasks.length);
  };

  if (workers <= 1) {
    for (const task of poolTasks) if (task.kind === 'pool') extractPools(shared, task.side, task.start, task.end);
    const join = new TableJoin(shared);
    for (const task of tableTasks) if (task.kind === 'table') accept(join.run(task.table, task.start, task.end, maxCandidates - sink.length));
  } else {
    // On the first error (the candidate limit) withPool's destroy also cancels the queued tables.
    await withPool<LshTask, ArrayBuffer | null, void>(workerFile('blocking-lsh-worker'), { threads: workers, workerData: shared }, async (pool) => {
      await Promise.all(poolTasks.map((task) => pool.run(task)));
      await Promise.all(
        tableTasks.map(async (task) => {
          const packed = (await pool.run(task)) as ArrayBuffer;
          accept(unpackTableResult(packed));
        }),
      );
    });
  }
  const { masks: _masks, poolBits: _poolBits, ...summary } = plan;
  return {
    ...sink.view(),
    pairsTotal,
    pairsCompared: compared,
    collisions,
    reductionRatio: pairsTotal === 0 ? 1 : 1 - compared / pairsTotal,
    plan: summary,
  };
}
