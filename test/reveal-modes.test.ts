// Reveal modes: the geometric noise has the right distribution and comes from the CSPRNG by
// default, noisy counts stay in range, the histogram bins best scores per record exactly.
import { describe, expect, it } from 'vitest';
import { candidates } from './helpers/candidates.js';
import { bestScoreHistogram } from '../src/reveal/histogram.js';
import { cryptoUniform, MIN_EPSILON, noisyCount, twoSidedGeometric } from '../src/reveal/noise.js';
import { formatReport, release } from '../src/reveal/release.js';
import { greedySolve } from '../src/solve/greedy.js';

describe('two-sided geometric noise', () => {
  it('has P(k) proportional to exp(-epsilon |k|)', () => {
    const epsilon = 0.7;
    const alpha = Math.exp(-epsilon);
    const draws = 40_000;
    const histogram = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const k = twoSidedGeometric(epsilon);
      histogram.set(k, (histogram.get(k) ?? 0) + 1);
    }
    for (const k of [-2, -1, 0, 1, 2]) {
      const expected = ((1 - alpha) / (1 + alpha)) * alpha ** Math.abs(k);
      expect(Math.abs((histogram.get(k) ?? 0) / draws - expected), `k=${k}`).toBeLessThan(0.012);
    }
  });

  it('uses the CSPRNG uniform in (0, 1] by default and rejects epsilon <= 0', () => {
    for (let i = 0; i < 1000; i++) {
      const u = cryptoUniform();
      expect(u > 0 && u <= 1).toBe(true);
    }
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => twoSidedGeometric(bad)).toThrow(RangeError);
  });

  it('is exact inversion for a given uniform: u = 1 gives 0, small u gives large magnitude', () => {
    expect(twoSidedGeometric(1, 1, () => 1)).toBe(0);
    let calls = 0;
    const sequence = (): number => (calls++ === 0 ? 1e-6 : 1);
    expect(twoSidedGeometric(1, 1, sequence)).toBe(13); // floor(ln 1e-6 / -1) = 13
  });

  it('refuses budgets it cannot serve and never returns NaN for those it serves', () => {
    // exp(-1e-17) rounds to 1, so the old alpha-based inversion divided by ln(1) = 0.
    for (const tiny of [1e-17, 1e-13, MIN_EPSILON / 2]) expect(() => twoSidedGeometric(tiny)).toThrow(RangeError);
    const extremes = [() => 2 ** -53, () => 0.5, () => 1];
    for (const epsilon of [MIN_EPSILON, 1e-9, 1e-3, 1, 700, 800, 1e300]) {
      for (const first of extremes) {
        for (const second of extremes) {
          let calls = 0;
          const k = twoSidedGeometric(epsilon, 1, () => (calls++ === 0 ? first() : second()));
          expect(Number.isSafeInteger(k), `epsilon ${epsilon}: ${k}`).toBe(true);
          calls = 0;
          const count = noisyCount(5, epsilon, 10, () => (calls++ === 0 ? first() : second()));
          expect(Number.isInteger(count) && count >= 0 && count <= 10, `epsilon ${epsilon}: ${count}`).toBe(true);
        }
      }
    }
    // Past exp's underflow (epsilon > 745) there is no noise at all, as the limit says.
    expect(twoSidedGeometric(800, 1, () => 2 ** -53)).toBe(0);
  });

  it('noisy counts are clamped to [0, min(|A|, |B|)]', () => {
    expect(noisyCount(0, 1, 10, () => 1e-9)).toBeGreaterThanOrEqual(0);
    let calls = 0;
    expect(noisyCount(9, 1, 10, () => (calls++ === 0 ? 1e-9 : 1))).toBe(10);
    calls = 0;
    expect(noisyCount(3, 1, 10, () => (calls++ === 0 ? 1 : 1e-9))).toBe(0);
  });
});

describe('best-score histogram', () => {
  it('counts each record once, at its best score, with edges as doubles', () => {
    const c = candidates([[0, 0, 0.8], [0, 1, 0.93], [1, 1, 0.81], [2, 2, 1], [2, 0, 0.85]]);
    const h = bestScoreHistogram(c, 4, 3, 0.8);
    expect(h.bins[0]).toMatchObject({ from: 0.8, a: 0, b: 0 });
    const find = (score: number) => h.bins.find((bin) => bin.from <= score && score < bin.to + (bin.to === 1 ? 1 : 0));
    expect(find(0.93)?.a).toBe(1); // record a0's best
    expect(find(0.81)?.a).toBe(1); // record a1
    expect(h.bins[h.bins.length - 1]).toMatchObject({ a: 1, b: 1 }); // score 1 in the last bin
    expect(find(0.85)?.b).toBe(1); // b0's best
    expect(h.belowThreshold).toEqual({ a: 1, b: 0 });
    const total = (side: 'a' | 'b') => h.bins.reduce((s, bin) => s + bin[side], 0) + h.belowThreshold[side];
    expect([total('a'), total('b')]).toEqual([4, 3]);
  });
});

describe('release', () => {
  const c = candidates([[0, 0, 0.9], [1, 1, 0.85], [1, 0, 0.95]]);
  const inputs = { a: { path: 'a.arrow', records: 5, format: 'arrow' as const }, b: { path: 'b.arrow', records: 4, format: 'arrow' as const } };
  const matching = greedySolve(c, 5, 4);

  it('count mode releases the matching size and nothing else', () => {
    const report = release({ reveal: 'count', threshold: 0.8, epsilon: null, inputs, candidates: c, matching });
    // (1,0) at 0.95 goes first and blocks both other pairs.
    expect(report).toEqual({ reveal: 'count', threshold: 0.8, count: 1, epsilon: null, mechanism: null, inputs });
    expect(formatReport(report)).toMatch(/matched pairs \(1:1\): 1/);
  });

  it('noisy-count states its mechanism and epsilon', () => {
    const report = release({ reveal: 'noisy-count', threshold: 0.8, epsilon: 1.5, inputs, candidates: c, matching });
    expect(report.epsilon).toBe(1.5);
    expect(report.mechanism).toMatch(/two-sided geometric .*sensitivity 1/);
    expect(report.count).toBeGreaterThanOrEqual(0);
    expect(report.count).toBeLessThanOrEqual(4);
  });
});
