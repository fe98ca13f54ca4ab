// The blind threshold on synthetic score distributions: two modes put it in the valley, one mode
// or too little data falls back with a stated reason; and the streaming best-score scan agrees
// with the candidates findCandidates returns.
import { describe, expect, it } from 'vitest';
import { bestScores, candidatesAtOrAbove, mutualBestScores } from '../src/match/auto-best-scores.js';
import { assertAutoThresholdFeasible, autoThreshold, AUTO_THRESHOLD_MAX_PAIRS, binScores, chooseThreshold, otsuThreshold } from '../src/match/auto-threshold.js';
import { UserError } from '../src/errors.js';
import { findCandidates } from '../src/match/candidates.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';

/** `count` scores drawn around `mean` (sum of uniforms, clamped to [0, 1]). */
function mode(count: number, mean: number, spread: number, random: () => number): number[] {
  return Array.from({ length: count }, () => {
    const x = mean + spread * (random() + random() + random() - 1.5);
    return Math.min(1, Math.max(0, x));
  });
}

describe('autoThreshold', () => {
  it('lands in the valley of a bimodal distribution, even with few matches', () => {
    const random = seeded(1);
    const scores = [...mode(20_000, 0.6, 0.12, random), ...mode(800, 0.9, 0.08, random)];
    const choice = autoThreshold(scores, { floor: 0.5 });
    expect(choice.method).toBe('valley');
    expect(choice.threshold).toBeGreaterThan(0.72);
    expect(choice.threshold).toBeLessThan(0.82);
    expect(choice.reason).toMatch(/valley/);
  });

  it('ignores the spike of exact copies at 1 when looking for the valley', () => {
    const random = seeded(2);
    const scores = [...mode(5_000, 0.62, 0.1, random), ...mode(300, 0.88, 0.06, random), ...new Array<number>(1_000).fill(1)];
    const choice = autoThreshold(scores, { floor: 0.5 });
    expect(choice.method).toBe('valley');
    expect(choice.threshold).toBeLessThan(0.85);
  });

  it('falls back with a reason for one low mode', () => {
    const random = seeded(3);
    const choice = autoThreshold(mode(10_000, 0.6, 0.1, random), { floor: 0.5, fallback: 0.8 });
    expect(choice).toMatchObject({ threshold: 0.8, method: 'fallback' });
    expect(choice.reason).toMatch(/one low mode/);
  });

  it('keeps a single high mode down to where candidates stay within twice the pairs', () => {
    const random = seeded(4);
    const scores = mode(5_000, 0.85, 0.1, random);
    const candidates = (t: number): number => scores.filter((s) => s >= t).length + (t < 0.7 ? 50_000 : 0);
    const choice = autoThreshold(scores, { floor: 0.6, candidatesAtOrAbove: candidates });
    expect(choice.method).toBe('floor');
    expect(choice.threshold).toBe(0.7);
    expect(choice.reason).toMatch(/one high mode/);
  });

  it('falls back on too few or degenerate scores', () => {
    expect(autoThreshold([]).method).toBe('fallback');
    expect(autoThreshold(new Array<number>(10).fill(0.9)).reason).toMatch(/too few/);
    expect(autoThreshold(new Array<number>(1000).fill(0.9)).reason).toMatch(/fill only 1 bins/);
    expect(autoThreshold(new Array<number>(1000).fill(-1)).method).toBe('fallback');
  });

  it('bins scores with 1 in the last bin and below-floor values apart', () => {
    const bins = binScores([1, 0.5, 0.499, -1, 0.75], 0.5, 0.05);
    expect(bins.counts.length).toBe(10);
    expect(bins.below).toBe(2);
    expect(bins.counts[9]).toBe(1);
    expect(bins.counts[0]).toBe(1);
    expect(bins.counts[5]).toBe(1);
    expect(otsuThreshold(binScores([], 0.5))).toBeNull();
  });
});

describe('--threshold auto on inputs too large to scan', () => {
  it('is refused with a UserError that says what to give instead, above the pair limit only', () => {
    expect(() => assertAutoThresholdFeasible(200_000, 20_000)).not.toThrow();
    expect(() => assertAutoThresholdFeasible(AUTO_THRESHOLD_MAX_PAIRS, 1)).not.toThrow();
    expect(() => assertAutoThresholdFeasible(1_280_000, 10_000_000)).toThrow(UserError);
    expect(() => assertAutoThresholdFeasible(1_280_000, 10_000_000)).toThrow(/all 1\.28e\+13 pairs without blocking, about 18 hours.*give --threshold T/);
  });
});

describe('bestScores and chooseThreshold', () => {
  const random = seeded(7);
  const b = randomFilters(400, 1024, 0.3, random);
  const a = perturbed(b, 120, random);

  it('agree with the candidates findCandidates returns, in one thread and on workers', async () => {
    const floor = 0.4;
    const all = await findCandidates(a, b, { threshold: floor, workers: 0 });
    const bestA = new Float64Array(a.count).fill(-1);
    for (let k = 0; k < all.length; k++) bestA[all.a[k]] = Math.max(bestA[all.a[k]], all.score[k]);
    for (const workers of [0, 2]) {
      const best = await bestScores(a, b, { floor, workers });
      expect(Array.from(best.a)).toEqual(Array.from(bestA));
      expect(best.candidates).toBe(all.length);
      expect(candidatesAtOrAbove(best, floor)).toBe(all.length);
      for (let i = 0; i < a.count; i++) if (best.aSecond[i] >= 0) expect(best.aSecond[i]).toBeLessThanOrEqual(best.a[i]);
    }
  });

  it('chooses a threshold that separates perturbed copies from unrelated filters', async () => {
    const result = await chooseThreshold(a, b, { workers: 0 });
    const mutual = mutualBestScores(result.best);
    expect(mutual.length).toBeGreaterThan(0);
    expect(result.threshold).toBeGreaterThanOrEqual(result.floor);
    expect(result.candidatesAtThreshold).toBeLessThanOrEqual(result.candidatesAtFloor);
    expect(typeof result.reason).toBe('string');
  });
});

describe('autoThreshold: a clear gap under one high mode', () => {
  it('cuts in the middle of the widest empty stretch instead of at the floor', () => {
    const scores = [...Array.from({ length: 6 }, (_, i) => 0.53 + (i % 3) * 0.01), ...Array.from({ length: 150 }, (_, i) => 0.95 + (i % 3) * 0.01)];
    const choice = autoThreshold(scores, { floor: 0.5 });
    expect(choice.method).toBe('gap');
    expect(choice.threshold).toBeGreaterThan(0.58);
    expect(choice.threshold).toBeLessThan(0.95);
    expect(choice.recordsAbove).toBe(150);
  });
});

describe('autoThreshold: one high mode of mostly exact copies', () => {
  it('splits the scores below 1 (Otsu) instead of keeping everything above the floor', () => {
    // 80% exact copies, corrupted matches around 0.9, chance pairs around 0.78: no deep valley.
    const scores = [
      ...Array.from({ length: 800 }, () => 1),
      ...Array.from({ length: 120 }, (_, i) => 0.84 + (i % 12) * 0.01),
      ...Array.from({ length: 80 }, (_, i) => 0.76 + (i % 9) * 0.01),
    ];
    const choice = autoThreshold(scores, { floor: 0.75 });
    expect(choice.method).toBe('otsu');
    expect(choice.threshold).toBeGreaterThan(0.78);
    expect(choice.threshold).toBeLessThanOrEqual(0.86);
  });
});
