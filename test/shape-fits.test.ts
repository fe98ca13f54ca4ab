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

  it('gives positive expected counts for empty bins and is deterministic', () => {
    const counts = [100, 50, 20, 5, 0, 0, 0];
    const fit = nearlyLogConcave(counts);
    for (const v of fit) expect(v).toBeGreaterThan(0);
    expect(Array.from(nearlyLogConcave(counts))).toEqual(Array.from(fit));
  });
});
