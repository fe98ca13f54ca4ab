// Record -> CLK: each field's value is prepared, tokenised and hashed into one L-bit filter
// (L = l << xorFolds), which the hardening steps then fold and transform. Field values repeat
// heavily in population data (names, cities, dates), so each field caches value -> filter.
import { popcount } from './bits.js';
import { deriveHardeningKey, hardener } from './harden.js';
import { tokenPositions } from './hash.js';
import { deriveFieldKeys } from './keys.js';
import { InvalidValue, makePreparer } from './prepare.js';
import { bitsPerToken, tokenise } from './tokenise.js';
import type { EncodingPlan, FieldKeys, FieldPlan } from './types.js';

/** Entries per field cache before it is cleared; bounds memory on high-cardinality fields. */
const CACHE_LIMIT = 50_000;

/** A record rejected by the encoder; `reason` never contains the value. */
export interface RecordProblem {
  field: string;
  reason: string;
}

export interface RecordEncoder {
  /** Bytes per output filter (l / 8). */
  readonly width: number;
  /**
   * Encodes one record whose field values are given in plan field order, writing the filter
   * to `out[offset ..]` and returning its popcount, or a problem (and writing nothing).
   */
  encode(values: readonly string[], out: Uint8Array, offset: number): number | RecordProblem;
}

interface FieldEncoder {
  /**
   * ORs the field's bits for a raw value into the record filter (`record` as bytes and as 32-bit
   * words over the same memory), or returns why the value is invalid, leaving `record` as it was.
   * A non-empty `salt` (record salting) is hashed in front of every token.
   */
  addTo(raw: string, salt: string, record: Uint8Array, recordWords: Uint32Array): InvalidValue | null;
}

const SALT_SEPARATOR = '\u0001';
/** Lookups after which the value cache's hit rate is judged, once. */
const HIT_RATE_WINDOW = 32_768;
/**
 * Below this hit rate the value cache costs more than it saves: a miss costs a filter allocation
 * and an insert on top of the uncached work, a hit skips normalising, tokenising and hashing.
 * Measured: street addresses hit ~2%, dates of birth ~40% in the first window, names ~95%.
 */
const MIN_HIT_RATE = 0.15;
const ASCII_ONLY = /^[\x00-\x7f]*$/;

function fieldEncoder(field: FieldPlan, keys: FieldKeys, hashBits: number, words: number): FieldEncoder {
  const prepare = makePreparer(field);
  const positionsOf = tokenPositions(field.hash, keys, hashBits);
  const utf8 = new TextEncoder();
  // Two caches: whole values (names, cities and dates repeat across a population) and, below
  // them, tokens (q-grams repeat even across distinct street addresses). High-cardinality fields
  // such as street addresses switch the value cache off and use the token cache alone.
  let valueCache: Map<string, Uint32Array | InvalidValue> | null = new Map();
  let lookups = 0;
  let hits = 0;
  const tokenCache = new Map<string, Uint32Array>();
  const EMPTY = new Uint32Array(words);

  // q-grams of up to two ASCII characters (or positional unigrams) are looked up by a numeric
  // code in a flat table instead of hashing a fresh token string per lookup: most tokens of a
  // population are such q-grams, and this halves the cost of a street address.
  const tokeniser = field.tokeniser;
  const fixedK = 'perToken' in field.bits ? field.bits.perToken : -1;
  const codedGrams =
    tokeniser.type === 'qgram' && fixedK >= 0 && (tokeniser.positional ? tokeniser.q === 1 : tokeniser.q <= 2)
      ? new Array<Uint32Array | undefined>(tokeniser.positional ? 128 * 64 : 128 ** tokeniser.q)
      : null;

  const positions = (token: string, k: number): Uint32Array => {
    // `token` arrives already salted (salt + separator + token) when salting is on.
    const key = 'perToken' in field.bits ? token : `${k}\u0000${token}`;
    let cached = tokenCache.get(key);
    if (cached === undefined) {
      cached = new Uint32Array(k);
      positionsOf(utf8.encode(token), k, cached);
      if (tokenCache.size >= CACHE_LIMIT) tokenCache.clear();
      tokenCache.set(key, cached);
    }
    return cached;
  };

  const setPositions = (bytes: Uint8Array, indices: Uint32Array): void => {
    for (let j = 0; j < indices.length; j++) bytes[indices[j] >>> 3] |= 0x80 >>> (indices[j] & 7);
  };

  /** The fast path of setBits for coded q-grams; false when the value does not qualify. */
  const setCodedBits = (value: string, bytes: Uint8Array): boolean => {
    if (codedGrams === null || tokeniser.type !== 'qgram' || !ASCII_ONLY.test(value)) return false;
    if (tokeniser.positional) {
      if (value.length > 64) return false;
      for (let i = 0; i < value.length; i++) {
        const code = (i << 7) | value.charCodeAt(i);
        setPositions(bytes, (codedGrams[code] ??= positions(`${i + 1} ${value[i]}`, fixedK)));
      }
      return true;
    }
    const text = tokeniser.padded && tokeniser.q === 2 ? ` ${value} ` : value;
    for (let i = 0; i + tokeniser.q <= text.length; i++) {
      const code = tokeniser.q === 1 ? text.charCodeAt(i) : (text.charCodeAt(i) << 7) | text.charCodeAt(i + 1);
      setPositions(bytes, (codedGrams[code] ??= positions(text.slice(i, i + tokeniser.q), fixedK)));
    }
    return true;
  };

  /** Sets the value's bits in `bytes`; returns false when it has no tokens. */
  const setBits = (value: string, salt: string, bytes: Uint8Array): boolean => {
    if (value.length === 0) return false;
    if (salt.length === 0 && setCodedBits(value, bytes)) return true;
    const tokens = tokenise(value, field.tokeniser);
    if (tokens.length === 0) return false;
    const ks = bitsPerToken(tokens.length, field.bits);
    const prefix = salt.length > 0 ? salt + SALT_SEPARATOR : '';
    for (let t = 0; t < tokens.length; t++) {
      setPositions(bytes, positions(prefix + tokens[t], ks[t]));
    }
    return true;
  };

  const filterOf = (raw: string, salt: string): Uint32Array | InvalidValue => {
    const value = prepare(raw);
    if (value instanceof InvalidValue) return value;
    const bytes = new Uint8Array(words * 4);
    return setBits(value, salt, bytes) ? new Uint32Array(bytes.buffer) : EMPTY;
  };

  return {
    addTo(raw, salt, record, recordWords) {
      if (valueCache === null) {
        const value = prepare(raw);
        if (value instanceof InvalidValue) return value;
        setBits(value, salt, record);
        return null;
      }
      const key = salt.length > 0 ? salt + SALT_SEPARATOR + raw : raw;
      let filter = valueCache.get(key);
      lookups++;
      if (filter === undefined) {
        filter = filterOf(raw, salt);
        if (valueCache.size >= CACHE_LIMIT) valueCache.clear();
        valueCache.set(detached(key), filter);
      } else {
        hits++;
      }
      if (lookups === HIT_RATE_WINDOW && hits < MIN_HIT_RATE * lookups) valueCache = null;
      if (filter instanceof InvalidValue) return filter;
      if (filter !== EMPTY) for (let w = 0; w < words; w++) recordWords[w] |= filter[w];
      return null;
    },
  };
}

