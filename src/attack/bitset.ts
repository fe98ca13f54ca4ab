// Word-level helpers for the attacks: filters as 32-bit words (byte order is irrelevant to AND and
// popcount), and per-position record sets, as in the column view Christen et al. 2018 mine.
import type { Encodings } from './types.js';

import { popcount32 } from '../bits.js';

/** The filters copied into 32-bit words, `words` per record (a fresh, aligned buffer). */
export function filterWords(encodings: Encodings): { data: Uint32Array; words: number } {
  const width = encodings.filterBits / 8;
  const words = Math.ceil(width / 4);
  const bytes = new Uint8Array(encodings.count * words * 4);
  for (let r = 0; r < encodings.count; r++) bytes.set(encodings.clks.subarray(r * width, (r + 1) * width), r * words * 4);
  return { data: new Uint32Array(bytes.buffer), words };
}

/** |A and B| for records a and b of `data`. */
export function commonBits(data: Uint32Array, words: number, a: number, b: number): number {
  let common = 0;
  const oa = a * words;
  const ob = b * words;
  for (let w = 0; w < words; w++) common += popcount32(data[oa + w] & data[ob + w]);
  return common;
}

/** For each bit position, the set of records with that bit set, as a bitset over records. */
export function positionColumns(encodings: Encodings): { columns: Uint32Array[]; recordWords: number } {
  const width = encodings.filterBits / 8;
  const recordWords = Math.ceil(encodings.count / 32);
  const columns = Array.from({ length: encodings.filterBits }, () => new Uint32Array(recordWords));
  for (let r = 0; r < encodings.count; r++) {
    const word = r >>> 5;
    const mask = 1 << (r & 31);
    for (let byte = 0; byte < width; byte++) {
      const value = encodings.clks[r * width + byte];
      if (value === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (value & (0x80 >>> bit)) columns[byte * 8 + bit][word] |= mask;
    }
  }
  return { columns, recordWords };
}

/** |a and b| of two record bitsets. */
export function andCount(a: Uint32Array, b: Uint32Array): number {
  let count = 0;
  for (let w = 0; w < a.length; w++) count += popcount32(a[w] & b[w]);
  return count;
}

export function setCount(a: Uint32Array): number {
  let count = 0;
  for (let w = 0; w < a.length; w++) count += popcount32(a[w]);
  return count;
}
