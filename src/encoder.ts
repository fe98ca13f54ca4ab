// Record -> CLK: each field's value is prepared, tokenised and hashed into one L-bit filter
// (L = l << xorFolds), which is then xor-folded to l bits. Field values repeat heavily in
// population data (names, cities, dates), so each field caches value -> bit positions.
import { popcount } from './bits.js';
import { tokenPositions } from './hash.js';
import { InvalidValue, makePreparer } from './prepare.js';
import { bitsPerToken, tokenise } from './tokenise.js';
import type { EncodingPlan, FieldKeys, FieldPlan } from './types.js';

/** Entries per field cache before it is cleared; bounds memory on high-cardinality fields. */
const CACHE_LIMIT = 100_000;

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
  /** Sorted, distinct bit positions in [0, L) for a raw value, or why it is invalid. */
  positions(raw: string): Uint32Array | InvalidValue;
}

function fieldEncoder(field: FieldPlan, keys: FieldKeys, hashBits: number): FieldEncoder {
  const prepare = makePreparer(field);
  const positionsOf = tokenPositions(field.hash, keys, hashBits);
  const utf8 = new TextEncoder();
  const scratch = new Uint32Array(256);
  const cache = new Map<string, Uint32Array | InvalidValue>();
  const EMPTY = new Uint32Array(0);

  const compute = (raw: string): Uint32Array | InvalidValue => {
    const value = prepare(raw);
    if (value instanceof InvalidValue) return value;
    const tokens = tokenise(value, field.tokeniser);
    if (tokens.length === 0) return EMPTY;
    const ks = bitsPerToken(tokens.length, field.bits);
    const seen = new Set<number>();
    let buffer = scratch;
    tokens.forEach((token, i) => {
      const k = ks[i];
      if (k > buffer.length) buffer = new Uint32Array(k);
      positionsOf(utf8.encode(token), k, buffer);
      for (let j = 0; j < k; j++) seen.add(buffer[j]);
    });
    return Uint32Array.from(seen).sort();
  };

  return {
    positions(raw) {
      let result = cache.get(raw);
      if (result === undefined) {
        result = compute(raw);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(raw, result);
      }
      return result;
    },
  };
}

/**
 * Builds the encoder for a plan with keys already derived from the secret (one pair per slot).
 *
 * @example const encoder = recordEncoder(plan, deriveFieldKeys(secret, plan.kdf));
 *          const popcount = encoder.encode(['jo', 'smith'], out, 0);
 */
export function recordEncoder(plan: EncodingPlan, keys: readonly FieldKeys[]): RecordEncoder {
  const hashBits = plan.filterBits * 2 ** plan.xorFolds;
  const fields = plan.fields.map((field) => fieldEncoder(field, keys[field.keySlot], hashBits));
  const width = plan.filterBits / 8;
  const full = new Uint8Array(hashBits / 8);
  const fieldPositions: Uint32Array[] = new Array(fields.length);

  return {
    width,
    encode(values, out, offset) {
      for (let f = 0; f < fields.length; f++) {
        const positions = fields[f].positions(values[f]);
        if (positions instanceof InvalidValue) return { field: plan.fields[f].name, reason: positions.reason };
        fieldPositions[f] = positions;
      }
      if (plan.xorFolds === 0) {
        out.fill(0, offset, offset + width);
        for (const positions of fieldPositions) {
          for (let i = 0; i < positions.length; i++) out[offset + (positions[i] >>> 3)] |= 0x80 >>> (positions[i] & 7);
        }
        return popcount(out, offset, width);
      }
      full.fill(0);
      for (const positions of fieldPositions) {
        for (let i = 0; i < positions.length; i++) full[positions[i] >>> 3] |= 0x80 >>> (positions[i] & 7);
      }
      foldInto(full, plan.xorFolds, out, offset);
      return popcount(out, offset, width);
    },
  };
}

/** XOR-folds `filter` `folds` times (first half XOR second half each time) into `out[offset ..]`. */
export function foldInto(filter: Uint8Array, folds: number, out: Uint8Array, offset: number): void {
  let length = filter.length;
  for (let fold = 0; fold < folds; fold++) {
    length >>>= 1;
    for (let i = 0; i < length; i++) filter[i] ^= filter[i + length];
  }
  out.set(filter.subarray(0, length), offset);
}
