// Hamming LSH (bit sampling) parameters for CLKs, after Karapiperis & Verykios (HLSH, 2015-16):
// a pool of informative bit positions, K bits per table and L tables chosen from the threshold,
// a target pair completeness and bit frequencies the linkage unit measures on the encodings.
import { popcount32 } from '../bits.js';
import { UserError } from '../errors.js';
import { Random } from '../synth/random.js';
import type { FilterSet } from '../match/shared-filters.js';

export interface LshPlan {
  filterBits: number;
  /** Filter bit positions sampled into each record's pool, pool bit k = poolBits[k]. */
  poolBits: Int32Array;
  /** Stored pool length in 32-bit words: always POOL_WORDS (bits past poolBits stay zero). */
  poolWords: number;
  /** K: sampled bits per table. */
  bitsPerTable: number;
  /** L: number of tables. */
  tables: number;
  /** L × poolWords masks over the pool: table t's key is the pool ANDed with its row. */
  masks: Int32Array;
  seed: number;
  /** Model figures: per-bit agreement of a pair at the threshold (α) and of a random pair (ρ). */
  agreeAtThreshold: number;
  agreeRandom: number;
  /** 1 − (1 − α^K)^L: completeness the model predicts for pairs exactly at the threshold. */
  predictedCompleteness: number;
  /**
   * Pool bits a pair at the threshold differs in, plus POOL_DISTANCE_SIGMAS standard deviations:
   * colliding pairs further apart are dropped before the filters are read. A random pair differs
   * in about half the pool, so this rejects chance collisions at the cost of one cache line each.
   */
  poolDistanceLimit: number;
  /** Expected chance collisions of one probe per table: indexed count × the chance that a sampled pair agrees on K pool bits. */
  predictedCollisionsPerProbe: number;
  /** Median popcounts of the two sides summed, and the pool's variability: the per-bit agreement model at any score (agreementAt). */
  popcountSum: number;
  variability: number;
}

export interface LshPlanOptions {
  threshold: number;
  /** Completeness wanted for pairs scoring exactly the threshold (higher-scoring pairs do better). */
  targetCompleteness: number;
  seed: number;
  /** Size of the indexed (smaller) side; sets how many chance collisions a key length costs. */
  indexedCount: number;
  maxTables?: number;
}

/**
 * Stored pool words per record: 256 bits, one 32-byte record per filter, so a pass over 10 million
 * records reads 320 MB. Fixed, so the join's key is one unrolled expression (lsh-scan.ts).
 */
export const POOL_WORDS = 8;
export const DEFAULT_MAX_TABLES = 1024;
/**
 * Cost of one chance collision (pool check, usually two cache misses) relative to one probe (key,
 * partitioned bucket lookup): about 3 in /tmp runs of bench/scale.ts's join on 1.28M x 2M rows.
 */
export const VERIFY_COST_RATIO = 3;
/** A pair at the threshold lies beyond this many deviations on the pool with probability about 3e-5. */
export const POOL_DISTANCE_SIGMAS = 4;
// Rows read per side to estimate frequencies: 32k rows put each within ±0.3% (one sd) of the truth.
const SAMPLE_ROWS = 32_768;
// Sampled rows per side for the chance-collision estimate: 1500² pairs, about 0.1 s.
const PAIR_SAMPLE_ROWS = 1500;

export interface BitStatistics {
  /** Fraction of sampled rows with each bit set. */
  frequency: Float64Array;
  medianPopcount: number;
}

/**
 * The rows of one side the planner reads, gathered: every `statsStride`-th row for bit statistics
 * and up to PAIR_SAMPLE_ROWS rows at `pairStride` for the chance-collision estimate. The strides
 * depend on the row count only, so a side read in chunks yields the same sample, and the same
 * plan, as the side held whole (the bounded-memory matcher relies on that).
 */
export interface PlanSample {
  filterBits: number;
  count: number;
  stats: FilterSet;
  pairs: FilterSet;
}

/** Collects a PlanSample from the chunks of a side, in order. */
export class PlanSampler {
  private readonly statsStride: number;
  private readonly pairStride: number;
  private readonly stats: Uint8Array;
  private readonly pairs: Uint8Array;
  private statsRows = 0;
  private pairRows = 0;

  constructor(
    private readonly filterBits: number,
    private readonly count: number,
  ) {
    this.statsStride = Math.max(1, Math.ceil(count / SAMPLE_ROWS));
    this.pairStride = Math.max(1, Math.floor(count / PAIR_SAMPLE_ROWS));
    this.stats = new Uint8Array(Math.ceil(count / this.statsStride) * (filterBits / 8));
    this.pairs = new Uint8Array(Math.min(PAIR_SAMPLE_ROWS, Math.ceil(count / this.pairStride)) * (filterBits / 8));
  }

