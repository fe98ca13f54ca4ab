// Keyed signature blocking: custodians derive block keys from prepared field values at encode
// time under a key from the shared secret (HMAC-SHA256), unlike blocklib's unkeyed hashes that the
// linkage unit could invert by hashing a dictionary of names; plus the LU's join over those keys.
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { UserError } from '../errors.js';
import { DEFAULT_MAX_CANDIDATES } from '../match/candidates.js';
import type { FilterSet } from '../match/shared-filters.js';
import { thresholdTable } from '../similarity/threshold-table.js';
import { diceFromCounts } from '../similarity/dice-reference.js';
import { CandidateSink } from './lsh-scan.js';
import type { Candidates } from '../match/tile.js';

/** Prepared (normalised) values the rules read; '' means missing. */
export interface SignatureFields {
  givenName: string;
  surname: string;
  /** Four-digit year of birth. */
  birthYear: string;
  /** Five-digit ZIP. */
  zip: string;
}

/**
 * The rules, in order; a record gets one 8-byte key per rule, all zero when a part is missing
 * (a block of everyone without a ZIP would be huge and say nothing).
 */
export const SIGNATURE_RULES = [
  { id: 'soundex(surname)+birth-year', key: (f: SignatureFields): string | null => (soundex(f.surname) && f.birthYear ? `${soundex(f.surname)}|${f.birthYear}` : null) },
  { id: 'given-initial+zip5', key: (f: SignatureFields): string | null => (f.givenName && f.zip ? `${f.givenName[0]}|${f.zip}` : null) },
] as const;

/** Bytes per block key: 64 bits keep chance collisions below one in a 10-million-record registry squared over 2^64. */
export const SIGNATURE_BYTES = 8;
/** Bytes per record in the `block_keys` column: FixedSizeBinary(SIGNATURE_ROW_BYTES). */
export const SIGNATURE_ROW_BYTES = SIGNATURE_RULES.length * SIGNATURE_BYTES;

const SOUNDEX_CODES: Record<string, string> = {
  b: '1', f: '1', p: '1', v: '1',
  c: '2', g: '2', j: '2', k: '2', q: '2', s: '2', x: '2', z: '2',
  d: '3', t: '3', l: '4', m: '5', n: '5', r: '6',
};

/**
 * American Soundex (as in the US census): first letter, then up to three digits; h and w do not
 * separate equal codes, vowels do. '' for a value without letters.
 *
 * @example soundex('Robert') // 'r163'; soundex('Ashcraft') // 'a261'
 */
export function soundex(name: string): string {
  const letters = name.toLowerCase().replace(/[^a-z]/g, '');
  if (letters === '') return '';
  let out = letters[0];
  let last = SOUNDEX_CODES[letters[0]] ?? '';
  for (let i = 1; i < letters.length && out.length < 4; i++) {
    const ch = letters[i];
    const code = SOUNDEX_CODES[ch] ?? '';
    if (code !== '' && code !== last) out += code;
    if (ch !== 'h' && ch !== 'w') last = code;
  }
  return out.padEnd(4, '0');
}

// A fixed label separates this key from the field keys and the key check value.
const BLOCKING_SALT = utf8ToBytes('blindlink signature blocking v1');

/** The blocking key (32 bytes) from the shared secret, by HKDF-SHA256. */
export function deriveBlockingKey(secret: Uint8Array): Uint8Array {
  return hkdf(sha256, secret, BLOCKING_SALT, undefined, 32);
}

/**
 * A keyer for one custodian's run: fields -> SIGNATURE_ROW_BYTES bytes (one 8-byte slot per rule).
 * The keyed state is built once and cloned per value.
 *
 * @example const keyer = createSignatureKeyer(deriveBlockingKey(secret)); keyer({ givenName: 'ann', surname: 'lee', birthYear: '1980', zip: '02139' });
 */
export function createSignatureKeyer(blockingKey: Uint8Array): (fields: SignatureFields) => Uint8Array {
  const keyed = hmac.create(sha256, blockingKey);
  return (fields) => {
    const out = new Uint8Array(SIGNATURE_ROW_BYTES);
    SIGNATURE_RULES.forEach((rule, r) => {
      const value = rule.key(fields);
      if (value === null) return;
      // The rule id goes into the message, so equal strings under different rules never share a block.
      const digest = keyed.clone().update(utf8ToBytes(`${rule.id}\u0000${value}`)).digest();
      out.set(digest.subarray(0, SIGNATURE_BYTES), r * SIGNATURE_BYTES);
      // An all-zero digest prefix would read as "missing"; it has probability 2^-64.
      if (out.subarray(r * SIGNATURE_BYTES, (r + 1) * SIGNATURE_BYTES).every((x) => x === 0)) out[r * SIGNATURE_BYTES] = 1;
    });
    return out;
  };
}

