// The score model's shape-constrained fits: pool adjacent violators, and the nearly log-concave
// Poisson fit that holds the chance curve's tail to at least exponential decay.
import { describe, expect, it } from 'vitest';
import { isotonicIncreasing, nearlyLogConcave } from '../src/match/shape-fits.js';
import { seeded } from './helpers/clk-json.js';

/** A Poisson count of a large mean, by its normal approximation. */
function poisson(mean: number, random: () => number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
}

describe('isotonicIncreasing', () => {
  it('pools violators into their weighted mean and leaves a sorted input alone', () => {
    expect(Array.from(isotonicIncreasing([1, 3, 2, 4]))).toEqual([1, 2.5, 2.5, 4]);
    expect(Array.from(isotonicIncreasing([5, 1, 0], [1, 1, 2]))).toEqual([1.5, 1.5, 1.5]);
    expect(Array.from(isotonicIncreasing([0, 1, 2]))).toEqual([0, 1, 2]);
  });

  it('is non-decreasing and keeps the weighted sum, for random inputs', () => {
    const random = seeded(5);
    for (let run = 0; run < 20; run++) {
      const values = Array.from({ length: 30 }, () => random() * 10);
      const fit = isotonicIncreasing(values);
      for (let i = 1; i < fit.length; i++) expect(fit[i]).toBeGreaterThanOrEqual(fit[i - 1] - 1e-12);
      expect(fit.reduce((s, v) => s + v, 0)).toBeCloseTo(values.reduce((s, v) => s + v, 0), 9);
    }
  });
});

describe('nearlyLogConcave', () => {
  it('recovers a Gaussian tail from Poisson counts, within the noise', () => {
    const random = seeded(6);
    const truth = Array.from({ length: 60 }, (_, b) => 5000 * Math.exp(-((b / 18) ** 2)));
    const fit = nearlyLogConcave(truth.map((m) => poisson(m, random)));
    for (let b = 0; b < 40; b++) expect(Math.abs(fit[b] - truth[b])).toBeLessThan(4 * Math.sqrt(truth[b]) + 2);
  });

  it('leaves most of a second mode over when nothing says the curve may bend up', () => {
    // A decaying curve with a bump at the top: the bump is left over, as matches would be.
    const counts = Array.from({ length: 50 }, (_, b) => Math.round(10_000 * Math.exp(-b / 4)) + (b >= 40 ? 200 : 0));
    const fit = nearlyLogConcave(counts);
    let leftOver = 0;
    for (let b = 40; b < 50; b++) leftOver += counts[b] - fit[b];
    // Nearly log-concave: a gentle bend over many bins is cheap, so a little of the bump is taken.
    expect(leftOver).toBeGreaterThan(1000);
    // Where evidence says so, the curve may bend up and take in the heavier tail.
    const bent = nearlyLogConcave(counts, { evidence: counts.map(() => 1000) });
    let bentLeftOver = 0;
    for (let b = 40; b < 50; b++) bentLeftOver += counts[b] - bent[b];
    expect(bentLeftOver).toBeLessThan(leftOver / 2);
  });

  it('follows a tail that falls faster than a straight line to the last bin, and stays log-concave', () => {
    // Counts that fall by 0.7 a bin and then stop, with many empty bins after: a strict fit
    // once had to stay above the straight line from the first count to the floor at the last
    // bin (the corner where the tail meets the floor was penalised as an upward bend).
    const counts = Array.from({ length: 75 }, (_, b) => (b < 25 ? Math.round(17_000 * 0.7 ** b) : 0));
    const fit = nearlyLogConcave(counts, { strict: true });
    for (let b = 0; b < 20; b++) expect(Math.abs(fit[b] - counts[b])).toBeLessThan(4 * Math.sqrt(counts[b]) + 2);
    let beyond = 0;
    for (let b = 25; b < 75; b++) beyond += fit[b];
    expect(beyond).toBeLessThan(5);
    // Log-concave where the curve is above the floor (the tail beyond is 0 in truth).
    for (let b = 1; b < 24; b++) expect(Math.log(fit[b - 1]) - 2 * Math.log(fit[b]) + Math.log(fit[b + 1])).toBeLessThan(1e-3);
  });

  it('carries a tail past the last count at its last slope, so a pair beyond is not impossible', () => {
    const counts = [400, 200, 100, 50, 25, 12, 6, 3, 0, 0, 0, 0];
    const fit = nearlyLogConcave(counts, { strict: true });
    for (let b = 8; b < 12; b++) {
      expect(fit[b]).toBeLessThan(fit[b - 1]);
      expect(fit[b]).toBeGreaterThan(1e-4);
    }
  });

  it('gives positive expected counts for empty bins and is deterministic', () => {
    const counts = [100, 50, 20, 5, 0, 0, 0];
    const fit = nearlyLogConcave(counts);
    for (const v of fit) expect(v).toBeGreaterThan(0);
    expect(Array.from(nearlyLogConcave(counts))).toEqual(Array.from(fit));
  });
});
