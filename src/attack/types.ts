// Shapes shared by the attack suite: what an attack may see (encodings, the schema, plaintext
// reference rows, all without identities) and what it claims; identities live only in score.ts.
import type { EncodingPlan } from '../types.js';

/** The encoded file as the linkage unit holds it: filters and popcounts, no ids. */
export interface Encodings {
  filterBits: number;
  count: number;
  /** `count * filterBits / 8` bytes, bit i = byte i >> 3, mask 0x80 >> (i & 7). */
  clks: Uint8Array;
  popcounts: Uint16Array;
}

/** What every attack receives. The reference rows carry the schema's fields and nothing else. */
export interface AttackInput {
  /** The schema the attacker is assumed to know (fields, tokenisers, k, l, hardening), never the secret. */
  plan: EncodingPlan;
  encodings: Encodings;
  /** Raw reference values, one row per person, in plan field order. */
  reference: readonly (readonly string[])[];
  seed: number;
}

/** A q-gram (or other token) of one field that an attack claims sets the given bit positions. */
export interface MappedToken {
  field: number;
  token: string;
  positions: number[];
}

export interface AttackOutcome {
  name: string;
  /** For each encoded record, the reference row the attack says it is, or -1. */
  assignments: Int32Array;
  /** Tokens the attack set out to align with bit positions; null for attacks that do not. */
  tokensConsidered: readonly { field: number; token: string }[] | null;
  mapped: readonly MappedToken[];
}