  /** Takes rows [start, start + chunk.count) of the side. */
  add(chunk: FilterSet, start: number): this {
    const width = this.filterBits / 8;
    const take = (stride: number, limit: number, target: Uint8Array, taken: number): number => {
      for (let row = Math.ceil(start / stride) * stride; row < start + chunk.count && taken < limit; row += stride) {
        target.set(chunk.clks.subarray((row - start) * width, (row - start + 1) * width), taken * width);
        taken++;
      }
      return taken;
    };
    this.statsRows = take(this.statsStride, Number.POSITIVE_INFINITY, this.stats, this.statsRows);
    this.pairRows = take(this.pairStride, PAIR_SAMPLE_ROWS, this.pairs, this.pairRows);
    return this;
  }

  sample(): PlanSample {
    const width = this.filterBits / 8;
    const set = (clks: Uint8Array, rows: number): FilterSet => ({ filterBits: this.filterBits, count: rows, clks: clks.subarray(0, rows * width) });
    return { filterBits: this.filterBits, count: this.count, stats: set(this.stats, this.statsRows), pairs: set(this.pairs, this.pairRows) };
  }
}

/** The planner's sample of a side held whole. */
export function planSample(set: FilterSet | PlanSample): PlanSample {
  return 'stats' in set ? set : new PlanSampler(set.filterBits, set.count).add(set, 0).sample();
}

// Plans made for several thresholds from one sample (the automatic threshold's search) share these.
const statisticsMemo = new WeakMap<FilterSet, BitStatistics>();
const agreementMemo = new WeakMap<FilterSet, WeakMap<FilterSet, Map<string, Float64Array>>>();

function memoStatistics(set: FilterSet): BitStatistics {
  let stats = statisticsMemo.get(set);
  if (stats === undefined) statisticsMemo.set(set, (stats = bitStatistics(set)));
  return stats;
}

function memoAgreement(a: FilterSet, b: FilterSet, poolBits: Int32Array): Float64Array {
  let byB = agreementMemo.get(a);
  if (byB === undefined) agreementMemo.set(a, (byB = new WeakMap()));
  let byPool = byB.get(b);
  if (byPool === undefined) byB.set(b, (byPool = new Map()));
  const key = poolBits.join(',');
  let agreement = byPool.get(key);
  if (agreement === undefined) byPool.set(key, (agreement = poolAgreement(a, b, poolBits)));
  return agreement;
}

/** Bit frequencies and median popcount over an evenly strided sample of rows (deterministic). */
export function bitStatistics(set: FilterSet, maxRows = SAMPLE_ROWS): BitStatistics {
  const bytes = set.filterBits / 8;
  const stride = Math.max(1, Math.ceil(set.count / maxRows));
  const counts = new Float64Array(set.filterBits);
  const popcounts: number[] = [];
  let rows = 0;
  for (let row = 0; row < set.count; row += stride) {
    let ones = 0;
    const base = row * bytes;
    for (let byte = 0; byte < bytes; byte++) {
      const value = set.clks[base + byte];
      if (value === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (value & (0x80 >>> bit)) {
          counts[byte * 8 + bit]++;
          ones++;
        }
      }
    }
    popcounts.push(ones);
    rows++;
  }
  popcounts.sort((x, y) => x - y);
  for (let i = 0; i < counts.length; i++) counts[i] /= Math.max(1, rows);
  return { frequency: counts, medianPopcount: popcounts.length === 0 ? 0 : popcounts[popcounts.length >> 1] };
}

/** Chance that K pool bits drawn without replacement all fall among `agree` of `pool` bits. */
function hypergeometric(agree: number, pool: number, k: number): number {
  let p = 1;
  for (let j = 0; j < k && p > 0; j++) p *= Math.max(0, agree - j) / (pool - j);
  return p;
}


/**
 * One row's pool, bit by bit: pool bit k is filter bit poolBits[k], at word k >>> 5, bit k & 31
 * (lsh-scan.ts's extractPools builds the same words with lookup tables, for every row).
 */
export function readPool(set: FilterSet, row: number, poolBits: Int32Array, out: Int32Array): void {
  out.fill(0);
  const base = row * (set.filterBits / 8);
  for (let k = 0; k < poolBits.length; k++) {
    const bit = poolBits[k];
    if (set.clks[base + (bit >>> 3)] & (0x80 >>> (bit & 7))) out[k >>> 5] |= 1 << (k & 31);
  }
}

