// The Hamming LSH join on one thread: extract each record's bit pool, index the smaller side by
// one table's key, stream the larger side's keys through it and verify collisions with exact Dice
// (anonlink's score). A pair is verified only in the first table where it collides.
import { diceFromCounts } from '../similarity/dice-reference.js';
import { CandidateSink } from '../match/candidate-sink.js';
import type { Candidates } from '../match/tile.js';
import { POOL_WORDS } from './lsh-plan.js';
import { popcount32 } from '../bits.js';

/**
 * Everything the threads share, as typed arrays over SharedArrayBuffers (structured clone passes
 * them to workers by reference). "index" is the smaller side, "stream" the larger.
 */
export interface LshShared {
  /** 32-bit words per stored filter (filters are zero-padded to whole words). */
  clkWords: number;
  poolWords: number;
  /** Filters as 32-bit words, `clkWords` per record; the AND-popcount ignores byte order. */
  indexClks: Int32Array;
  streamClks: Int32Array;
  indexPool: Int32Array;
  streamPool: Int32Array;
  indexPopcounts: Uint16Array;
  streamPopcounts: Uint16Array;
  poolBits: Int32Array;
  masks: Int32Array;
  /** Most pool bits a pair may differ in and still be verified (LshPlan.poolDistanceLimit). */
  poolDistanceLimit: number;
  /** thresholdTable(filterBits, threshold). */
  thresholdTable: Int32Array;
  /** Stream rows keyed per pass (CHUNK_ROWS unless a test or a tuning run asks otherwise). */
  chunkRows: number;
  /** True when the index side is B, so pairs are emitted as (stream row, index row). */
  swapped: boolean;
  /**
   * Self-join (deduplication): index and stream are one set in the same arrays, and a colliding
   * pair is kept only as (lower row, higher row), so each unordered pair is verified once and no
   * record is paired with itself.
   */
  self: boolean;
  indexCount: number;
  streamCount: number;
}

export type LshTask =
  | { kind: 'pool'; side: 'index' | 'stream'; start: number; end: number }
  | { kind: 'table'; table: number; start: number; end: number; maxCandidates: number };

export interface TableResult {
  candidates: Candidates | null;
  /** Pairs whose keys collided (bucket and full hash), and pairs Dice was computed for. */
  collisions: number;
  compared: number;
}

/**
 * For each filter byte that holds pool bits and each pool word those bits land in, a 256-entry
 * table from the byte's value to the pool-word bits it sets: extraction then costs one lookup per
 * byte instead of a test per pool bit.
 */
interface PoolLookup {
  sourceBytes: Int32Array;
  targetWords: Int32Array;
  table: Int32Array;
}

function poolLookup(poolBits: Int32Array): PoolLookup {
  // Pool bits are sorted, so each (byte, word) pair's bits are consecutive; a byte whose bits
  // straddle two pool words gets one pair per word.
  const pairOf = new Int32Array(poolBits.length);
  const pairs: [number, number][] = [];
  poolBits.forEach((bit, k) => {
    const last = pairs[pairs.length - 1];
    if (last === undefined || last[0] !== bit >>> 3 || last[1] !== k >>> 5) pairs.push([bit >>> 3, k >>> 5]);
    pairOf[k] = pairs.length - 1;
  });
  const table = new Int32Array(pairs.length * 256);
  poolBits.forEach((bit, k) => {
    const mask = 0x80 >>> (bit & 7);
    for (let value = 0; value < 256; value++) if (value & mask) table[pairOf[k] * 256 + value] |= 1 << (k & 31);
  });
  return { sourceBytes: Int32Array.from(pairs, ([byte]) => byte), targetWords: Int32Array.from(pairs, ([, word]) => word), table };
}

