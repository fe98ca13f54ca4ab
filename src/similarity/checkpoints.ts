// Tunes the kernel's early-exit checkpoints to the data: where a block of pairs can first be
// dropped depends on fill and threshold (about (1-T)/(1-fill) of the words for random pairs), so
// the matcher simulates candidate checkpoint sets on a sample of its own pairs and keeps the cheapest.
import { BLOCK, MAX_CHECKPOINTS } from './dice-kernel-source.js';
import { popcountsCanMatch } from './threshold-table.js';

/** Filters as the tuner sees them: `count` rows of `filterBits / 8` bytes (a multiple of 8). */
interface Rows {
  count: number;
  clks: Uint8Array;
}

/**
 * A checkpoint test costs about as much as 1.7 words of a block (measured in instructions of
 * the generated code: ~36 for the test against ~21 per word for four pairs).
 */
const CHECK_COST_IN_WORDS = 1.7;
const SAMPLE_A = 32;
const SAMPLE_B = 128;
// Positions tried: at most 16 evenly spaced word indices, so long filters stay cheap to tune.
const GRID = 16;

const BYTE_ONES = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_ONES[i] = (i & 1) + BYTE_ONES[i >> 1];

function wordOnes(bytes: Uint8Array, at: number, words: number, other?: Uint8Array, otherAt = 0): Int32Array {
  const out = new Int32Array(words);
  for (let w = 0; w < words; w++) {
    let ones = 0;
    for (let i = 0; i < 8; i++) {
      const byte = bytes[at + 8 * w + i] & (other === undefined ? 0xff : other[otherAt + 8 * w + i]);
      ones += BYTE_ONES[byte];
    }
    out[w] = ones;
  }
  return out;
}

/** All subsets of `positions` with 1..MAX_CHECKPOINTS members, ascending, plus the empty set. */
function candidateSets(positions: number[]): number[][] {
  const sets: number[][] = [[]];
  const extend = (from: number, chosen: number[]): void => {
    for (let i = from; i < positions.length; i++) {
      const next = [...chosen, positions[i]];
      sets.push(next);
      if (next.length < MAX_CHECKPOINTS) extend(i + 1, next);
    }
  };
  extend(0, []);
  return sets;
}

/**
 * Checkpoints that minimise the simulated cost of scanning a sample of A×B pairs (those the
 * popcount bound lets through), grouped into blocks of BLOCK as the kernel scans them.
 * Deterministic: rows are sampled at even strides.
 */
export function chooseCheckpoints(filterBits: number, table: Int32Array, a: Rows, b: Rows): number[] {
  const words = filterBits / 64;
  const bytes = filterBits / 8;
  if (words < 2 || a.count === 0 || b.count === 0) return [];
  const pick = (count: number, wanted: number): number[] => {
    const n = Math.min(count, wanted);
    return Array.from({ length: n }, (_, i) => Math.floor((i * count) / n));
  };
  const rowsA = pick(a.count, SAMPLE_A);
  const rowsB = pick(b.count, SAMPLE_B);
  const suffix = (ones: Int32Array): Int32Array => {
    const out = new Int32Array(words + 1);
    for (let w = words - 1; w >= 0; w--) out[w] = out[w + 1] + ones[w];
    return out;
  };
  const restB = rowsB.map((j) => suffix(wordOnes(b.clks, j * bytes, words)));

  // The bound |A∧B| <= prefix + min(rest A, rest B) only falls as words are added, so once a
  // block is dead it stays dead: each block is summed up by the first grid position where it is.
  const positions = [...new Set(Array.from({ length: GRID - 1 }, (_, k) => Math.round(((k + 1) * words) / GRID)))].filter(
    (w) => w > 0 && w < words,
  );
  const deadFrom = new Float64Array(positions.length + 1); // blocks first dead at positions[i]; last: never
  let blocks = 0;
  for (const i of rowsA) {
    const restA = suffix(wordOnes(a.clks, i * bytes, words));
    let firstDead = 0; // the latest position at which some pair of the block was still alive, + 1
    let inBlock = 0;
    rowsB.forEach((j, index) => {
      const pa = restA[0];
      const pb = restB[index][0];
      if (!popcountsCanMatch(table, pa, pb)) return;
      const common = wordOnes(a.clks, i * bytes, words, b.clks, j * bytes);
      const least = table[pa + pb];
      let prefix = 0;
      let word = 0;
      let alive = 0;
      for (let p = 0; p < positions.length; p++) {
        for (; word < positions[p]; word++) prefix += common[word];
        if (prefix + Math.min(restA[word], restB[index][word]) >= least) alive = p + 1;
      }
      firstDead = Math.max(firstDead, alive);
      if (++inBlock === BLOCK) {
        deadFrom[firstDead]++;
        blocks++;
        firstDead = 0;
        inBlock = 0;
      }
    });
  }
  if (blocks === 0) return [];

  let best: number[] = [];
  let bestCost = Infinity;
  for (const set of candidateSets(positions.map((_, p) => p))) {
    let cost = 0;
    for (let dead = 0; dead <= positions.length; dead++) {
      if (deadFrom[dead] === 0) continue;
      // The block runs to the first checkpoint at or after the position where it is dead.
      const stop = set.findIndex((p) => p >= dead);
      const done = stop < 0 ? words : positions[set[stop]];
      const checks = stop < 0 ? set.length : stop + 1;
      cost += deadFrom[dead] * (done + CHECK_COST_IN_WORDS * checks);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = set.map((p) => positions[p]);
    }
  }
  return best;
}
