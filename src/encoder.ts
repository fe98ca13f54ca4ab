// Record -> CLK: each field's value is prepared, tokenised and hashed into one L-bit filter
// (L = l << xorFolds), which the hardening steps then fold and transform. Field values repeat
// heavily in population data (names, cities, dates), so each field caches value -> filter.
import { popcount } from './bits.js';
import { hardener } from './harden.js';
import { tokenPositions } from './hash.js';
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
   * The field's own L-bit filter for a raw value (as 32-bit words), or why the value is invalid.
   * A non-empty `salt` (record salting) is hashed in front of every token.
   */
  filter(raw: string, salt: string): Uint32Array | InvalidValue;
}

const SALT_SEPARATOR = '\u0001';

function fieldEncoder(field: FieldPlan, keys: FieldKeys, hashBits: number, words: number): FieldEncoder {
  const prepare = makePreparer(field);
  const positionsOf = tokenPositions(field.hash, keys, hashBits);
  const utf8 = new TextEncoder();
  // Two caches: whole values (names, cities and dates repeat across a population) and, below
  // them, tokens (q-grams repeat even across distinct street addresses).
  const valueCache = new Map<string, Uint32Array | InvalidValue>();
  const tokenCache = new Map<string, Uint32Array>();
  const EMPTY = new Uint32Array(words);

  const positions = (token: string, k: number): Uint32Array => {
    const key = 'perToken' in field.bits ? token : `${k}\u0000${token}`;
    // `token` arrives already salted (salt + separator + token) when salting is on.
    let cached = tokenCache.get(key);
    if (cached === undefined) {
      cached = new Uint32Array(k);
      positionsOf(utf8.encode(token), k, cached);
      if (tokenCache.size >= CACHE_LIMIT) tokenCache.clear();
      tokenCache.set(key, cached);
    }
    return cached;
  };

  const compute = (raw: string, salt: string): Uint32Array | InvalidValue => {
    const value = prepare(raw);
    if (value instanceof InvalidValue) return value;
    const tokens = tokenise(value, field.tokeniser);
    if (tokens.length === 0) return EMPTY;
    const ks = bitsPerToken(tokens.length, field.bits);
    const bytes = new Uint8Array(words * 4);
    const prefix = salt.length > 0 ? salt + SALT_SEPARATOR : '';
    tokens.forEach((token, i) => {
      const indices = positions(prefix + token, ks[i]);
      for (let j = 0; j < indices.length; j++) bytes[indices[j] >>> 3] |= 0x80 >>> (indices[j] & 7);
    });
    return new Uint32Array(bytes.buffer);
  };

  return {
    filter(raw, salt) {
      const key = salt.length > 0 ? salt + SALT_SEPARATOR + raw : raw;
      let result = valueCache.get(key);
      if (result === undefined) {
        result = compute(raw, salt);
        if (valueCache.size >= CACHE_LIMIT) valueCache.clear();
        valueCache.set(detached(key), result);
      }
      return result;
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
  const fieldFilters: Uint32Array[] = new Array(fields.length);
  const hardening = plan.hardening;
  const plain = hardening.xorFolds === 0 && !hardening.rule90 && !hardening.diffusion && !hardening.balance && hardening.blip === 0;
  const harden = plain ? null : hardener(hardening, hashBits, hardeningKey);
  const saltOf = recordSalt(plan);

  return {
    width,
    encode(values, out, offset) {
      const salt = saltOf(values);
      for (let f = 0; f < fields.length; f++) {
        const filter = fields[f].filter(values[f], salt);
        if (filter instanceof InvalidValue) return { field: plan.fields[f].name, reason: filter.reason };
        fieldFilters[f] = filter;
      }
      record.fill(0);
      for (let f = 0; f < fieldFilters.length; f++) {
        const filter = fieldFilters[f];
        for (let w = 0; w < words; w++) record[w] |= filter[w];
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
