// Similarity-graph matching attack in the style of Vidanage, Ranbaduge, Christen and Schnell (2019):
// build a similarity graph over the encodings and one over the plaintext reference, describe every
// node by features of its neighbourhood, align nodes whose features agree, then (seed-and-extend,
// as in graph de-anonymisation) re-align every node by its similarities to the pairs aligned best.
import { seededRandom } from '../random.js';
import { encodedSimilarity, rankScale, referenceSimilarity, type PairSimilarity, type RankScale } from './similarity.js';
import type { AttackInput, AttackOutcome } from './types.js';

export interface GraphMatchingOptions {
  /** Share of all pairs that become edges on each side (most similar first). */
  edgeShare?: number;
  /** Share of pairs treated as informative when comparing a node with the anchors. */
  anchorShare?: number;
  /** Seed-and-extend rounds after the feature alignment. */
  rounds?: number;
  /** Pairs sampled per side to rank similarities. */
  samples?: number;
}

interface Graph {
  neighbours: number[][];
  /** Per edge, how far into the top `edgeShare` of pairs it lies (0 at the edge threshold, 1 at the top). */
  strength: number[][];
}

interface Side {
  source: PairSimilarity;
  scale: RankScale;
}

const HISTOGRAM_BINS = 8;

export function graphMatchingAttack(input: AttackInput, options: GraphMatchingOptions = {}): AttackOutcome {
  const edgeShare = options.edgeShare ?? 0.02;
  const anchorShare = options.anchorShare ?? 0.25;
  const samples = options.samples ?? 100_000;
  const random = seededRandom(input.seed);
  const makeSide = (source: PairSimilarity): Side => ({ source, scale: rankScale(source, samples, random) });
  const encoded = makeSide(encodedSimilarity(input.encodings));
  const plain = makeSide(referenceSimilarity(input));
  const n = encoded.source.size;
  const m = plain.source.size;

  const features = standardise([nodeFeatures(buildGraph(encoded, edgeShare), edgeShare), nodeFeatures(buildGraph(plain, edgeShare), edgeShare)]);
  let pairs = greedyOneToOne(topCandidates(features[0], features[1], 10), n, m);

  for (let round = 0; round < (options.rounds ?? 3); round++) {
    if (pairs.length === 0) break;
    const anchors = pairs.slice(0, Math.min(pairs.length, 600, Math.max(10, Math.round(0.1 * (round + 1) * Math.min(n, m)))));
    const encodedVectors = anchorVectors(encoded, anchors.map((p) => p.a), anchorShare);
    const plainVectors = anchorVectors(plain, anchors.map((p) => p.b), anchorShare);
    pairs = greedyOneToOne(anchorCandidates(encodedVectors, plainVectors, anchors.length, pairs), n, m);
  }

  const assignments = new Int32Array(n).fill(-1);
  for (const pair of pairs) assignments[pair.a] = pair.b;
  return { name: 'graph-matching', assignments, tokensConsidered: null, mapped: [] };
}

/** Edges between the pairs whose similarity ranks in the top `share` of the side's pairs. */
function buildGraph(side: Side, share: number): Graph {
  const size = side.source.size;
  const neighbours: number[][] = Array.from({ length: size }, () => []);
  const strength: number[][] = Array.from({ length: size }, () => []);
  const floor = 1 - share;
  const least = side.scale.floorFor(floor);
  for (let i = 0; i < size; i++) {
    for (let j = i + 1; j < size; j++) {
      const s = side.source.similarity(i, j);
      if (s === 0 || s < least) continue;
      const u = side.scale.rank(s);
      if (u < floor) continue;
      const v = (u - floor) / share;
      neighbours[i].push(j);
      neighbours[j].push(i);
      strength[i].push(v);
      strength[j].push(v);
    }
  }
  return { neighbours, strength };
}

/**
 * The paper's node features, scaled by the expected degree so graphs of different sizes compare:
 * degree, a histogram of edge strengths, mean and maximum strength, and mean neighbour degree.
 */
function nodeFeatures(graph: Graph, share: number): Float64Array[] {
  const size = graph.neighbours.length;
  const expected = Math.max(1, share * (size - 1));
  return graph.neighbours.map((list, i) => {
    const f = new Float64Array(4 + HISTOGRAM_BINS);
    const degree = list.length;
    f[0] = degree / expected;
    let sum = 0;
    let max = 0;
    let neighbourDegrees = 0;
    list.forEach((other, e) => {
      const v = graph.strength[i][e];
      f[4 + Math.min(HISTOGRAM_BINS - 1, Math.floor(v * HISTOGRAM_BINS))] += 1 / expected;
      sum += v;
      max = Math.max(max, v);
      neighbourDegrees += graph.neighbours[other].length;
    });
    f[1] = degree === 0 ? 0 : sum / degree;
    f[2] = max;
    f[3] = degree === 0 ? 0 : neighbourDegrees / degree / expected;
    return f;
  });
}

