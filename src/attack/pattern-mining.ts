// Frequency / pattern-mining attack in the style of Christen, Ranbaduge, Vatsalan and Schnell (2018):
// align frequent reference q-grams with sets of bit positions that are set together in about as
// many filters as the q-gram has reference records, then read each filter's q-grams and re-identify it.
import { andCount, positionColumns, setCount } from './bitset.js';
import { bitsPerTokenOf, tokenTable, type TokenTable } from './plaintext.js';
import type { AttackInput, AttackOutcome, MappedToken } from './types.js';

export interface PatternMiningOptions {
  /** Most frequent tokens the attack tries to align (the paper's attack also stops at a frequency floor). */
  maxTokens?: number;
  /** Seed positions tried per token. */
  seeds?: number;
  /** Least Dice between a filter's recovered q-grams and a reference row to call it re-identified. */
  minScore?: number;
}

interface Aligned {
  token: number;
  positions: number[];
  /** Records predicted to contain the token (bitset over records). */
  support: Uint32Array;
}

export function patternMiningAttack(input: AttackInput, options: PatternMiningOptions = {}): AttackOutcome {
  const { plan, encodings, reference } = input;
  const n = encodings.count;
  const m = reference.length;
  const table = tokenTable(plan, reference);
  const frequency = new Int32Array(table.vocabulary.length);
  for (const tokens of table.rowTokens) for (const t of tokens) frequency[t]++;
  // The paper mines down to a minimum support; below a handful of records a frequency says nothing.
  const minSupport = Math.max(5, Math.ceil(0.01 * m));
  const candidates = Array.from(frequency.keys())
    .filter((t) => frequency[t] >= minSupport)
    .sort((a, b) => frequency[b] - frequency[a] || a - b)
    .slice(0, options.maxTokens ?? 300);

  const { columns, recordWords } = positionColumns(encodings);
  const counts = columns.map(setCount);
  const fill = counts.reduce((sum, c) => sum + c, 0) / Math.max(1, n * counts.length);
  const together = cooccurrence(encodings, columns, recordWords);
  const ranked = rankPartners(together, encodings.filterBits, 96);
  const referenceSets = tokenRowSets(table, candidates, m);
  const aligned: Aligned[] = [];
  const claimed = new Int32Array(encodings.filterBits).fill(-1);
  const seedsPerToken = options.seeds ?? 256;
  const blip = plan.hardening.blip;

  for (const token of candidates) {
    const field = table.vocabulary[token].field;
    const k = Math.min(32, Math.max(1, Math.round(bitsPerTokenOf(plan.fields[field]))));
    // BLIP clears some of a token's bits in some filters; an attacker who knows p expects fewer
    // filters to keep all k of them.
    const retained = (1 - blip) ** k;
    const share = frequency[token] / m;
    const expected = share * n * retained;
    // Sampling noise of a count in two independent populations (the reference need not be the
    // encoded population).
    const sigma = Math.max(1, Math.sqrt(2 * expected * (1 - share)));
    const low = Math.max(2, expected - 3 * sigma);
    // A position set in most filters that should lack the token belongs to nothing in particular.
    const high = share * n + 0.5 * (1 - share) * n;
    const eligible = (p: number): boolean => counts[p] >= low && counts[p] <= high;
    // A token's own positions are set by it and, in the other filters, by chance at the mean fill rate.
    const target = share * n + (1 - share) * n * fill;
    const seeds = Array.from(counts.keys())
      .filter((p) => eligible(p) && claimed[p] < 0 && counts[p] >= low)
      .sort((a, b) => Math.abs(counts[a] - target) - Math.abs(counts[b] - target) || a - b)
      .slice(0, seedsPerToken);
    const seen = new Set<string>();

    let best: { positions: number[]; support: Uint32Array; cost: number } | null = null;
    const covered = new Uint8Array(encodings.filterBits);
    for (const seed of seeds) {
      // A seed inside a pattern already grown for this token would grow the same pattern again.
      if (covered[seed]) continue;
      const grown = growPattern(seed, k, low, columns, together, ranked, eligible);
      if (grown === null || grown.positions.length < Math.max(2, Math.ceil(k / 2))) continue;
      const key = grown.positions.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      let cost = Math.abs(setCount(grown.support) - expected) / sigma;
      // Christen et al. partition filters by the q-grams already found; comparing joint frequencies
      // with those q-grams plays the same role and separates q-grams of similar frequency.
      cost += consistency(grown.support, token, aligned, referenceSets, n / m, retained);
      if (best === null || cost < best.cost) best = { ...grown, cost };
      if (cost < 0.5) for (const p of grown.positions) covered[p] = 1;
    }
    if (best === null || best.cost > 4) continue;
    for (const p of best.positions) if (claimed[p] < 0) claimed[p] = token;
    aligned.push({ token, positions: best.positions, support: best.support });
  }

  const mapped: MappedToken[] = aligned.map((a) => ({ ...table.vocabulary[a.token], positions: a.positions }));
  return {
    name: 'pattern-mining',
    assignments: reidentify(input, table, aligned, options.minScore ?? 0.8),
    tokensConsidered: candidates.map((t) => table.vocabulary[t]),
    mapped,
  };
}

