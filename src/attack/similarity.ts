// Pairwise similarity on both sides of the graph attack (Vidanage et al. 2019): Dice of filters
// for the encodings, token-set Dice of the prepared plaintext for the reference, each turned into
// a rank within its own pair distribution so the two scales can be compared without the secret.
import { commonBits, filterWords } from './bitset.js';
import { saltGroups, tokenTable } from './plaintext.js';
import type { AttackInput } from './types.js';

export interface PairSimilarity {
  size: number;
  similarity(i: number, j: number): number;
}

/** Dice coefficient of encoded records i and j. */
export function encodedSimilarity(encodings: AttackInput['encodings']): PairSimilarity {
  const { data, words } = filterWords(encodings);
  const pop = encodings.popcounts;
  return {
    size: encodings.count,
    similarity: (i, j) => {
      const total = pop[i] + pop[j];
      return total === 0 ? 0 : (2 * commonBits(data, words, i, j)) / total;
    },
  };
}

/**
 * Dice of the reference rows' token sets, each token weighted by the bits its field sets, which is
 * what filter Dice approximates. Rows the schema salts differently get 0: their filters share no
 * token bits, and an attacker who knows the schema knows that.
 */
export function referenceSimilarity(input: AttackInput): PairSimilarity {
  const table = tokenTable(input.plan, input.reference);
  const salts = saltGroups(input.plan, input.reference);
  const weight = table.weight;
  const mass = table.rowTokens.map((tokens) => tokens.reduce((sum, t) => sum + weight[t], 0));
  return {
    size: table.rowTokens.length,
    similarity: (i, j) => {
      if (salts && salts[i] !== salts[j]) return 0;
      const a = table.rowTokens[i];
      const b = table.rowTokens[j];
      let x = 0;
      let y = 0;
      let common = 0;
      while (x < a.length && y < b.length) {
        if (a[x] === b[y]) {
          common += weight[a[x]];
          x++;
          y++;
        } else if (a[x] < b[y]) x++;
        else y++;
      }
      const total = mass[i] + mass[j];
      return total === 0 ? 0 : (2 * common) / total;
    },
  };
}

/**
 * Maps a similarity to its rank (0..1) among a random sample of the side's pairs. Both sides then
 * speak the same scale: the paper calibrates encoded against plaintext similarity for the same reason.
 */
export interface RankScale {
  rank(similarity: number): number;
  /** The smallest sampled similarity whose rank can reach `rank` (a cheap pre-filter). */
  floorFor(rank: number): number;
}

export function rankScale(source: PairSimilarity, samples: number, random: () => number): RankScale {
  const n = source.size;
  const sample = new Float64Array(n < 2 ? 0 : samples);
  for (let s = 0; s < sample.length; s++) {
    const i = Math.floor(random() * n);
    let j = Math.floor(random() * (n - 1));
    if (j >= i) j++;
    sample[s] = source.similarity(i, j);
  }
  sample.sort();
  const below = (value: number, inclusive: boolean): number => {
    let lo = 0;
    let hi = sample.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sample[mid] < value || (inclusive && sample[mid] === value)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    // Ties (plaintext similarities take few distinct values) get their mid-rank.
    rank: (value) => (sample.length === 0 ? 0 : (below(value, false) + below(value, true)) / 2 / sample.length),
    floorFor: (rank) => (sample.length === 0 ? 0 : sample[Math.min(sample.length - 1, Math.floor(rank * sample.length * 0.999))]),
  };
}
