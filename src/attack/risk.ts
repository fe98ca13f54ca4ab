// Warnings `inspect` prints about an encoded file, from what the file itself shows: its hardening
// label and its popcounts. Popcount leaks value lengths unless filters are balanced (Schnell 2016).

export interface EncodingRiskInput {
  /** The file's `blindlink.hardening` metadata label, e.g. "none" or "salt date_of_birth[:4], balance, blip 0.02". */
  hardening: string;
  popcounts: Uint16Array;
  filterBits: number;
}

/** Shannon entropy (bits) of the popcount distribution: what one record's popcount tells about it. */
export function popcountEntropy(popcounts: Uint16Array): number {
  const counts = new Map<number, number>();
  for (const p of popcounts) counts.set(p, (counts.get(p) ?? 0) + 1);
  let entropy = 0;
  for (const c of counts.values()) {
    const share = c / popcounts.length;
    entropy -= share * Math.log2(share);
  }
  return entropy;
}

/**
 * Human-readable warnings, empty when none apply.
 *
 * @example encodingRisks({ hardening: 'none', popcounts, filterBits: 1024 })
 * // ['no hardening: ...', 'popcount varies ...']
 */
export function encodingRisks(input: EncodingRiskInput): string[] {
  const warnings: string[] = [];
  const steps = input.hardening.trim().toLowerCase();
  if (steps === '' || steps === 'none') {
    warnings.push('no hardening: plain Bloom-filter encodings are open to pattern-mining and graph-matching attacks (see docs/PRIVACY.md)');
  }
  const balanced = steps.split(',').some((step) => step.trim() === 'balance');
  if (!balanced && input.popcounts.length > 1) {
    // Balanced filters vary only by BLIP noise, which says nothing about the values; otherwise the
    // popcount grows with the number of tokens, i.e. with the length of names and addresses.
    const entropy = popcountEntropy(input.popcounts);
    if (entropy >= 1) {
      const sorted = Uint16Array.from(input.popcounts).sort();
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      warnings.push(
        `popcount reveals value lengths: it ranges ${at(0.1)}-${at(0.9)} (10th-90th percentile of ${input.filterBits} bits) and carries ${entropy.toFixed(1)} bits per record; "balance": true makes it constant`,
      );
    }
  }
  return warnings;
}
