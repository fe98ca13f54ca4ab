// The attacker's view of the plaintext reference: each row prepared and tokenised exactly as the
// schema prescribes, so reference q-grams line up with the tokens that were hashed into the filters.
import { makePreparer, InvalidValue } from '../prepare.js';
import { tokenise } from '../tokenise.js';
import type { EncodingPlan, FieldPlan } from '../types.js';

export interface TokenTable {
  /** Distinct (field, token) pairs; a token id is an index into this list. */
  vocabulary: { field: number; token: string }[];
  /** Per reference row, its distinct token ids, ascending. */
  rowTokens: Int32Array[];
  /** Per token id, the bits it sets in a filter (k of its field), used to weight plaintext similarity. */
  weight: Float64Array;
}

/** Bits a field sets per token; for a per-field budget, the budget shared over a typical 8 tokens. */
export function bitsPerTokenOf(field: FieldPlan): number {
  return 'perToken' in field.bits ? field.bits.perToken : Math.max(1, field.bits.perField / 8);
}

/** Each row's prepared values in plan field order ('' for missing or invalid values). */
export function preparedRows(plan: EncodingPlan, rows: readonly (readonly string[])[]): string[][] {
  const preparers = plan.fields.map((field) => makePreparer(field));
  return rows.map((row) =>
    preparers.map((prepare, f) => {
      const value = prepare(row[f] ?? '');
      return value instanceof InvalidValue ? '' : value;
    }),
  );
}

export function tokenTable(plan: EncodingPlan, rows: readonly (readonly string[])[]): TokenTable {
  const ids = new Map<string, number>();
  const vocabulary: { field: number; token: string }[] = [];
  const weights: number[] = [];
  const rowTokens = preparedRows(plan, rows).map((values) => {
    const own = new Set<number>();
    values.forEach((value, f) => {
      for (const token of tokenise(value, plan.fields[f].tokeniser)) {
        const key = `${f}\u0000${token}`;
        let id = ids.get(key);
        if (id === undefined) {
          id = vocabulary.length;
          ids.set(key, id);
          vocabulary.push({ field: f, token });
          weights.push(bitsPerTokenOf(plan.fields[f]));
        }
        own.add(id);
      }
    });
    return Int32Array.from(own).sort();
  });
  return { vocabulary, rowTokens, weight: Float64Array.from(weights) };
}

/**
 * The record salt the schema applies, per row (the salt field's prepared value or its prefix),
 * or null without salting. An attacker who knows the schema knows which pairs can share bits.
 */
export function saltGroups(plan: EncodingPlan, rows: readonly (readonly string[])[]): string[] | null {
  const salt = plan.hardening.salt;
  if (!salt) return null;
  const index = plan.fields.findIndex((field) => field.name === salt.field);
  if (index < 0) return null;
  return preparedRows(plan, rows).map((values) => (salt.prefix === null ? values[index] : values[index].slice(0, salt.prefix)));
}
