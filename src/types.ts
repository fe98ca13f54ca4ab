// Shapes shared across the pipeline: the compiled encoding plan that both schema dialects
// (blindlink's own and clkhash v2/v3) turn into, and the messages between encoder threads.
import type { NormaliserName, NormaliserOptions } from './normalise/index.js';

/** How a field's tokens become bit positions. */
export type TokenHash =
  /** clkhash's blakeHash: keyed BLAKE2b, salt = counter, 32 little-endian u16 positions per call. */
  | { type: 'blake2b' }
  /** clkhash's doubleHash: (HMAC-SHA1 + j * HMAC-MD5) mod L, optionally with the singularity fix. */
  | { type: 'double'; preventSingularity: boolean }
  /** HMAC-SHA256 over counter byte + token, 16 little-endian u16 positions per call. */
  | { type: 'hmac-sha256' };

export type Tokeniser =
  /** Character q-grams; padding adds q-1 spaces each side; positional prefixes "i " (1-based). */
  | { type: 'qgram'; q: number; padded: boolean; positional: boolean }
  /** The whole value as one token. */
  | { type: 'exact' }
  /** A canonical YYYYMMDD date as three tagged tokens (year, month, day) plus the month-day pair. */
  | { type: 'date' }
  /** Overlapping numeric neighbourhoods: values within `distance` share tokens. */
  | { type: 'numeric'; distance: number; resolution: number };

/** How a raw cell becomes the string that is tokenised. */
export type ValuePreparation =
  /** clkhash's own behaviour: strings unchanged, integers as str(int(v)), validated against the format. */
  | { type: 'clkhash'; format: ClkhashFormat }
  /** blindlink normalisers (Unicode folding, addresses, dates...). */
  | { type: 'normalise'; normaliser: NormaliserName; options: NormaliserOptions; invalid: 'missing' | 'error' };

export type ClkhashFormat =
  | { type: 'string'; pattern?: string; case?: 'lower' | 'upper' | 'mixed'; minLength?: number; maxLength?: number }
  | { type: 'integer'; minimum?: number; maximum?: number }
  | { type: 'enum'; values: string[] }
  | { type: 'date'; format: string };

/** Bits set per token: a fixed k, or a per-field budget shared out over the tokens (clkhash bitsPerFeature). */
export type BitBudget = { perToken: number } | { perField: number };

export interface MissingRule {
  /** Raw values that mean "missing" (compared after trimming for native schemas, exactly for clkhash). */
  values: string[];
  /** Replacement string to tokenise instead; undefined: the field contributes no bits. */
  replaceWith?: string;
}

export interface FieldPlan {
  /** Field name in the schema, used in messages. */
  name: string;
  /** Input column read for this field. */
  column: string;
  /** Index of this field's key pair in the derived key material. */
  keySlot: number;
  prepare: ValuePreparation;
  missing: MissingRule | null;
  tokeniser: Tokeniser;
  bits: BitBudget;
  hash: TokenHash;
}

export interface KeyDerivation {
  hash: 'SHA256' | 'SHA512';
  salt: Uint8Array;
  info: Uint8Array;
  /** Bytes per key; each field slot gets two keys. */
  keySize: number;
  /** Number of key slots (clkhash counts ignored features too). */
  slots: number;
}

/**
 * Steps that make encodings harder to attack, applied in this order after the field filters are
 * ORed: xor-fold, Rule 90, diffusion, balancing, BLIP. Salting acts earlier, on token hashing.
 * Keyed steps use a key derived from the secret, so the linkage unit cannot undo them.
 */
export interface Hardening {
  /** Fold the hashed filter in half this many times (Schnell et al. 2016). */
  xorFolds: number;
  /** Replace each bit by the XOR of its two neighbours, cyclically (Schnell 2017). */
  rule90: boolean;
  /** Each output bit is the XOR of `taps` keyed-random input bits (Armknecht et al. 2023). */
  diffusion: { taps: number } | null;
  /** Append the complement and apply a keyed permutation: constant popcount (Schnell 2016). */
  balance: boolean;
  /** BLIP: flip each bit with this probability, keyed and deterministic per filter (Schnell and Borgs 2017). */
  blip: number;
  /** Salt every token hash of the record with a stable field's value (e.g. birth year). */
  salt: { field: string; prefix: number | null } | null;
}

/** The four parts the keyed signature rules read (src/blocking/signature.ts), by role. */
export type SignatureRole = 'givenName' | 'surname' | 'birthYear' | 'zip';

/**
 * Keyed signature blocking, from a native schema's `blocking.signature` section: for each role,
 * the index in `EncodingPlan.fields` of the field whose prepared value it reads.
 */
export interface SignatureBlockingPlan {
  method: 'signature';
  fields: Record<SignatureRole, number>;
}

/** Everything an encoder needs besides the secret; derived from a validated schema. */
export interface EncodingPlan {
  dialect: 'blindlink' | 'clkhash-v2' | 'clkhash-v3';
  /** Length of the encodings written, in bits (twice the folded length when balanced). */
  filterBits: number;
  /** Length tokens are hashed into, in bits: the folded length << xorFolds. */
  hashBits: number;
  hardening: Hardening;
  kdf: KeyDerivation;
  fields: FieldPlan[];
  /** Block keys custodians compute at encode time, or null (clkhash schemas, or no `blocking` section). */
  blocking: SignatureBlockingPlan | null;
  /** SHA-256 (hex) of the canonical schema JSON. */
  fingerprint: string;
}

/** Per-field key pair handed to encoder threads instead of the secret itself. */
export interface FieldKeys {
  a: Uint8Array;
  b: Uint8Array;
}