/** Fraction of sampled (a, b) row pairs agreeing on exactly j pool bits, for j = 0..pool size. */
export function poolAgreement(a: FilterSet, b: FilterSet, poolBits: Int32Array): Float64Array {
  const words = poolBits.length / 32;
  const rows = (set: FilterSet): Int32Array[] => {
    const stride = Math.max(1, Math.floor(set.count / PAIR_SAMPLE_ROWS));
    const out: Int32Array[] = [];
    for (let row = 0; row < set.count && out.length < PAIR_SAMPLE_ROWS; row += stride) {
      const pool = new Int32Array(words);
      readPool(set, row, poolBits, pool);
      out.push(pool);
    }
    return out;
  };
  const sampleA = rows(a);
  const sampleB = rows(b);
  const histogram = new Float64Array(poolBits.length + 1);
  for (const x of sampleA) {
    for (const y of sampleB) {
      let differ = 0;
      for (let w = 0; w < words; w++) differ += popcount32(x[w] ^ y[w]);
      histogram[poolBits.length - differ]++;
    }
  }
  const total = sampleA.length * sampleB.length;
  for (let j = 0; j < histogram.length; j++) histogram[j] /= Math.max(1, total);
  return histogram;
}

/** Tables needed for `target` completeness when one table catches a pair with probability `hit`. */
export function tablesFor(hit: number, target: number): number {
  if (hit >= 1) return 1;
  if (hit <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.ceil(Math.log(1 - target) / Math.log1p(-hit)));
}

/**
 * Chooses the pool, K and L. Bits whose frequency over both files is nearest 50% carry the most
 * information (a random pair agrees on them least often); ties fall in seeded random order.
 * K minimises L(K)·(1 + VERIFY_COST_RATIO·n·ρ^K), the probes plus verifications per streamed row;
 * L then meets the target for a pair at the threshold with median popcounts, where the pair's
 * Hamming distance is (pa + pb)(1 − t).
 *
 * @example const plan = planLsh(a, b, { threshold: 0.85, targetCompleteness: 0.99, seed: 1, indexedCount: a.count });
 */
export function planLsh(wholeA: FilterSet | PlanSample, wholeB: FilterSet | PlanSample, options: LshPlanOptions): LshPlan {
  // The sampled rows, compacted: the statistics below then read every row of each compact set.
  const sampleA = planSample(wholeA);
  const sampleB = planSample(wholeB);
  const l = sampleA.filterBits;
  const statsA = memoStatistics(sampleA.stats);
  const statsB = memoStatistics(sampleB.stats);
  // Whole 32-bit pool words; a filter shorter than 32 bits cannot be blocked this way.
  const poolSize = Math.min(32 * POOL_WORDS, l - (l % 32));
  if (poolSize < 32) throw new UserError(`LSH blocking needs filters of at least 32 bits, these have ${l}: use --blocking none`);
  const random = Random.forKey(options.seed, 0x15a, 0);
  const tieBreak = Array.from({ length: l }, () => random.float());
  // A random pair disagrees on bit i with probability fA(1 − fB) + fB(1 − fA).
  const disagree = new Float64Array(l);
  for (let i = 0; i < l; i++) {
    const fa = statsA.frequency[i];
    const fb = statsB.frequency[i];
    disagree[i] = fa * (1 - fb) + fb * (1 - fa);
  }
  const closeness = (i: number): number => Math.abs((statsA.frequency[i] + statsB.frequency[i]) / 2 - 0.5);
  const ranked = Array.from({ length: l }, (_, i) => i).sort((x, y) => closeness(x) - closeness(y) || tieBreak[x] - tieBreak[y]);
  const poolBits = Int32Array.from(ranked.slice(0, poolSize).sort((x, y) => x - y));

  let poolDisagree = 0;
  let poolLogAgree = 0;
  let allDisagree = 0;
  for (const i of poolBits) {
    poolDisagree += disagree[i];
    poolLogAgree += Math.log(Math.max(1e-9, 1 - disagree[i]));
  }
  for (let i = 0; i < l; i++) allDisagree += disagree[i];
  // Differing bits of a true pair fall where bits vary, so the pool (chosen to vary) sees more of
  // them than the filter average: scale by the pool's share of random-pair disagreement.
  const variability = allDisagree > 0 ? poolDisagree / poolSize / (allDisagree / l) : 1;
  const popcountSum = statsA.medianPopcount + statsB.medianPopcount;
  const alpha = agreement01(popcountSum, variability, l, options.threshold);
  const rho = Math.exp(poolLogAgree / poolSize);

  // Real encodings share bits beyond chance (common names, one state's ZIPs), so ρ^K understates
  // collisions (by about 4x on synth data at K = 23): measure them on sampled pairs instead.
  const agreement = memoAgreement(sampleA.pairs, sampleB.pairs, poolBits);
  const chance = (k: number): number => {
    let sum = 0;
    for (let agree = k; agree <= poolSize; agree++) if (agreement[agree] > 0) sum += agreement[agree] * hypergeometric(agree, poolSize, k);
    return sum;
  };
  const hit = (k: number): number => hypergeometric(alpha * poolSize, poolSize, k);
  const maxTables = options.maxTables ?? DEFAULT_MAX_TABLES;
  let best = { k: 1, tables: 1, cost: Number.POSITIVE_INFINITY };
  for (let k = 1; k <= Math.min(poolSize, 48); k++) {
    const tables = tablesFor(hit(k), options.targetCompleteness);
    if (tables > maxTables) break;
    const cost = tables * (1 + VERIFY_COST_RATIO * options.indexedCount * chance(k));
    if (cost < best.cost) best = { k, tables, cost };
  }
  const poolWords = POOL_WORDS;
  const masks = new Int32Array(best.tables * poolWords);
  const positions = Array.from({ length: poolSize }, (_, k) => k);
  for (let t = 0; t < best.tables; t++) {
    // Partial Fisher-Yates: K distinct pool bits per table, tables drawn independently.
    for (let j = 0; j < best.k; j++) {
      const pick = j + random.int(poolSize - j);
      [positions[j], positions[pick]] = [positions[pick], positions[j]];
      const k = positions[j];
      masks[t * poolWords + (k >>> 5)] |= 1 << (k & 31);
    }
  }
  return {
    poolDistanceLimit: distanceLimit(poolSize, alpha),
    popcountSum,
    variability,
    filterBits: l,
    poolBits,
    poolWords,
    bitsPerTable: best.k,
    tables: best.tables,
    masks,
    seed: options.seed,
    agreeAtThreshold: alpha,
    agreeRandom: rho,
    predictedCompleteness: 1 - (1 - hit(best.k)) ** best.tables,
    predictedCollisionsPerProbe: options.indexedCount * chance(best.k),
  };
}

