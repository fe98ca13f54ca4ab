// Score printing must match Python's '{:.6f}' (round half to even on the exact binary value).
import { describe, expect, it } from 'vitest';
import { formatScore } from '../src/reveal/format-score.js';

describe('formatScore', () => {
  it('sends exact half-way cases to the even digit', () => {
    expect(formatScore(1250 / 1280)).toBe('0.976562');
    expect(formatScore(1110 / 1280)).toBe('0.867188');
    expect(formatScore(0.0000005)).toBe('0.000000'); // not an exact tie in binary: below half
    expect(formatScore(0.5)).toBe('0.500000');
    expect(formatScore(1)).toBe('1.000000');
  });

  it('rounds other values to nearest', () => {
    expect(formatScore(0.8442437)).toBe('0.844244');
    expect(formatScore(2 / 3)).toBe('0.666667');
    expect(formatScore(0.1234565)).toBe((0.1234565).toFixed(6));
  });
});