/**
 * A copy of `text` that does not share memory with the string it was cut from. V8 keeps slices
 * of 13+ characters as views of their parent, so caching a CSV field would otherwise pin the
 * whole decoded batch text in memory.
 */
function detached(text: string): string {
  return (' ' + text).slice(1);
}

/**
 * Builds the encoder for a plan with keys already derived from the secret: one pair per field
 * slot, and the hardening key when the plan uses keyed hardening.
 *
 * @example const encoder = recordEncoder(plan, deriveFieldKeys(secret, plan.kdf));
 *          const popcount = encoder.encode(['jo', 'smith'], out, 0);
 */
export function recordEncoder(plan: EncodingPlan, keys: readonly FieldKeys[], hardeningKey: Uint8Array | null = null): RecordEncoder {
  const hashBits = plan.hashBits;
  // Field filters are ORed a 32-bit word at a time (byte order is irrelevant to OR).
  const words = Math.ceil(hashBits / 32);
  const fields = plan.fields.map((field) => fieldEncoder(field, keys[field.keySlot], hashBits, words));
  const width = plan.filterBits / 8;
  const record = new Uint32Array(words);
  const recordBytes = new Uint8Array(record.buffer, 0, hashBits / 8);
  const hardening = plan.hardening;
  const plain = hardening.xorFolds === 0 && !hardening.rule90 && !hardening.diffusion && !hardening.balance && hardening.blip === 0;
  const harden = plain ? null : hardener(hardening, hashBits, hardeningKey);
  const saltOf = recordSalt(plan);

  return {
    width,
    encode(values, out, offset) {
      const salt = saltOf(values);
      record.fill(0);
      for (let f = 0; f < fields.length; f++) {
        const invalid = fields[f].addTo(values[f], salt, recordBytes, record);
        if (invalid !== null) return { field: plan.fields[f].name, reason: invalid.reason };
      }
      if (harden) harden(recordBytes, out, offset);
      else out.set(recordBytes, offset);
      return popcount(out, offset, width);
    },
  };
}

/** The record's salt: the salt field's prepared value (or its first `prefix` characters), or ''. */
function recordSalt(plan: EncodingPlan): (values: readonly string[]) => string {
  const salt = plan.hardening.salt;
  if (!salt) return () => '';
  const index = plan.fields.findIndex((field) => field.name === salt.field);
  const prepare = makePreparer(plan.fields[index]);
  return (values) => {
    const value = prepare(values[index]);
    if (value instanceof InvalidValue) return '';
    return salt.prefix === null ? value : value.slice(0, salt.prefix);
  };
}

/**
 * Encodes rows (values in plan field order) in this thread, deriving the keys from `secret`:
 * for small in-memory populations such as the attack study's. Files go through encodeFile.
 *
 * @example const { clks, popcounts } = encodeRows(plan, secret, [['ann', 'lee']]);
 */
export function encodeRows(
  plan: EncodingPlan,
  secret: Uint8Array,
  rows: readonly (readonly string[])[],
): { filterBits: number; count: number; clks: Uint8Array; popcounts: Uint16Array } {
  const encoder = recordEncoder(plan, deriveFieldKeys(secret, plan.kdf), deriveHardeningKey(secret, plan.kdf));
  const clks = new Uint8Array(rows.length * encoder.width);
  const popcounts = new Uint16Array(rows.length);
  rows.forEach((row, i) => {
    const result = encoder.encode(row, clks, i * encoder.width);
    if (typeof result !== 'number') throw new Error(`row ${i}: field ${result.field}: ${result.reason}`);
    popcounts[i] = result;
  });
  return { filterBits: plan.filterBits, count: rows.length, clks, popcounts };
}
