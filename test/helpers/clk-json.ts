// Test helpers for the matcher: clkhash {"clks": [base64]} JSON decoding and seeded random
// filter sets, independent of the production file reader.
import { readFileSync } from 'node:fs';
import type { FilterSet } from '../../src/match/shared-filters.js';
export { seededRandom as seeded } from '../../src/random.js';

/** Decodes a clkhash CLK JSON file into one contiguous filter set. */
export function readClkJson(path: string | URL): FilterSet {
  const clks = (JSON.parse(readFileSync(path, 'utf8')) as { clks: string[] }).clks.map((s) => Buffer.from(s, 'base64'));
  const bytes = clks[0].length;
  const out = new Uint8Array(clks.length * bytes);
  clks.forEach((clk, i) => out.set(clk, i * bytes));
  return { filterBits: bytes * 8, count: clks.length, clks: out };
}

/** `count` random filters where each bit is set with probability `fill`. */
export function randomFilters(count: number, filterBits: number, fill: number, random: () => number): FilterSet {
  const clks = new Uint8Array((count * filterBits) / 8);
  for (let i = 0; i < clks.length; i++) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) if (random() < fill) byte |= 1 << bit;
    clks[i] = byte;
  }
  return { filterBits, count, clks };
}

/** Copies of B's filters with a few bits flipped: near-duplicates that land around a threshold. */
export function perturbed(from: FilterSet, flips: number, random: () => number): FilterSet {
  const clks = from.clks.slice();
  const bytes = from.filterBits / 8;
  for (let r = 0; r < from.count; r++) {
    for (let f = 0; f < flips; f++) {
      const bit = Math.floor(random() * from.filterBits);
      clks[r * bytes + (bit >> 3)] ^= 0x80 >> (bit & 7);
    }
  }
  return { ...from, clks };
}
