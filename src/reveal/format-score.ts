// Prints scores as Python's '{:.6f}' does (anonlink vectors README §5.4): the exact binary value
// rounded to 6 decimals, exact half-way cases to the even digit. JavaScript's toFixed rounds them up.

/**
 * @example formatScore(0.9765625) // '0.976562' (toFixed(6) gives '0.976563')
 */
export function formatScore(score: number, digits = 6): string {
  // toFixed is exact for up to 100 digits, which covers the whole binary expansion of any
  // double >= 2^-47; below that a half-way tie at 6 digits is impossible anyway.
  const long = Math.abs(score).toFixed(100);
  const dot = long.indexOf('.');
  const kept = long.slice(0, dot + 1 + digits);
  const rest = long.slice(dot + 1 + digits);
  const tie = rest[0] === '5' && /^0*$/.test(rest.slice(1));
  if (!tie) return score.toFixed(digits);
  const lastDigit = Number(kept[kept.length - 1]);
  // Even last digit: truncate. Odd: the ordinary rounding already goes up to the even digit.
  return lastDigit % 2 === 0 ? (score < 0 ? '-' : '') + kept : score.toFixed(digits);
}
