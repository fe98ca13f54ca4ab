// Plain reference Dice coefficient, bit by bit: slow and obviously right, the yardstick the
// WebAssembly kernel is tested against. Score as anonlink computes it (vectors README §5.1).

/** Number of bits set in both `a[aOffset ..]` and `b[bOffset ..]` over `bytes` bytes. */
export function andPopcountReference(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, bytes: number): number {
  let count = 0;
  for (let i = 0; i < bytes; i++) {
    const both = a[aOffset + i] & b[bOffset + i];
    for (let bit = 0; bit < 8; bit++) if (both & (1 << bit)) count++;
  }
  return count;
}

/**
 * Dice score from the AND-popcount and both popcounts: the integer 2·|A∧B| divided by the double
 * |A|+|B|, so the result is the double nearest the exact fraction, as in anonlink. Two empty
 * filters give NaN, which compares false against any threshold, so they never match.
 *
 * @example diceFromCounts(3, 4, 4) // 0.75
 */
export function diceFromCounts(common: number, popcountA: number, popcountB: number): number {
  return (2 * common) / (popcountA + popcountB);
}

/**
 * Dice coefficient of two equal-length filters.
 *
 * @example diceReference(Uint8Array.of(0b1100), Uint8Array.of(0b0110)) // 0.5
 */
export function diceReference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`filters differ in length: ${a.length} and ${b.length} bytes`);
  const ones = (f: Uint8Array): number => andPopcountReference(f, 0, f, 0, f.length);
  return diceFromCounts(andPopcountReference(a, 0, b, 0, a.length), ones(a), ones(b));
}