/** z-scores per feature over the nodes of both graphs, so no feature dominates the cosine. */
function standardise(sides: Float64Array[][]): Float64Array[][] {
  const all = sides.flat();
  const dims = all.length === 0 ? 0 : all[0].length;
  for (let d = 0; d < dims; d++) {
    let mean = 0;
    for (const f of all) mean += f[d];
    mean /= all.length;
    let variance = 0;
    for (const f of all) variance += (f[d] - mean) ** 2;
    const sd = Math.sqrt(variance / all.length) || 1;
    for (const f of all) f[d] = (f[d] - mean) / sd;
  }
  return sides;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < a.length; d++) {
    dot += a[d] * b[d];
    na += a[d] * a[d];
    nb += b[d] * b[d];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

interface Pair {
  a: number;
  b: number;
  score: number;
}

/** For each encoded node, the `keep` reference nodes with the most similar features. */
function topCandidates(left: Float64Array[], right: Float64Array[], keep: number): Pair[] {
  const out: Pair[] = [];
  left.forEach((f, a) => {
    const best: Pair[] = [];
    right.forEach((g, b) => {
      const score = cosine(f, g);
      if (best.length < keep || score > best[best.length - 1].score) {
        let at = best.length;
        while (at > 0 && best[at - 1].score < score) at--;
        best.splice(at, 0, { a, b, score });
        if (best.length > keep) best.pop();
      }
    });
    out.push(...best);
  });
  return out;
}

function byScore(x: Pair, y: Pair): number {
  return y.score - x.score || x.a - y.a || x.b - y.b;
}

/** Greedy 1:1 assignment, best score first; the result is in descending score order. */
function greedyOneToOne(candidates: Pair[], n: number, m: number): Pair[] {
  candidates.sort(byScore);
  const takenA = new Uint8Array(n);
  const takenB = new Uint8Array(m);
  const out: Pair[] = [];
  for (const pair of candidates) {
    if (takenA[pair.a] || takenB[pair.b]) continue;
    takenA[pair.a] = 1;
    takenB[pair.b] = 1;
    out.push(pair);
  }
  return out;
}

/** Each node's similarity to every anchor, as strength within the top `share` of pairs (0 below). */
function anchorVectors(side: Side, anchors: readonly number[], share: number): Float32Array[] {
  const floor = 1 - share;
  const least = side.scale.floorFor(floor);
  return Array.from({ length: side.source.size }, (_, i) => {
    const v = new Float32Array(anchors.length);
    anchors.forEach((anchor, a) => {
      const s = i === anchor ? 1 : side.source.similarity(i, anchor);
      if (s === 0 || s < least) return;
      const u = i === anchor ? 1 : side.scale.rank(s);
      if (u > floor) v[a] = (u - floor) / share;
    });
    return v;
  });
}

/**
 * Candidate pairs for the next round: an encoded node against the reference nodes closest to the
 * anchors it is closest to (and its current partner), scored by the cosine of anchor vectors.
 */
function anchorCandidates(left: Float32Array[], right: Float32Array[], anchors: number, previous: readonly Pair[]): Pair[] {
  const perAnchor = 30;
  const closest: number[][] = [];
  for (let a = 0; a < anchors; a++) {
    const order = right.map((_, b) => b).filter((b) => right[b][a] > 0);
    order.sort((x, y) => right[y][a] - right[x][a] || x - y);
    closest.push(order.slice(0, perAnchor));
  }
  const partner = new Map<number, number>();
  for (const pair of previous) partner.set(pair.a, pair.b);
  const out: Pair[] = [];
  left.forEach((vector, a) => {
    const strongest = Array.from(vector.keys())
      .filter((x) => vector[x] > 0)
      .sort((x, y) => vector[y] - vector[x] || x - y)
      .slice(0, 4);
    const candidates = new Set<number>();
    for (const anchor of strongest) for (const b of closest[anchor]) candidates.add(b);
    const current = partner.get(a);
    if (current !== undefined) candidates.add(current);
    for (const b of candidates) out.push({ a, b, score: cosine(vector, right[b]) });
  });
  return out;
}
