// Keeps only the digits of identifiers written with arbitrary punctuation (phone numbers, ZIP+4,
// SSNs), optionally truncated so that ZIP+4 and five-digit ZIP codes compare equal.

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The ASCII digits of `value` in order, after NFKD so full-width digits count. With `keep`,
 * only the first `keep` digits ("02139-4307" with keep 5 is "02139").
 */
export function digitsOnly(value: string, keep?: number): string {
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 0)) {
    throw new RangeError(`digit count must be a non-negative integer, got ${keep}`);
  }
  const limit = keep ?? Infinity;
  const s = NON_ASCII.test(value) ? value.normalize('NFKD') : value;
  let out = '';
  for (let i = 0; i < s.length && out.length < limit; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) out += s[i];
  }
  return out;
}