/**
 * Co-occurrence counts of every pair of positions (records with both set), row-major L x L:
 * the frequent 2-itemsets that pattern growth starts from. Sparse filters are counted record by
 * record; dense ones (balanced filters are half ones) column pair by column pair, whichever is cheaper.
 */
function cooccurrence(encodings: AttackInput['encodings'], columns: Uint32Array[], recordWords: number): Int32Array {
  const L = encodings.filterBits;
  const width = L / 8;
  const counts = new Int32Array(L * L);
  let perRecord = 0;
  const bits = new Uint16Array(L);
  for (let r = 0; r < encodings.count; r++) perRecord += encodings.popcounts[r] * encodings.popcounts[r];
  if (perRecord <= (L * L * recordWords) / 2) {
    for (let r = 0; r < encodings.count; r++) {
      let size = 0;
      for (let byte = 0; byte < width; byte++) {
        const value = encodings.clks[r * width + byte];
        if (value !== 0) for (let bit = 0; bit < 8; bit++) if (value & (0x80 >>> bit)) bits[size++] = byte * 8 + bit;
      }
      for (let i = 0; i < size; i++) {
        const row = bits[i] * L;
        for (let j = 0; j < size; j++) counts[row + bits[j]]++;
      }
    }
    return counts;
  }
  for (let p = 0; p < L; p++) {
    for (let q = p; q < L; q++) {
      const c = andCount(columns[p], columns[q]);
      counts[p * L + q] = c;
      counts[q * L + p] = c;
    }
  }
  return counts;
}

/** For each position, the `keep` positions most often set together with it, most often first. */
function rankPartners(together: Int32Array, L: number, keep: number): Uint16Array[] {
  const order = Array.from({ length: L }, (_, q) => q);
  return Array.from({ length: L }, (_, p) => {
    const row = p * L;
    const others = order.filter((q) => q !== p).sort((a, b) => together[row + b] - together[row + a] || a - b);
    return Uint16Array.from(others.slice(0, keep));
  });
}

/**
 * From one seed position, the positions most often set together with it, kept while the records
 * holding all of them stay at least `low`: the frequent bit pattern of one q-gram.
 */
function growPattern(
  seed: number,
  k: number,
  low: number,
  columns: Uint32Array[],
  together: Int32Array,
  ranked: readonly Uint16Array[],
  eligible: (p: number) => boolean,
): { positions: number[]; support: Uint32Array } | null {
  const row = seed * columns.length;
  const partners: number[] = [];
  for (const q of ranked[seed]) {
    if (together[row + q] < low) break;
    if (eligible(q)) partners.push(q);
  }
  // A q-gram's own k positions all co-occur with each other; a seed without them is not one.
  if (partners.length < Math.max(1, Math.ceil(k / 2) - 1)) return null;
  const support = columns[seed].slice();
  const positions = [seed];
  for (const p of partners) {
    if (positions.length >= k) break;
    if (andCount(support, columns[p]) < low) continue;
    for (let w = 0; w < support.length; w++) support[w] &= columns[p][w];
    positions.push(p);
  }
  positions.sort((a, b) => a - b);
  return { positions, support };
}

