// Candidate generation against brute force over all pairs, in one thread and on worker threads,
// plus proof that workers read the one shared copy of the filters rather than per-task copies.
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { findCandidates, planTiles, runTiles } from '../src/match/candidates.js';
import { layoutViews, loadSharedFilters, type FilterSet } from '../src/match/shared-filters.js';
import type { Candidates, TileTask } from '../src/match/tile.js';
import { andPopcountReference, diceFromCounts } from '../src/similarity/dice-reference.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';

function bruteForce(a: FilterSet, b: FilterSet, threshold: number): string[] {
  const bytes = a.filterBits / 8;
  const ones = (s: FilterSet, r: number): number => andPopcountReference(s.clks, r * bytes, s.clks, r * bytes, bytes);
  const out: string[] = [];
  for (let i = 0; i < a.count; i++) {
    for (let j = 0; j < b.count; j++) {
      const score = diceFromCounts(andPopcountReference(a.clks, i * bytes, b.clks, j * bytes, bytes), ones(a, i), ones(b, j));
      if (score >= threshold) out.push(`${i},${j},${score}`);
    }
  }
  return out.sort();
}

function rows(c: Candidates): string[] {
  return Array.from({ length: c.length }, (_, k) => `${c.a[k]},${c.b[k]},${c.score[k]}`).sort();
}

/** A set with a wide popcount spread (fills from 20% to 80%) so the popcount bound prunes. */
function spread(count: number, bits: number, random: () => number): FilterSet {
  const parts = Array.from({ length: count }, () => randomFilters(1, bits, 0.2 + 0.6 * random(), random).clks);
  const clks = new Uint8Array(count * (bits / 8));
  parts.forEach((p, i) => clks.set(p, (i * bits) / 8));
  return { filterBits: bits, count, clks };
}

describe('findCandidates', () => {
  const random = seeded(3);
  const b = spread(300, 1024, random);
  const a = perturbed(b, 90, random);
  const c = spread(120, 1024, random);
  const aPlus: FilterSet = { ...a, count: a.count + c.count, clks: new Uint8Array([...a.clks, ...c.clks]) };

  for (const threshold of [0.5, 0.8, 0.9, 1]) {
    it(`equals brute force at threshold ${threshold}, one thread and two workers`, async () => {
      const expected = bruteForce(aPlus, b, threshold);
      const inline = await findCandidates(aPlus, b, { threshold, workers: 0 });
      expect(rows(inline)).toEqual(expected);
      expect(inline.pairsTotal).toBe(aPlus.count * b.count);
      expect(inline.pairsScanned).toBeLessThanOrEqual(inline.pairsTotal);
      // Small tiles so the work really spreads over the pool.
      const shared = loadSharedFilters(aPlus, b, threshold, 3);
      const tiles: Array<[number, number]> = [];
      for (let i = 0; i < aPlus.count; i += 37) tiles.push([i, Math.min(aPlus.count, i + 37)]);
      expect(rows(await runTiles(shared, tiles, 2, 1e9))).toEqual(expected);
    });
  }

  it('other filter lengths', async () => {
    for (const bits of [8, 64, 192, 1000, 2048]) {
      const bb = randomFilters(60, bits, 0.5, random);
      const aa = perturbed(bb, bits / 16, random);
      expect(rows(await findCandidates(aa, bb, { threshold: 0.8, workers: 0 }))).toEqual(bruteForce(aa, bb, 0.8));
    }
  });

  it('stops with a UserError past the candidate limit instead of growing without bound', async () => {
    const run = findCandidates(aPlus, b, { threshold: 0.3, workers: 0, maxCandidates: 1000 });
    await expect(run).rejects.toThrow(UserError);
    await expect(findCandidates(aPlus, b, { threshold: 0.3, workers: 0, maxCandidates: 1000 })).rejects.toThrow(/more than 1000 candidate pairs/);
    const shared = loadSharedFilters(aPlus, b, 0.3, 3);
    await expect(runTiles(shared, planTiles(shared, 8).tiles.length > 1 ? planTiles(shared, 8).tiles : [[0, 200], [200, 420]], 2, 1000)).rejects.toThrow(
      /more than 1000 candidate pairs/,
    );
  });

  it('handles empty inputs', async () => {
    const empty: FilterSet = { filterBits: 1024, count: 0, clks: new Uint8Array(0) };
    expect((await findCandidates(empty, b, { threshold: 0.8, workers: 2 })).length).toBe(0);
    expect((await findCandidates(b, empty, { threshold: 0.8, workers: 2 })).length).toBe(0);
  });
});

describe('shared memory', () => {
  it('sends workers the filters once, by reference: tasks are bounds only and writes are visible across threads', async () => {
    const random = seeded(5);
    const small = randomFilters(50, 1024, 0.5, random);
    const large = randomFilters(5000, 1024, 0.5, random);
    const shared = loadSharedFilters(large, small, 0.8, 3);
    expect(shared.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.memory.buffer.byteLength).toBe(shared.layout.bytes);

    // A task's structured clone is three numbers, against 640,000 bytes of A filters in the tile.
    const task: TileTask = { start: 0, end: 5000, maxCandidates: 1e9 };
    expect(serialize(task).byteLength).toBeLessThan(64);

    // Each worker claims a scratch area with an atomic add on the shared header. The main
    // thread sees the count rise, which a per-worker copy of the memory could not cause.
    const header = layoutViews(shared.memory.buffer, shared.layout).header;
    expect(Atomics.load(header, 0)).toBe(0);
    const tiles: Array<[number, number]> = Array.from({ length: 20 }, (_, k) => [k * 250, k * 250 + 250]);
    await runTiles(shared, tiles, 2, 1e9);
    expect(Atomics.load(header, 0)).toBe(2);
  });
});
