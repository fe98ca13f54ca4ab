// Hardening steps applied to a record's filter after hashing (see Hardening in types.ts):
// xor-fold, Rule 90, keyed diffusion, balancing with a keyed permutation, and keyed BLIP.
import { blake2b } from '@noble/hashes/blake2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { Hardening, KeyDerivation } from './types.js';

export const NO_HARDENING: Readonly<Hardening> = {
  xorFolds: 0,
  rule90: false,
  diffusion: null,
  balance: false,
  blip: 0,
  salt: null,
};

/** Short, stable description for file metadata, e.g. "xor-fold x1, balance, blip 0.02" or "none". */
export function hardeningLabel(hardening: Hardening): string {
  const steps: string[] = [];
  if (hardening.salt) steps.push(`salt ${hardening.salt.field}${hardening.salt.prefix === null ? '' : `[:${hardening.salt.prefix}]`}`);
  if (hardening.xorFolds > 0) steps.push(`xor-fold x${hardening.xorFolds}`);
  if (hardening.rule90) steps.push('rule90');
  if (hardening.diffusion) steps.push(`diffusion t=${hardening.diffusion.taps}`);
  if (hardening.balance) steps.push('balance');
  if (hardening.blip > 0) steps.push(`blip ${hardening.blip}`);
  return steps.length === 0 ? 'none' : steps.join(', ');
}

/** Derives the hardening key (64 bytes) from the secret, separate from every field key. */
export function deriveHardeningKey(secret: Uint8Array, kdf: KeyDerivation): Uint8Array {
  return hkdf(sha256, secret, kdf.salt, utf8ToBytes('blindlink hardening v1'), 64);
}

/** A keyed pseudorandom stream of 32-bit words: BLAKE2b(key, nonce || counter) in counter mode. */
export class KeyedStream {
  private readonly block = new Uint8Array(64);
  private readonly words = new Uint32Array(this.block.buffer);
  private readonly input: Uint8Array;
  private counter = 0;
  private used = 16;

  constructor(private readonly key: Uint8Array, nonce: Uint8Array) {
    this.input = new Uint8Array(nonce.length + 4);
    this.input.set(nonce);
  }

  nextU32(): number {
    if (this.used === 16) {
      new DataView(this.input.buffer).setUint32(this.input.length - 4, this.counter++);
      blake2b.create({ key: this.key, dkLen: 64 }).update(this.input).digestInto(this.block);
      this.used = 0;
    }
    return this.words[this.used++];
  }

  /** Uniform integer in [0, n) without modulo bias. */
  below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    let value = this.nextU32();
    while (value >= limit) value = this.nextU32();
    return value % n;
  }

  /** Uniform in (0, 1]. */
  unit(): number {
    return (this.nextU32() + 1) / 2 ** 32;
  }
}

const getBit = (bytes: Uint8Array, i: number): number => (bytes[i >>> 3] >>> (7 - (i & 7))) & 1;

/** A keyed permutation of [0, n) (Fisher-Yates over a keyed stream). */
export function keyedPermutation(key: Uint8Array, label: string, n: number): Uint32Array {
  const stream = new KeyedStream(key, utf8ToBytes(label));
  const permutation = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    const swap = permutation[i];
    permutation[i] = permutation[j];
    permutation[j] = swap;
  }
  return permutation;
}

/** Rule 90: bit i becomes bit i-1 XOR bit i+1, indices taken cyclically. */
export function rule90(input: Uint8Array, output: Uint8Array): void {
  const n = input.length * 8;
  output.fill(0);
  for (let i = 0; i < n; i++) {
    if (getBit(input, (i + n - 1) % n) ^ getBit(input, (i + 1) % n)) output[i >>> 3] |= 0x80 >>> (i & 7);
  }
}

/** Applies the configured steps; `filter` holds the hashed (unfolded) bits and may be overwritten. */
export type Hardener = (filter: Uint8Array, out: Uint8Array, offset: number) => void;

