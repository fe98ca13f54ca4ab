// Encoded files with planted near-duplicates, for matching tests that must see the greedy 1:1 at
// work: B holds random filters (some rows twice), A near-copies of B rows at Dice spread over
// [0.78, 1] (some B rows copied into A twice, so records compete), then random rows.
import { join } from 'node:path';
import { popcounts } from '../../src/bits.js';
import { writeEncodedFile, type EncodingMetadata } from '../../src/io/encoded-file.js';
import { seededRandom } from '../../src/random.js';

export const PLANTED_BITS = 1024;
const BYTES = PLANTED_BITS / 8;

function randomClks(count: number, random: () => number): Uint8Array {
  const clks = new Uint8Array(count * BYTES);
  for (let row = 0; row < count; row++) {
    const fill = 0.4 + 0.2 * random();
    for (let i = 0; i < PLANTED_BITS; i++) if (random() < fill) clks[row * BYTES + (i >> 3)] |= 0x80 >> (i & 7);
  }
  return clks;
}

/** A copy of a 1024-bit filter moving a share of its set bits elsewhere: same popcount p, Dice (p - m) / p. */
export function nearCopy(source: Uint8Array, dice: number, random: () => number): Uint8Array {
  const out = source.slice();
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < PLANTED_BITS; i++) (out[i >> 3] & (0x80 >> (i & 7)) ? on : off).push(i);
  const moves = Math.floor(on.length * (1 - dice));
  for (let k = 0; k < moves; k++) {
    const clear = on.splice(Math.floor(random() * on.length), 1)[0];
    const set = off.splice(Math.floor(random() * off.length), 1)[0];
    out[clear >> 3] &= ~(0x80 >> (clear & 7));
    out[set >> 3] |= 0x80 >> (set & 7);
  }
  return out;
}

const metadata = (count: number): EncodingMetadata => ({
  blindlinkVersion: 'test',
  schemaFingerprint: 'f'.repeat(64),
  keyCheck: 'k'.repeat(32),
  filterBits: PLANTED_BITS,
  recordCount: count,
  hardening: 'none',
});

/** Writes `a.arrow` and `b.arrow` (with ids) into `dir`; returns their paths. */
export async function writePlantedFiles(dir: string, countA: number, countB: number, planted: number, seed: number): Promise<{ a: string; b: string }> {
  const random = seededRandom(seed);
  const b = randomClks(countB, random);
  // A tenth of B repeats an earlier B row: a request then has equal-scoring candidates in two places.
  for (let row = 10; row < countB; row += 10) b.copyWithin(row * BYTES, Math.floor(random() * row) * BYTES, Math.floor(random() * row) * BYTES + BYTES);
  const a = randomClks(countA, random);
  for (let k = 0; k < planted; k++) {
    const source = k % 7 === 6 ? Math.floor(((k - 1) * countB) / planted) : Math.floor((k * countB) / planted);
    a.set(nearCopy(b.subarray(source * BYTES, (source + 1) * BYTES), 0.78 + 0.22 * random(), random), k * BYTES);
  }
  const paths = { a: join(dir, 'a.arrow'), b: join(dir, 'b.arrow') };
  for (const [path, clks, count, prefix] of [[paths.a, a, countA, 'a'], [paths.b, b, countB, 'b']] as const) {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    await writeEncodedFile(path, { clks, popcounts: popcounts(clks, BYTES), ids, filterBits: PLANTED_BITS, metadata: metadata(count) });
  }
  return paths;
}