/** Per-bit agreement on the pool of a pair scoring `score`, with median popcounts: its Hamming distance is (pa + pb)(1 − score). */
function agreement01(popcountSum: number, variability: number, filterBits: number, score: number): number {
  return Math.min(1, Math.max(0.05, 1 - ((popcountSum * (1 - score)) / filterBits) * variability));
}

function distanceLimit(poolSize: number, alpha: number): number {
  const mean = poolSize * (1 - alpha);
  return Math.ceil(mean + POOL_DISTANCE_SIGMAS * Math.sqrt(mean * alpha) + 2);
}

/** The plan's per-bit agreement model at another score than the one it was made for. */
export function agreementAt(plan: Pick<LshPlan, 'popcountSum' | 'variability' | 'filterBits'>, score: number): number {
  return agreement01(plan.popcountSum, plan.variability, plan.filterBits, score);
}

/**
 * Chance that the plan's tables find a pair of this score (median popcounts): 1 − (1 − h)^L, h
 * the chance that one table's K pool bits all agree. The automatic threshold weights what blocking
 * found by its inverse (match/auto-lsh.ts).
 */
export function foundProbability(plan: Pick<LshPlan, 'popcountSum' | 'variability' | 'filterBits' | 'poolBits' | 'bitsPerTable' | 'tables'>, score: number): number {
  const pool = plan.poolBits.length;
  const hit = hypergeometric(agreementAt(plan, score) * pool, pool, plan.bitsPerTable);
  return 1 - (1 - hit) ** plan.tables;
}

/** The pool-distance bound that keeps pairs of `score` (the plan keeps those of its own threshold). */
export function poolDistanceLimitFor(plan: Pick<LshPlan, 'popcountSum' | 'variability' | 'filterBits' | 'poolBits'>, score: number): number {
  return distanceLimit(plan.poolBits.length, agreementAt(plan, score));
}

/** Pair completeness wanted for pairs exactly at the threshold, unless asked otherwise. */
export const DEFAULT_TARGET_COMPLETENESS = 0.99;

/** What picks a plan besides the data: blockedCandidates and the completeness check share it. */
export interface LshPlanChoice {
  threshold: number;
  /** As for blockedCandidates; default 1. */
  seed?: number;
  /** As for blockedCandidates; default DEFAULT_TARGET_COMPLETENESS. */
  targetCompleteness?: number;
}

/** The plan blockedCandidates uses for these inputs and options: the smaller side is indexed. */
export function lshPlanFor(a: FilterSet | PlanSample, b: FilterSet | PlanSample, options: LshPlanChoice): LshPlan {
  return planLsh(a, b, {
    threshold: options.threshold,
    targetCompleteness: options.targetCompleteness ?? DEFAULT_TARGET_COMPLETENESS,
    seed: options.seed ?? 1,
    indexedCount: Math.min(a.count, b.count),
  });
}
