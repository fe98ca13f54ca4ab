// Deduplication's self-join: the all-pairs tiles and the Hamming LSH tables over one set give
// each unordered pair i < j once, never a record with itself, against a brute-force reference.
import { describe, expect, it } from 'vitest';
import { blockedSelfCandidates } from '../src/blocking/blocked-candidates.js';
import { findSelfCandidates, planTiles, runTiles } from '../src/match/candidates.js';
import { loadSharedFilters, type FilterSet } from '../src/match/shared-filters.js';
import { evenAndOddRows } from '../src/match/split-rows.js';
import type { Candidates } from '../src/match/tile.js';
import { andPopcountReference, diceFromCounts } from '../src/similarity/dice-reference.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';

function bruteForceSelf(set: FilterSet, threshold: number): string[] {
  const bytes = set.filterBits / 8;
  const ones = (r: number): number => andPopcountReference(set.clks, r * bytes, set.clks, r * bytes, bytes);
  const out: string[] = [];
  for (let i = 0; i < set.count; i++) {
    for (let j = i + 1; j < set.count; j++) {
      const score = diceFromCounts(andPopcountReference(set.clks, i * bytes, set.clks, j * bytes, bytes), ones(i), ones(j));
      if (score >= threshold) out.push(`${i},${j},${score}`);
    }
  }
  return out.sort();
}

function rows(c: Candidates): string[] {
  return Array.from({ length: c.length }, (_, k) => `${c.a[k]},${c.b[k]},${c.score[k]}`).sort();
}

function concat(...sets: FilterSet[]): FilterSet {
  const clks = new Uint8Array(sets.reduce((n, s) => n + s.clks.length, 0));
  let at = 0;
  for (const s of sets) {
    clks.set(s.clks, at);
    at += s.clks.length;
  }
  return { filterBits: sets[0].filterBits, count: sets.reduce((n, s) => n + s.count, 0), clks };
}

/** A file with duplicates: random records, near-copies of some of them (groups of 2 and 3), exact copies, shuffled. */
function withDuplicates(bits: number, seed: number): FilterSet {
  const random = seeded(seed);
  const base = randomFilters(150, bits, 0.5, random);
  const near = perturbed({ ...base, count: 60, clks: base.clks.slice(0, (60 * bits) / 8) }, bits / 20, random);
  const third = perturbed({ ...base, count: 20, clks: base.clks.slice(0, (20 * bits) / 8) }, bits / 12, random);
  const exact = { ...base, count: 5, clks: base.clks.slice((100 * bits) / 8, (105 * bits) / 8) };
  const all = concat(base, near, third, exact);
  // Shuffle rows so duplicates are neither adjacent nor in popcount order.
  const bytes = bits / 8;
  const order = Array.from({ length: all.count }, (_, i) => i).sort(() => random() - 0.5);
  const clks = new Uint8Array(all.clks.length);
  order.forEach((from, to) => clks.set(all.clks.subarray(from * bytes, from * bytes + bytes), to * bytes));
  return { ...all, clks };
}