function slotKey(keys: Uint8Array, row: number, rule: number): number {
  const at = row * SIGNATURE_ROW_BYTES + rule * SIGNATURE_BYTES;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + keys[at + i];
  for (let i = 4; i < 8; i++) lo = lo * 256 + keys[at + i];
  // 52 of the 64 bits as an exact double: a Map key; slots are compared in full before use.
  return (hi % 0x100000) * 0x100000000 + lo;
}

function slotsEqual(ka: Uint8Array, a: number, kb: Uint8Array, b: number, rule: number): boolean {
  const at = a * SIGNATURE_ROW_BYTES + rule * SIGNATURE_BYTES;
  const bt = b * SIGNATURE_ROW_BYTES + rule * SIGNATURE_BYTES;
  let nonzero = 0;
  for (let i = 0; i < SIGNATURE_BYTES; i++) {
    if (ka[at + i] !== kb[bt + i]) return false;
    nonzero |= ka[at + i];
  }
  return nonzero !== 0;
}

const BYTE_ONES = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_ONES[i] = (i & 1) + BYTE_ONES[i >> 1];

/**
 * Candidate pairs sharing a block key under any rule, verified by exact Dice (anonlink's score);
 * a pair sharing several keys is compared once, under the first rule it shares.
 *
 * @example const found = signatureCandidates(a, b, keysA, keysB, { threshold: 0.85 });
 */
export function signatureCandidates(
  a: FilterSet,
  b: FilterSet,
  keysA: Uint8Array,
  keysB: Uint8Array,
  options: { threshold: number; maxCandidates?: number },
): Candidates & { pairsTotal: number; pairsCompared: number; reductionRatio: number } {
  const bytes = a.filterBits / 8;
  const table = thresholdTable(a.filterBits, options.threshold);
  const ones = (set: FilterSet): Uint16Array => {
    const out = new Uint16Array(set.count);
    for (let r = 0; r < set.count; r++) for (let i = r * bytes; i < (r + 1) * bytes; i++) out[r] += BYTE_ONES[set.clks[i]];
    return out;
  };
  const popA = ones(a);
  const popB = ones(b);
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  const sink = new CandidateSink();
  let compared = 0;
  for (let rule = 0; rule < SIGNATURE_RULES.length; rule++) {
    const blocks = new Map<number, number[]>();
    for (let i = 0; i < a.count; i++) {
      if (!slotsEqual(keysA, i, keysA, i, rule)) continue; // missing slot
      const key = slotKey(keysA, i, rule);
      const block = blocks.get(key);
      if (block === undefined) blocks.set(key, [i]);
      else block.push(i);
    }
    for (let j = 0; j < b.count; j++) {
      const block = blocks.get(slotKey(keysB, j, rule));
      if (block === undefined) continue;
      for (const i of block) {
        if (!slotsEqual(keysA, i, keysB, j, rule)) continue;
        let earlier = false;
        for (let r = 0; r < rule && !earlier; r++) earlier = slotsEqual(keysA, i, keysB, j, r);
        if (earlier) continue;
        const least = table[popA[i] + popB[j]];
        if (least > Math.min(popA[i], popB[j])) continue;
        compared++;
        let common = 0;
        for (let k = 0; k < bytes; k++) common += BYTE_ONES[a.clks[i * bytes + k] & b.clks[j * bytes + k]];
        if (common < least) continue;
        sink.push(i, j, diceFromCounts(common, popA[i], popB[j]));
        if (sink.length > maxCandidates) {
          throw new UserError(`more than ${maxCandidates} candidate pairs at threshold ${options.threshold}: raise --threshold or --max-candidates`);
        }
      }
    }
  }
  const pairsTotal = a.count * b.count;
  return { ...sink.view(), pairsTotal, pairsCompared: compared, reductionRatio: pairsTotal === 0 ? 1 : 1 - compared / pairsTotal };
}
