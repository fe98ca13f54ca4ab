// The division-free threshold test must agree with anonlink's `2c / d >= t` on every (c, d), and
// the popcount bound must never exclude a pair that could qualify.
import { describe, expect, it } from 'vitest';
import { diceFromCounts, diceReference } from '../src/similarity/dice-reference.js';
import { popcountsCanMatch, thresholdTable } from '../src/similarity/threshold-table.js';

describe('thresholdTable', () => {
  it('matches the double comparison for every count and popcount sum', () => {
    const bits = 1024;
    for (const threshold of [0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1, 1 / 3, 1e-9]) {
      const table = thresholdTable(bits, threshold);
      for (let d = 0; d <= 2 * bits; d++) {
        for (let c = 0; c <= d / 2; c++) {
          if ((c >= table[d]) !== (diceFromCounts(c, d, 0) >= threshold)) {
            throw new Error(`threshold ${threshold}: c=${c} d=${d} table=${table[d]}`);
          }
        }
      }
    }
  });

  it('keeps pairs that land exactly on the threshold (inclusive, as anonlink)', () => {
    // 2·4/(5+5) = 0.8 exactly.
    expect(4 >= thresholdTable(8, 0.8)[10]).toBe(true);
    expect(3 >= thresholdTable(8, 0.8)[10]).toBe(false);
  });

  it('popcount bound admits every popcount pair that has a qualifying AND-popcount', () => {
    const bits = 256;
    for (const threshold of [0.5, 0.8, 0.95]) {
      const table = thresholdTable(bits, threshold);
      const wrong: string[] = [];
      for (let pa = 0; pa <= bits; pa++) {
        for (let pb = 0; pb <= bits; pb++) {
          const best = Math.min(pa, pb);
          if (popcountsCanMatch(table, pa, pb) !== diceFromCounts(best, pa, pb) >= threshold) wrong.push(`${pa},${pb}`);
        }
      }
      expect(wrong).toEqual([]);
    }
  });
});

describe('diceReference', () => {
  it('computes 2|A and B| / (|A| + |B|)', () => {
    expect(diceReference(Uint8Array.of(0b1100), Uint8Array.of(0b0110))).toBe(0.5);
    expect(diceReference(Uint8Array.of(0xff, 0), Uint8Array.of(0xff, 0))).toBe(1);
    expect(diceReference(Uint8Array.of(0, 0), Uint8Array.of(0, 0))).toBeNaN();
  });
});
