// Checkpoint tuning: always a valid set for the kernel, early where the data allow an early
// exit, and none where no pair could ever be dropped.
import { describe, expect, it } from 'vitest';
import { chooseCheckpoints } from '../src/similarity/checkpoints.js';
import { validCheckpoints } from '../src/similarity/dice-kernel-source.js';
import { thresholdTable } from '../src/similarity/threshold-table.js';
import { randomFilters, seeded } from './helpers/clk-json.js';

describe('chooseCheckpoints', () => {
  const random = seeded(17);
  const a50 = randomFilters(64, 1024, 0.5, random);
  const b50 = randomFilters(256, 1024, 0.5, random);

  it('exits random 50%-fill pairs by the middle at threshold 0.8', () => {
    const set = chooseCheckpoints(1024, thresholdTable(1024, 0.8), a50, b50);
    expect(validCheckpoints(1024, set)).toBe(true);
    expect(set.length).toBeGreaterThan(0);
    expect(set[0]).toBeLessThanOrEqual(8);
    expect(chooseCheckpoints(1024, thresholdTable(1024, 0.8), a50, b50)).toEqual(set);
  });

  it('waits longer at 70% fill, and uses none when no pair can be dropped', () => {
    const a70 = randomFilters(64, 1024, 0.7, random);
    const b70 = randomFilters(256, 1024, 0.7, random);
    const set = chooseCheckpoints(1024, thresholdTable(1024, 0.8), a70, b70);
    expect(validCheckpoints(1024, set)).toBe(true);
    expect(set[0]).toBeGreaterThanOrEqual(10);
    // Random pairs score about 0.5: at threshold 0.3 every pair runs to the end.
    expect(chooseCheckpoints(1024, thresholdTable(1024, 0.3), a50, b50)).toEqual([]);
  });

  it('handles short and long filters and empty inputs', () => {
    for (const bits of [64, 128, 4096]) {
      const set = chooseCheckpoints(bits, thresholdTable(bits, 0.8), randomFilters(16, bits, 0.5, random), randomFilters(64, bits, 0.5, random));
      expect(validCheckpoints(bits, set), `${bits}`).toBe(true);
    }
    expect(chooseCheckpoints(1024, thresholdTable(1024, 0.8), { count: 0, clks: new Uint8Array(0) }, b50)).toEqual([]);
  });
});