describe('self-join of the all-pairs tiles', () => {
  const set = withDuplicates(1024, 21);

  for (const threshold of [0.5, 0.8, 0.9, 1]) {
    it(`equals brute force over i < j at threshold ${threshold}, one thread and two workers`, async () => {
      const expected = bruteForceSelf(set, threshold);
      const inline = await findSelfCandidates(set, { threshold, workers: 0 });
      expect(rows(inline)).toEqual(expected);
      for (let k = 0; k < inline.length; k++) expect(inline.a[k]).toBeLessThan(inline.b[k]);
      expect(inline.pairsTotal).toBe((set.count * (set.count - 1)) / 2);
      expect(inline.pairsScanned).toBeLessThanOrEqual(inline.pairsTotal);
      // Small tiles so the triangle is cut across workers at many places.
      const shared = loadSharedFilters(set, null, threshold, 3);
      const tiles: Array<[number, number]> = [];
      for (let i = 0; i < set.count; i += 23) tiles.push([i, Math.min(set.count, i + 23)]);
      expect(rows(await runTiles(shared, tiles, 2, 1e9))).toEqual(expected);
    });
  }

  it('exact copies score 1 once per pair, and no record is paired with itself', async () => {
    const found = await findSelfCandidates(set, { threshold: 1, workers: 0 });
    // Five exact copies of five records: five pairs at 1 (plus any chance identical filters, none here).
    expect(found.length).toBe(5);
    expect(Array.from(found.score)).toEqual([1, 1, 1, 1, 1]);
  });

  it('plans its work over the triangle, not the square', () => {
    const shared = loadSharedFilters(set, null, 0.01, 1);
    const { work } = planTiles(shared, 1);
    expect(work).toBe((set.count * (set.count - 1)) / 2);
  });

  it('other filter lengths, and sets of zero, one and two records', async () => {
    const random = seeded(8);
    for (const bits of [8, 64, 192, 1000, 2048]) {
      const s = withDuplicates(bits, bits);
      expect(rows(await findSelfCandidates(s, { threshold: 0.8, workers: 0 }))).toEqual(bruteForceSelf(s, 0.8));
    }
    for (const count of [0, 1, 2]) {
      const s = randomFilters(count, 256, 0.5, random);
      const twin = count === 2 ? { ...s, clks: Uint8Array.from([...s.clks.slice(0, 32), ...s.clks.slice(0, 32)]) } : s;
      const found = await findSelfCandidates(twin, { threshold: 0.9, workers: 2 });
      expect(rows(found)).toEqual(bruteForceSelf(twin, 0.9));
      expect(found.length).toBe(count === 2 ? 1 : 0);
    }
  });
});

describe('self-join of the LSH tables', () => {
  // Bigger, so the plan has enough rows to sample: 3,000 random records with 600 near-copies.
  const random = seeded(31);
  const base = randomFilters(3000, 1024, 0.5, random);
  const copies = perturbed({ ...base, count: 600, clks: base.clks.slice(0, 600 * 128) }, 40, random);
  const set = concat(base, copies);

  it('finds at least 99% of the self-join candidates, each once as (lower, higher), none outside them', async () => {
    const all = new Set(rows(await findSelfCandidates(set, { threshold: 0.85, workers: 0 })));
    const blocked = await blockedSelfCandidates(set, { threshold: 0.85, workers: 0, seed: 4 });
    const found = rows(blocked);
    expect(new Set(found).size).toBe(found.length);
    for (const pair of found) expect(all.has(pair)).toBe(true);
    for (let k = 0; k < blocked.length; k++) expect(blocked.a[k]).toBeLessThan(blocked.b[k]);
    expect(all.size).toBeGreaterThan(550);
    expect(found.length / all.size).toBeGreaterThanOrEqual(0.99);
    expect(blocked.pairsTotal).toBe((set.count * (set.count - 1)) / 2);
    expect(blocked.reductionRatio).toBeGreaterThan(0.9);
  });

  it('is deterministic for a seed, on one thread and on two workers', async () => {
    const first = await blockedSelfCandidates(set, { threshold: 0.85, workers: 0, seed: 6 });
    const again = await blockedSelfCandidates(set, { threshold: 0.85, workers: 2, seed: 6 });
    expect(rows(again)).toEqual(rows(first));
    expect(again.pairsCompared).toBe(first.pairsCompared);
  });
});

describe('evenAndOddRows', () => {
  it('splits rows alternately into two sets that together hold every row once', () => {
    const set = randomFilters(7, 64, 0.5, seeded(2));
    const [even, odd] = evenAndOddRows(set);
    expect([even.count, odd.count]).toEqual([4, 3]);
    for (let r = 0; r < 7; r++) {
      const half = r % 2 === 0 ? even : odd;
      const row = Math.floor(r / 2);
      expect(Array.from(half.clks.subarray(row * 8, row * 8 + 8))).toEqual(Array.from(set.clks.subarray(r * 8, r * 8 + 8)));
    }
  });
});