/**
 * Builds the per-record hardening function for a plan. Keyed tables (permutation, diffusion taps)
 * are drawn once here.
 *
 * @example const harden = hardener(plan.hardening, plan.hashBits, deriveHardeningKey(secret, plan.kdf));
 */
export function hardener(hardening: Hardening, hashBits: number, key: Uint8Array | null): Hardener {
  const foldedBytes = hashBits / 8 / 2 ** hardening.xorFolds;
  const foldedBits = foldedBytes * 8;
  const needsKey = hardening.diffusion !== null || hardening.balance || hardening.blip > 0;
  if (needsKey && key === null) throw new Error('hardening needs a key');
  const scratch = new Uint8Array(foldedBytes);
  const taps = hardening.diffusion ? diffusionTaps(key!, foldedBits, hardening.diffusion.taps) : null;
  const permutation = hardening.balance ? keyedPermutation(key!, 'balance', 2 * foldedBits) : null;
  const balanced = new Uint8Array(2 * foldedBytes);
  const outputBytes = hardening.balance ? 2 * foldedBytes : foldedBytes;

  return (filter, out, offset) => {
    let current = foldInPlace(filter, hardening.xorFolds);
    if (hardening.rule90) {
      rule90(current, scratch);
      current = copyInto(scratch, filter);
    }
    if (taps) {
      diffuse(current, scratch, taps, hardening.diffusion!.taps);
      current = copyInto(scratch, filter);
    }
    if (permutation) {
      balanced.fill(0);
      for (let i = 0; i < 2 * foldedBits; i++) {
        // Bits [0, l) are the filter, [l, 2l) its complement; then keyed positions.
        const bit = i < foldedBits ? getBit(current, i) : 1 - getBit(current, i - foldedBits);
        if (bit) balanced[permutation[i] >>> 3] |= 0x80 >>> (permutation[i] & 7);
      }
      current = balanced;
    }
    out.set(current.subarray(0, outputBytes), offset);
    if (hardening.blip > 0) blip(out.subarray(offset, offset + outputBytes), hardening.blip, key!);
  };
}

function copyInto(source: Uint8Array, target: Uint8Array): Uint8Array {
  target.set(source);
  return target.subarray(0, source.length);
}

/** XOR-folds in place `folds` times (first half XOR second half) and returns the folded prefix. */
export function foldInPlace(filter: Uint8Array, folds: number): Uint8Array {
  let length = filter.length;
  for (let fold = 0; fold < folds; fold++) {
    length >>>= 1;
    for (let i = 0; i < length; i++) filter[i] ^= filter[i + length];
  }
  return filter.subarray(0, length);
}

function diffusionTaps(key: Uint8Array, bits: number, taps: number): Uint32Array {
  const stream = new KeyedStream(key, utf8ToBytes('diffusion'));
  const table = new Uint32Array(bits * taps);
  for (let i = 0; i < table.length; i++) table[i] = stream.below(bits);
  return table;
}

function diffuse(input: Uint8Array, output: Uint8Array, table: Uint32Array, taps: number): void {
  output.fill(0);
  const bits = input.length * 8;
  for (let j = 0, t = 0; j < bits; j++) {
    let value = 0;
    for (let end = t + taps; t < end; t++) value ^= getBit(input, table[t]);
    if (value) output[j >>> 3] |= 0x80 >>> (j & 7);
  }
}

// The flips are seeded by a keyed hash of the filter itself: deterministic (the same record
// always encodes the same way, as matching and tests need) yet unpredictable without the key.
function blip(filter: Uint8Array, probability: number, key: Uint8Array): void {
  const seed = blake2b(filter, { key, dkLen: 32, personalization: utf8ToBytes('blindlink blip..') });
  const stream = new KeyedStream(key, seed);
  const bits = filter.length * 8;
  const logKeep = Math.log(1 - probability);
  // Geometric gaps between flipped positions: about p * l draws instead of l.
  for (let i = Math.floor(Math.log(stream.unit()) / logKeep); i < bits; i += 1 + Math.floor(Math.log(stream.unit()) / logKeep)) {
    filter[i >>> 3] ^= 0x80 >>> (i & 7);
  }
}
