// Greedy 1:1 assignment as anonlink's greedy_solve reduces to for two parties (vectors README
// §5.3): walk candidates by score descending, then index_a, then index_b, ascending, and accept a
// pair when neither record is taken. Ordering is three stable counting sorts, O(n + rows).
import type { Candidates } from '../match/tile.js';

export interface Matching {
  length: number;
  a: Int32Array;
  b: Int32Array;
  score: Float64Array;
}

/** Stable counting sort of `order` by `key(order[i])`, keys in [0, buckets). */
export function stableSortBy(order: Uint32Array, key: (index: number) => number, buckets: number): Uint32Array {
  const starts = new Uint32Array(buckets + 1);
  for (let i = 0; i < order.length; i++) starts[key(order[i]) + 1]++;
  for (let k = 1; k <= buckets; k++) starts[k] += starts[k - 1];
  const sorted = new Uint32Array(order.length);
  for (let i = 0; i < order.length; i++) sorted[starts[key(order[i])]++] = order[i];
  return sorted;
}

/**
 * Candidate indices in anonlink's order: score descending, index_a ascending, index_b ascending.
 * Least significant key first (radix style), each pass stable.
 */
export function candidateOrder(c: Candidates, countA: number, countB: number): Uint32Array {
  let order: Uint32Array = new Uint32Array(c.length);
  for (let i = 0; i < c.length; i++) order[i] = i;
  order = stableSortBy(order, (i) => c.b[i], countB);
  order = stableSortBy(order, (i) => c.a[i], countA);
  return byScoreDescending(order, c.score.subarray(0, c.length));
}

/** Stable sort of `order` by score descending (dense ranks of the distinct scores, then counting sort). */
export function byScoreDescending(order: Uint32Array, scores: Float64Array): Uint32Array {
  const distinct = Array.from(new Set(scores)).sort((x, y) => y - x);
  const rank = new Map<number, number>();
  distinct.forEach((score, i) => rank.set(score, i));
  const ranks = new Uint32Array(scores.length);
  for (let i = 0; i < scores.length; i++) ranks[i] = rank.get(scores[i]) ?? 0;
  return stableSortBy(order, (i) => ranks[i], distinct.length);
}

/**
 * Greedy 1:1 matching of the candidates; pairs come back sorted by index_a.
 *
 * @example
 * greedySolve({ length: 2, a: Int32Array.of(0, 0), b: Int32Array.of(0, 1), score: Float64Array.of(0.9, 0.9) }, 1, 2)
 * // matches (0, 0): equal scores go to the lower index_b
 */
export function greedySolve(c: Candidates, countA: number, countB: number): Matching {
  const takenA = new Uint8Array(countA);
  const takenB = new Uint8Array(countB);
  const accepted: number[] = [];
  for (const i of candidateOrder(c, countA, countB)) {
    const a = c.a[i];
    const b = c.b[i];
    if (takenA[a] || takenB[b]) continue;
    takenA[a] = 1;
    takenB[b] = 1;
    accepted.push(i);
  }
  accepted.sort((x, y) => c.a[x] - c.a[y]);
  const out: Matching = {
    length: accepted.length,
    a: new Int32Array(accepted.length),
    b: new Int32Array(accepted.length),
    score: new Float64Array(accepted.length),
  };
  accepted.forEach((i, k) => {
    out.a[k] = c.a[i];
    out.b[k] = c.b[i];
    out.score[k] = c.score[i];
  });
  return out;
}
