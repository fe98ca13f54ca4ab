// A small seeded generator (mulberry32) for everything that must repeat exactly for a seed:
// benchmarks' synthetic filters, attack sampling, tests. Not for secrets: those use node:crypto.

/**
 * Uniform numbers in [0, 1) from a 32-bit seed.
 *
 * @example const random = seededRandom(7); random(); // 0.xxx, the same on every run
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