/** Fills pool words and popcounts for rows [start, end) of one side. */
export function extractPools(shared: LshShared, side: 'index' | 'stream', start: number, end: number): void {
  const clks = side === 'index' ? shared.indexClks : shared.streamClks;
  const pool = side === 'index' ? shared.indexPool : shared.streamPool;
  const popcounts = side === 'index' ? shared.indexPopcounts : shared.streamPopcounts;
  const bytes = new Uint8Array(clks.buffer, clks.byteOffset, clks.byteLength);
  const words = shared.clkWords;
  const width = words * 4;
  const { sourceBytes, targetWords, table } = poolLookup(shared.poolBits);
  const pairs = sourceBytes.length;
  const poolWords = shared.poolWords;
  for (let row = start; row < end; row++) {
    let ones = 0;
    for (let w = row * words; w < (row + 1) * words; w++) ones += popcount32(clks[w]);
    popcounts[row] = ones;
    const base = row * width;
    const out = row * poolWords;
    for (let w = out; w < out + poolWords; w++) pool[w] = 0;
    for (let p = 0; p < pairs; p++) pool[out + targetWords[p]] |= table[(p << 8) | bytes[base + sourceBytes[p]]];
  }
}

// murmur3's block mix over one masked pool word, folded into the running hash `h`.
function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

/**
 * A table's key: murmur3 over the masked pool words (POOL_WORDS = 8, unrolled, masks passed as
 * locals). Equal masked pools give equal keys; unequal ones collide with probability about 2^-32,
 * and every key match is re-checked exactly. (A cheaper multiply-add sum was tried: masked words
 * are sparse, and its collisions doubled the pairs to reject.)
 */
