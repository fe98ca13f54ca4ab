// Keyed signature blocking, the linkage unit's half: candidate pairs are the pairs sharing a block
// key under some rule (keys from signature.ts, read from the files' `block_keys` columns), each
// verified once with exact Dice. Per rule, a hash join over typed arrays numbers the blocks and
// lays the smaller side's rows out block by block; the larger side is then taken a window at a
// time, block by block within it, each row scanned against its block's contiguous run by the
// WebAssembly Dice kernel. A plain JavaScript verifier is the reference (and the fallback).
import { popcount32 } from '../bits.js';
import { UserError } from '../errors.js';
import { DEFAULT_MAX_CANDIDATES } from '../match/candidates.js';
import type { FilterSet } from '../match/shared-filters.js';
import { SCRATCH_PAIRS } from '../match/shared-filters.js';
import type { Candidates } from '../match/tile.js';
import { defaultCheckpoints, META_BYTES } from '../similarity/dice-kernel-source.js';
import { compileDiceKernel, instantiateDiceKernel, MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { diceFromCounts } from '../similarity/dice-reference.js';
import { thresholdTable } from '../similarity/threshold-table.js';
import { PAGE_BYTES, wasm } from '../similarity/wasm-api.js';
import { CandidateSink } from '../match/candidate-sink.js';
import { SIGNATURE_ROW_BYTES, SIGNATURE_RULES } from './signature.js';

export interface SignatureCandidates extends Candidates {
  pairsTotal: number;
  /** Distinct pairs sharing a block: each looked at once (popcount bound, then exact Dice). */
  pairsCompared: number;
  /** 1 − pairsCompared / pairsTotal. */
  reductionRatio: number;
}

export interface SignatureJoinOptions {
  threshold: number;
  maxCandidates?: number;
  /** 'kernel' (default) uses WebAssembly when the smaller side fits its memory; 'reference' is plain JavaScript. */
  verifier?: 'kernel' | 'reference';
}

const RULES = SIGNATURE_RULES.length;
/** 32-bit words per record in a block-key row, and per rule slot. */
const ROW_WORDS = SIGNATURE_ROW_BYTES / 4;
const SLOT_WORDS = 2;

/** A typed view as 32-bit words: no copy when the bytes are 4-aligned and whole words per row. */
function asWords(bytes: Uint8Array, rows: number, rowBytes: number): Int32Array {
  const rowWords = Math.ceil(rowBytes / 4);
  if (bytes.byteOffset % 4 === 0 && rowBytes % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, rows * rowWords);
  const copy = new Uint8Array(rows * rowWords * 4);
  for (let row = 0; row < rows; row++) copy.set(bytes.subarray(row * rowBytes, (row + 1) * rowBytes), row * rowWords * 4);
  return new Int32Array(copy.buffer);
}

function keyWords(keys: Uint8Array, count: number): Int32Array {
  if (keys.length < count * SIGNATURE_ROW_BYTES) throw new RangeError(`block keys hold ${keys.length} bytes, ${count} rows need ${count * SIGNATURE_ROW_BYTES}`);
  return asWords(keys, count, SIGNATURE_ROW_BYTES);
}

/** Rows of one side grouped by block: rows[start[g] .. start[g + 1]) share block g. */
interface Groups {
  start: Int32Array;
  rows: Int32Array;
}

/** Stable counting sort of rows by group id (-1: in no group, left out). */
function groupRows(groupOf: Int32Array, groups: number): Groups {
  const start = new Int32Array(groups + 1);
  for (let row = 0; row < groupOf.length; row++) if (groupOf[row] >= 0) start[groupOf[row] + 1]++;
  for (let g = 0; g < groups; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groups);
  const rows = new Int32Array(start[groups]);
  for (let row = 0; row < groupOf.length; row++) if (groupOf[row] >= 0) rows[fill[groupOf[row]]++] = row;
  return { start, rows };
}

/**
 * Blocks of one rule: an open-addressing table over the index side's nonzero slots numbers each
 * distinct key and groups the index rows by it; a stream row takes the number of an equal key, or
 * -1. The keys are HMAC outputs, so their low word is already a uniform hash. Slots interleave
 * (key high, key low, block) so a probe touches one cache line.
 */
function blocksOf(indexKeys: Int32Array, indexCount: number, streamKeys: Int32Array, streamCount: number, rule: number): { index: Groups; streamBlock: Int32Array } {
  let size = 16;
  while (size < 2 * indexCount) size *= 2;
  const mask = size - 1;
  const table = new Int32Array(4 * size);
  for (let slot = 0; slot < size; slot++) table[4 * slot + 2] = -1;
  const indexBlock = new Int32Array(indexCount).fill(-1);
  let blocks = 0;
  for (let row = 0, at = rule * SLOT_WORDS; row < indexCount; row++, at += ROW_WORDS) {
    const hi = indexKeys[at];
    const lo = indexKeys[at + 1];
    if ((hi | lo) === 0) continue; // missing part: in no block
    let slot = lo & mask;
    while (table[4 * slot + 2] >= 0 && (table[4 * slot] !== hi || table[4 * slot + 1] !== lo)) slot = (slot + 1) & mask;
    if (table[4 * slot + 2] < 0) {
      table[4 * slot] = hi;
      table[4 * slot + 1] = lo;
      table[4 * slot + 2] = blocks++;
    }
    indexBlock[row] = table[4 * slot + 2];
  }
  const streamBlock = new Int32Array(streamCount);
  for (let row = 0, at = rule * SLOT_WORDS; row < streamCount; row++, at += ROW_WORDS) {
    const hi = streamKeys[at];
    const lo = streamKeys[at + 1];
    let block = -1;
    if ((hi | lo) !== 0) {
      let slot = lo & mask;
      while (table[4 * slot + 2] >= 0 && (table[4 * slot] !== hi || table[4 * slot + 1] !== lo)) slot = (slot + 1) & mask;
      block = table[4 * slot + 2];
    }
    streamBlock[row] = block;
  }
  return { index: groupRows(indexBlock, blocks), streamBlock };
}

/**
 * Stream filters per window (see signatureCandidates). On 10M x 1.28M 2048-bit rows (a /tmp
 * script, 400M pairs compared): 16 MiB took 36 s, 64 MiB 28 s, 256 MiB 27.5 s on a busy 2-core
 * machine; 64 MiB keeps the kernel's memory small.
 */
const WINDOW_BYTES = 64 << 20;

/** Whether rows i and j share a nonzero key under one of the first `rules` rules. */
function sharesKey(x: Int32Array, i: number, y: Int32Array, j: number, rules: number): boolean {
  for (let r = 0; r < rules; r++) {
    const xi = i * ROW_WORDS + r * SLOT_WORDS;
    const yj = j * ROW_WORDS + r * SLOT_WORDS;
    const hi = x[xi];
    const lo = x[xi + 1];
    if ((hi | lo) !== 0 && hi === y[yj] && lo === y[yj + 1]) return true;
  }
  return false;
}

/** One side's filters as the verifiers read them. */
interface Side {
  filterBits: number;
  count: number;
  /** Filters as 32-bit words, Math.ceil(filterBits / 32) per row (zero-padded). */
  words: Int32Array;
  popcounts: Uint16Array;
}

/** Uses the caller's popcounts when given (readEncodedFile has checked them against the filters). */
function sideOf(set: FilterSet & { popcounts?: Uint16Array }): Side {
  const words = asWords(set.clks, set.count, set.filterBits / 8);
  const perRow = Math.ceil(set.filterBits / 32);
  let popcounts = set.popcounts;
  if (popcounts === undefined || popcounts.length !== set.count) {
    popcounts = new Uint16Array(set.count);
    for (let row = 0; row < set.count; row++) {
      let ones = 0;
      for (let w = row * perRow; w < (row + 1) * perRow; w++) ones += popcount32(words[w]);
      popcounts[row] = ones;
    }
  }
  return { filterBits: set.filterBits, count: set.count, words, popcounts };
}

/** Receives a pair (index row, stream row) with its AND-popcount reaching the threshold. */
type Emit = (i: number, j: number, common: number) => void;

/** Compares a stream row with a run of index rows: positions [from, to) of the rule's layout. */
interface Verifier {
  /** Lays out the index side for a rule: `rows[t]` goes to position t. */
  layOut(rows: Int32Array): void;
  /** The stream rows [from, to) that the next compare calls take their rows from. */
  window(from: number, to: number): void;
  compare(j: number, from: number, to: number, emit: Emit): void;
}

/** Popcounts of the filters' second halves (from word `half` on). */
function secondHalves(side: Side, half: number): Uint16Array {
  const words = Math.ceil(side.filterBits / 32);
  const rest = new Uint16Array(side.count);
  for (let row = 0, at = 0; row < side.count; row++, at += words) {
    let ones = 0;
    for (let w = half; w < words; w++) ones += popcount32(side.words[at + w]);
    rest[row] = ones;
  }
  return rest;
}

/**
 * The reference verifier, in JavaScript: 32-bit AND-popcounts with one exact early exit halfway
 * (the second half adds at most the smaller of the two halves' popcounts).
 */
function referenceVerifier(index: Side, stream: Side, table: Int32Array): Verifier {
  const words = Math.ceil(index.filterBits / 32);
  const half = words >> 1;
  const x = index.words;
  const y = stream.words;
  const restX = secondHalves(index, half);
  const restY = secondHalves(stream, half);
  let laidOut: Int32Array = new Int32Array(0);
  return {
    layOut(rows) {
      laidOut = rows;
    },
    window() {},
    compare(j, from, to, emit) {
      const popY = stream.popcounts[j];
      const yAt = j * words;
      for (let t = from; t < to; t++) {
        const i = laidOut[t];
        const popX = index.popcounts[i];
        const least = table[popX + popY];
        if (least > (popX < popY ? popX : popY)) continue;
        const xAt = i * words;
        let common = 0;
        for (let w = 0; w < half; w++) common += popcount32(x[xAt + w] & y[yAt + w]);
        if (common + (restX[i] < restY[j] ? restX[i] : restY[j]) < least) continue;
        for (let w = half; w < words; w++) common += popcount32(x[xAt + w] & y[yAt + w]);
        if (common >= least) emit(i, j, common);
      }
    },
  };
}

/**
 * The WebAssembly verifier: per rule the index rows are copied block by block into one memory
 * with their kernel metadata, so a block is one contiguous run; a window of stream rows is copied
 * beside them in one piece, and the all-pairs kernel (i64 popcount, exact early exits) scans a
 * stream row's block run in place. Null when the index side and a window do not fit the kernel's
 * 4 GiB memory, or the filters are too long for it.
 */
function kernelVerifier(index: Side, stream: Side, threshold: number, windowRows: number): Verifier | null {
  const bits = Math.ceil(index.filterBits / 64) * 64;
  if (bits > MAX_FILTER_BITS) return null;
  const bytes = bits / 8;
  const sourceWords = Math.ceil(index.filterBits / 32);
  const checkpoints = defaultCheckpoints(bits);
  const table = thresholdTable(bits, threshold);
  let offset = 0;
  const take = (size: number): number => {
    const at = offset;
    offset += Math.ceil(size / 8) * 8;
    return at;
  };
  const tableAt = take(4 * table.length);
  const streamMetaAt = take(META_BYTES);
  const outAt = take(8 * SCRATCH_PAIRS);
  const windowAt = take(windowRows * bytes);
  const runsAt = take(index.count * bytes);
  const runsMetaAt = take(index.count * META_BYTES);
  const pages = Math.max(1, Math.ceil(offset / PAGE_BYTES));
  if (pages > 65536) return null;
  let memory;
  try {
    memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null; // no room for it: the reference verifier needs no extra memory
  }
  const scan = instantiateDiceKernel(compileDiceKernel(bits, 'i64', checkpoints), memory);
  const heap = new Int32Array(memory.buffer);
  const heap16 = new Uint16Array(memory.buffer);
  heap.set(table, tableAt / 4);
  const out = new Int32Array(memory.buffer, outAt, 2 * SCRATCH_PAIRS);
  // One metadata record for every stream row, its checkpoint popcounts at their maximum (the
  // kernel reads no other field of its "A" record): the early exit then rests on the index row's
  // alone (|A∧B| <= count so far + |B rest|), still exact, and the larger side needs no pass
  // beyond the popcounts it came with.
  heap16.fill(0xffff, streamMetaAt / 2, (streamMetaAt + META_BYTES) / 2);
  const indexMeta = kernelMeta(index, checkpoints);
  const metaWords = META_BYTES / 2;
  const x = index.words;
  const y = stream.words;
  let laidOut: Int32Array = new Int32Array(0);
  let windowStart = 0;
  return {
    layOut(rows) {
      laidOut = rows;
      // Copied a word at a time: a subarray per row costs more than the copy itself.
      for (let t = 0; t < rows.length; t++) {
        const i = rows[t];
        const target = (runsAt + t * bytes) / 4;
        const source = i * sourceWords;
        for (let w = 0; w < sourceWords; w++) heap[target + w] = x[source + w];
        const metaTarget = (runsMetaAt + t * META_BYTES) / 2;
        for (let m = 0; m < metaWords; m++) heap16[metaTarget + m] = indexMeta[i * metaWords + m];
      }
    },
    window(from, to) {
      windowStart = from;
      if (sourceWords * 4 === bytes) {
        heap.set(y.subarray(from * sourceWords, to * sourceWords), windowAt / 4);
      } else {
        for (let j = from; j < to; j++) heap.set(y.subarray(j * sourceWords, (j + 1) * sourceWords), (windowAt + (j - from) * bytes) / 4);
      }
    },
    compare(j, from, to, emit) {
      const rowAt = windowAt + (j - windowStart) * bytes;
      const rowTable = tableAt + 4 * stream.popcounts[j];
      // The stream row is the kernel's "A" filter, the block's index rows its run of "B" filters.
      for (let run = from; run < to; run += SCRATCH_PAIRS) {
        const count = Math.min(SCRATCH_PAIRS, to - run);
        const found = scan(rowAt, streamMetaAt, runsAt + run * bytes, runsMetaAt + run * META_BYTES, count, rowTable, outAt);
        for (let k = 0; k < found; k++) emit(laidOut[run + out[2 * k]], j, out[2 * k + 1]);
      }
    },
  };
}

/**
 * The kernel's META_BYTES record per filter (as writeFilterMeta writes it: popcount, then the
 * popcount from each checkpoint's 64-bit word to the end), counted a 32-bit word at a time over
 * the side's word rows. Not writeFilterMeta itself: that walks whole 64-bit words of a byte
 * array, and these rows may hold filters of any multiple of 8 bits padded to 32-bit words.
 */
function kernelMeta(set: Side, checkpoints: readonly number[]): Uint16Array {
  const words = Math.ceil(set.filterBits / 32);
  const clks = set.words;
  const metaWords = META_BYTES / 2;
  const meta = new Uint16Array(set.count * metaWords);
  const marks = checkpoints.map((w) => 2 * w);
  for (let row = 0; row < set.count; row++) {
    let suffix = 0;
    let next = marks.length - 1;
    for (let w = words - 1; w >= 0; w--) {
      suffix += popcount32(clks[row * words + w]);
      if (next >= 0 && marks[next] === w) meta[row * metaWords + 1 + next--] = suffix;
    }
    meta[row * metaWords] = suffix;
  }
  return meta;
}

/**
 * 1 for each pair (a[k], b[k]) whose rows share a nonzero block key under some rule, else 0: the
 * pairs signatureCandidates looks at, for measuring pairs completeness against a truth.
 *
 * @example const blocked = signaturePairsBlocked(keysA, keysB, { a: Int32Array.of(0), b: Int32Array.of(2), length: 1 });
 */
export function signaturePairsBlocked(keysA: Uint8Array, keysB: Uint8Array, pairs: Pick<Candidates, 'a' | 'b' | 'length'>): Uint8Array {
  const x = keyWords(keysA, keysA.length / SIGNATURE_ROW_BYTES);
  const y = keyWords(keysB, keysB.length / SIGNATURE_ROW_BYTES);
  const blocked = new Uint8Array(pairs.length);
  for (let k = 0; k < pairs.length; k++) blocked[k] = sharesKey(x, pairs.a[k], y, pairs.b[k], RULES) ? 1 : 0;
  return blocked;
}

/**
 * Candidate pairs (Dice >= threshold, exact anonlink scores) among the pairs sharing a block key
 * under any rule; a pair sharing several keys is compared once, under the first rule it shares.
 * `keysA`/`keysB` hold SIGNATURE_ROW_BYTES bytes per row, as in an encoded file's `block_keys`;
 * popcounts, when given with the filters, must be theirs (readEncodedFile checks that).
 * Order is unspecified (greedySolve orders them).
 *
 * @example const found = signatureCandidates(a, b, keysA, keysB, { threshold: 0.85 });
 */
export function signatureCandidates(
  a: FilterSet & { popcounts?: Uint16Array },
  b: FilterSet & { popcounts?: Uint16Array },
  keysA: Uint8Array,
  keysB: Uint8Array,
  options: SignatureJoinOptions,
): SignatureCandidates {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  // The smaller side is indexed and laid out per block; the larger streams past it.
  const swapped = b.count < a.count;
  const index = sideOf(swapped ? b : a);
  const stream = sideOf(swapped ? a : b);
  const indexKeys = keyWords(swapped ? keysB : keysA, index.count);
  const streamKeys = keyWords(swapped ? keysA : keysB, stream.count);
  const windowRows = Math.max(1, Math.min(stream.count, Math.floor(WINDOW_BYTES / (4 * Math.ceil(a.filterBits / 32)))));
  const verifier =
    (options.verifier ?? 'kernel') === 'kernel'
      ? kernelVerifier(index, stream, options.threshold, windowRows) ?? referenceVerifier(index, stream, thresholdTable(a.filterBits, options.threshold))
      : referenceVerifier(index, stream, thresholdTable(a.filterBits, options.threshold));
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  const sink = new CandidateSink();
  const emit: Emit = (i, j, common) => {
    const score = diceFromCounts(common, index.popcounts[i], stream.popcounts[j]);
    if (swapped) sink.push(j, i, score);
    else sink.push(i, j, score);
    if (sink.length > maxCandidates) {
      throw new UserError(`more than ${maxCandidates} candidate pairs at threshold ${options.threshold}: raise --threshold or --max-candidates`);
    }
  };
  let compared = 0;
  for (let rule = 0; rule < RULES; rule++) {
    const blocks = blocksOf(indexKeys, index.count, streamKeys, stream.count, rule);
    const laidOut = blocks.index.rows;
    const starts = blocks.index.start;
    const blockCount = starts.length - 1;
    verifier.layOut(laidOut);
    // The laid-out rows' keys in layout order, so that skipping pairs compared under an earlier
    // rule reads memory sequentially.
    const laidOutKeys = new Int32Array(rule === 0 ? 0 : laidOut.length * ROW_WORDS);
    for (let t = 0; rule > 0 && t < laidOut.length; t++) {
      for (let w = 0; w < ROW_WORDS; w++) laidOutKeys[t * ROW_WORDS + w] = indexKeys[laidOut[t] * ROW_WORDS + w];
    }
    // The stream side a window at a time, block by block within it: a block's run of index rows
    // is read from memory once per window and stays in cache for the window's rows in that
    // block, while the stream rows are read from a few tens of MB rather than gigabytes.
    for (let window = 0; window < stream.count; window += windowRows) {
      const end = Math.min(stream.count, window + windowRows);
      const inWindow = groupRows(blocks.streamBlock.subarray(window, end), blockCount);
      verifier.window(window, end);
      for (let block = 0; block < blockCount; block++) {
        const from = starts[block];
        const to = starts[block + 1];
        for (let s = inWindow.start[block]; s < inWindow.start[block + 1]; s++) {
          const j = window + inWindow.rows[s];
          if (rule === 0) {
            verifier.compare(j, from, to, emit);
            compared += to - from;
            continue;
          }
          // Pairs sharing a key under an earlier rule were compared there: split the run around them.
          let run = from;
          for (let t = from; t < to; t++) {
            if (!sharesKey(laidOutKeys, t, streamKeys, j, rule)) continue;
            if (t > run) verifier.compare(j, run, t, emit);
            compared += t - run;
            run = t + 1;
          }
          if (to > run) verifier.compare(j, run, to, emit);
          compared += to - run;
        }
      }
    }
  }
  const pairsTotal = a.count * b.count;
  return { ...sink.view(), pairsTotal, pairsCompared: compared, reductionRatio: pairsTotal === 0 ? 1 : 1 - compared / pairsTotal };
}