/** Reference rows holding each candidate token, as bitsets over reference rows. */
function tokenRowSets(table: TokenTable, candidates: readonly number[], m: number): Map<number, Uint32Array> {
  const sets = new Map<number, Uint32Array>();
  for (const t of candidates) sets.set(t, new Uint32Array(Math.ceil(m / 32)));
  table.rowTokens.forEach((tokens, row) => {
    for (const t of tokens) {
      const set = sets.get(t);
      if (set) set[row >>> 5] |= 1 << (row & 31);
    }
  });
  return sets;
}

/** Mean deviation of the joint support with the most frequent tokens aligned so far from the reference's. */
function consistency(
  support: Uint32Array,
  token: number,
  aligned: readonly Aligned[],
  referenceSets: Map<number, Uint32Array>,
  scale: number,
  retained: number,
): number {
  const own = referenceSets.get(token);
  if (!own || aligned.length === 0) return 0;
  let total = 0;
  const considered = aligned.slice(0, 20);
  for (const other of considered) {
    const expected = andCount(own, referenceSets.get(other.token) ?? own) * scale * retained * retained;
    const observed = andCount(support, other.support);
    total += Math.abs(observed - expected) / Math.max(2, Math.sqrt(expected) + 0.1 * expected);
  }
  return total / considered.length;
}

/**
 * Reads which aligned q-grams each filter holds and assigns the reference row whose q-grams (among
 * the aligned ones) agree best, when that row is unambiguous: the paper's re-identification step.
 */
function reidentify(input: AttackInput, table: TokenTable, aligned: readonly Aligned[], minScore: number): Int32Array {
  const { encodings } = input;
  const n = encodings.count;
  const m = table.rowTokens.length;
  const width = encodings.filterBits / 8;
  const assignments = new Int32Array(n).fill(-1);
  if (aligned.length === 0) return assignments;
  const postings: number[][] = aligned.map(() => []);
  const projected = new Int32Array(m);
  const slot = new Map<number, number>();
  aligned.forEach((a, i) => slot.set(a.token, i));
  table.rowTokens.forEach((tokens, row) => {
    for (const t of tokens) {
      const i = slot.get(t);
      if (i !== undefined) {
        postings[i].push(row);
        projected[row]++;
      }
    }
  });
  const allowedMisses = aligned.map((a) => (input.plan.hardening.blip > 0 ? Math.max(1, Math.round(a.positions.length * input.plan.hardening.blip * 3)) : 0));
  const common = new Int32Array(m);
  const touched: number[] = [];
  for (let r = 0; r < n; r++) {
    const base = r * width;
    const present: number[] = [];
    aligned.forEach((a, i) => {
      let missing = 0;
      for (const p of a.positions) if ((encodings.clks[base + (p >>> 3)] & (0x80 >>> (p & 7))) === 0) missing++;
      if (missing <= allowedMisses[i]) present.push(i);
    });
    if (present.length < 2) continue;
    touched.length = 0;
    for (const i of present) {
      for (const row of postings[i]) {
        if (common[row] === 0) touched.push(row);
        common[row]++;
      }
    }
    let bestScore = -1;
    let bestRows: number[] = [];
    for (const row of touched) {
      const score = (2 * common[row]) / (present.length + projected[row]);
      common[row] = 0;
      if (score > bestScore + 1e-12) {
        bestScore = score;
        bestRows = [row];
      } else if (Math.abs(score - bestScore) <= 1e-12) bestRows.push(row);
    }
    if (bestScore < minScore) continue;
    bestRows.sort((a, b) => a - b);
    // Rows the recovered q-grams cannot tell apart are a re-identification only if they are the same value.
    if (bestRows.every((row) => sameTokens(table.rowTokens[row], table.rowTokens[bestRows[0]]))) assignments[r] = bestRows[0];
  }
  return assignments;
}

function sameTokens(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