function poolKey(pool: Int32Array, p: number, m0: number, m1: number, m2: number, m3: number, m4: number, m5: number, m6: number, m7: number): number {
  let h = 0x9747b28c;
  h = mixWord(h, pool[p] & m0);
  h = mixWord(h, pool[p + 1] & m1);
  h = mixWord(h, pool[p + 2] & m2);
  h = mixWord(h, pool[p + 3] & m3);
  h = mixWord(h, pool[p + 4] & m4);
  h = mixWord(h, pool[p + 5] & m5);
  h = mixWord(h, pool[p + 6] & m6);
  h = mixWord(h, pool[p + 7] & m7);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// Stream rows keyed per pass: 2^20 rows of (row, key), an 8 MB partition buffer. Each index
// partition (about 20 KB) is then loaded once per ~1000 probes: loading it is one cache miss per
// line, and at 2^18 rows those misses cost as much as the probes themselves.
export const CHUNK_ROWS = 1 << 20;
// Index rows per partition: 2048 of them (16 KB of entries, 4 KB of bucket heads) stay in L1/L2.
const PARTITION_ROWS = 2048;

/**
 * Per-thread scratch for the table join, reused across tables. The join is radix-partitioned
 * (Manegold, Boncz & Kersten's cache-conscious hash join): both sides are cut by the key's top
 * bits, so each partition's probes hit a few KB of index instead of missing cache across MBs.
 */
export class TableJoin {
  private readonly bucketBits: number;
  private readonly partitionBits: number;
  private readonly starts: Int32Array;
  /** (index row, key) pairs grouped by bucket; buckets ordered by key, so partitions are runs. */
  private readonly entries: Int32Array;
  private readonly keys: Int32Array;
  private readonly staged: Int32Array;
  private readonly diff: Int32Array;
  private readonly chunkKeys: Int32Array;
  private readonly chunkRows: Int32Array;
  private readonly partitionStarts: Int32Array;

  constructor(private readonly shared: LshShared) {
    // About two index rows per bucket.
    this.bucketBits = Math.max(4, Math.ceil(Math.log2(Math.max(2, shared.indexCount))) - 1);
    this.partitionBits = Math.min(this.bucketBits, Math.max(0, Math.ceil(Math.log2(Math.max(1, shared.indexCount / PARTITION_ROWS)))));
    this.starts = new Int32Array((1 << this.bucketBits) + 1);
    this.entries = new Int32Array(2 * shared.indexCount);
    this.keys = new Int32Array(shared.indexCount);
    this.staged = new Int32Array(2 * shared.indexCount);
    this.diff = new Int32Array(shared.poolWords);
    const chunk = Math.min(shared.chunkRows, Math.max(1, shared.streamCount));
    this.chunkKeys = new Int32Array(chunk);
    this.chunkRows = new Int32Array(2 * chunk);
    this.partitionStarts = new Int32Array((1 << this.partitionBits) + 1);
  }

  /** Candidates between all index rows and stream rows [start, end) first colliding in `table`. */
  run(table: number, start: number, end: number, maxCandidates: number): TableResult {
    const s = this.shared;
    const words = s.poolWords;
    const maskBase = table * words;
    const shift = 32 - this.bucketBits;
    const partitionShift = 32 - this.partitionBits;
    const partitions = 1 << this.partitionBits;
    const { starts, entries, keys, diff, chunkKeys, chunkRows, partitionStarts } = this;
    // Locals for the hot loops: V8 keeps typed arrays in registers, not re-read off `s`.
    const { indexPool, streamPool, masks, indexPopcounts, streamPopcounts, indexClks, streamClks, swapped, self } = s;
    const thresholds = s.thresholdTable;
    const poolDistanceLimit = s.poolDistanceLimit;
    const indexCount = s.indexCount;
    if (words !== POOL_WORDS) throw new RangeError(`pools must be ${POOL_WORDS} words, got ${words}`);
    const m0 = masks[maskBase];
    const m1 = masks[maskBase + 1];
    const m2 = masks[maskBase + 2];
    const m3 = masks[maskBase + 3];
    const m4 = masks[maskBase + 4];
    const m5 = masks[maskBase + 5];
    const m6 = masks[maskBase + 6];
    const m7 = masks[maskBase + 7];
    // Build in two cache-friendly passes: scatter (row, key) by partition, then counting-sort each
    // partition's few thousand rows by bucket; its bucket heads are one contiguous slice of `starts`.
    partitionStarts.fill(0);
    for (let i = 0; i < indexCount; i++) {
      const key = poolKey(indexPool, i * POOL_WORDS, m0, m1, m2, m3, m4, m5, m6, m7);
      keys[i] = key;
      partitionStarts[(partitions > 1 ? key >>> partitionShift : 0) + 1]++;
    }
    for (let p = 1; p <= partitions; p++) partitionStarts[p] += partitionStarts[p - 1];
    const staged = this.staged;
    for (let i = 0; i < indexCount; i++) {
      const at = partitionStarts[partitions > 1 ? keys[i] >>> partitionShift : 0]++;
      staged[2 * at] = i;
      staged[2 * at + 1] = keys[i];
    }
    starts.fill(0);
    const bucketsPerPartition = 1 << (this.bucketBits - this.partitionBits);
    for (let p = 0, from = 0; p < partitions; p++) {
      const to = partitionStarts[p];
      for (let e = from; e < to; e++) starts[(staged[2 * e + 1] >>> shift) + 1]++;
      const first = p * bucketsPerPartition;
      starts[first] = from;
      for (let k = first + 1; k <= first + bucketsPerPartition; k++) starts[k] += starts[k - 1];
      for (let e = from; e < to; e++) {
        const at = starts[staged[2 * e + 1] >>> shift]++;
        entries[2 * at] = staged[2 * e];
        entries[2 * at + 1] = staged[2 * e + 1];
      }
      // Placing advanced each head to the next bucket's start; shift this slice back.
      for (let k = first + bucketsPerPartition; k > first; k--) starts[k] = starts[k - 1];
      starts[first] = from;
      from = to;
    }

    const clkWords = s.clkWords;
    const found = new CandidateSink();
    let collisions = 0;
    let compared = 0;
    for (let chunkStart = start; chunkStart < end; chunkStart += chunkKeys.length) {
      const chunkEnd = Math.min(end, chunkStart + chunkKeys.length);
      partitionStarts.fill(0);
      for (let r = chunkStart; r < chunkEnd; r++) {
        const key = poolKey(streamPool, r * POOL_WORDS, m0, m1, m2, m3, m4, m5, m6, m7);
        chunkKeys[r - chunkStart] = key;
        if (partitions > 1) partitionStarts[(key >>> partitionShift) + 1]++;
      }
      if (partitions > 1) {
        for (let p = 1; p <= partitions; p++) partitionStarts[p] += partitionStarts[p - 1];
        for (let r = chunkStart; r < chunkEnd; r++) {
          const key = chunkKeys[r - chunkStart];
          const at = partitionStarts[key >>> partitionShift]++;
          chunkRows[2 * at] = r;
          chunkRows[2 * at + 1] = key;
        }
      } else {
        for (let r = chunkStart; r < chunkEnd; r++) {
          chunkRows[2 * (r - chunkStart)] = r;
          chunkRows[2 * (r - chunkStart) + 1] = chunkKeys[r - chunkStart];
        }
      }
      for (let q = 0; q < chunkEnd - chunkStart; q++) {
        const r = chunkRows[2 * q];
        const key = chunkRows[2 * q + 1];
        const bucket = key >>> shift;
        const last = starts[bucket + 1];
        for (let e = starts[bucket]; e < last; e++) {
          if (entries[2 * e + 1] !== key) continue;
          const i = entries[2 * e];
          if (self && i >= r) continue;
          collisions++;
          let differs = 0;
          let distance = 0;
          for (let w = 0; w < words; w++) {
            const d = indexPool[i * words + w] ^ streamPool[r * words + w];
            diff[w] = d;
            differs |= d & masks[maskBase + w];
            distance += popcount32(d);
          }
          if (differs !== 0) continue; // a 32-bit key collision, not a table collision
          // Far apart on the pool: a chance collision, rejected without touching the filters.
          if (distance > poolDistanceLimit) continue;
          const pi = indexPopcounts[i];
          const pr = streamPopcounts[r];
          const least = thresholds[pi + pr];
          // The popcount bound: even |A∧B| = min(|A|, |B|) falls short.
          if (least > (pi < pr ? pi : pr)) continue;
          if (collidesEarlier(diff, masks, table, words)) continue;
          compared++;
          let common = 0;
          const ai = i * clkWords;
          const ar = r * clkWords;
          for (let w = 0; w < clkWords; w++) common += popcount32(indexClks[ai + w] & streamClks[ar + w]);
          if (common < least) continue;
          const score = diceFromCounts(common, pi, pr);
          if (swapped) found.push(r, i, score);
          else found.push(i, r, score);
          if (found.length > maxCandidates) return { candidates: null, collisions, compared };
        }
      }
    }
    return { candidates: found.view(), collisions, compared };
  }
}

/** Whether pool difference `diff` is zero under any table mask before `table`. */
function collidesEarlier(diff: Int32Array, masks: Int32Array, table: number, words: number): boolean {
  for (let t = 0; t < table; t++) {
    let w = 0;
    const base = t * words;
    while (w < words && (diff[w] & masks[base + w]) === 0) w++;
    if (w === words) return true;
  }
  return false;
}

// Header of a packed table result, in float64 slots: collisions, compared, length (−1 past the limit).
const HEADER_SLOTS = 4;

/** One ArrayBuffer for a table result (header, scores, a, b) so a worker can transfer it whole. */
export function packTableResult(result: TableResult): ArrayBuffer {
  const length = result.candidates?.length ?? 0;
  const buffer = new ArrayBuffer(HEADER_SLOTS * 8 + length * 16);
  const header = new Float64Array(buffer, 0, HEADER_SLOTS);
  header[0] = result.collisions;
  header[1] = result.compared;
  header[2] = result.candidates === null ? -1 : length;
  if (result.candidates !== null) {
    const c = result.candidates;
    new Float64Array(buffer, HEADER_SLOTS * 8, length).set(c.score.subarray(0, length));
    new Int32Array(buffer, HEADER_SLOTS * 8 + length * 8, length).set(c.a.subarray(0, length));
    new Int32Array(buffer, HEADER_SLOTS * 8 + length * 12, length).set(c.b.subarray(0, length));
  }
  return buffer;
}

/** Views over a packed table result; no copy. */
export function unpackTableResult(buffer: ArrayBuffer): TableResult {
  const header = new Float64Array(buffer, 0, HEADER_SLOTS);
  const length = header[2];
  const at = HEADER_SLOTS * 8;
  const candidates: Candidates | null =
    length < 0
      ? null
      : {
          length,
          score: new Float64Array(buffer, at, length),
          a: new Int32Array(buffer, at + length * 8, length),
          b: new Int32Array(buffer, at + length * 12, length),
        };
  return { candidates, collisions: header[0], compared: header[1] };
}
