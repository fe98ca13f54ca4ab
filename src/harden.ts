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
  const shuffle = hardening.balance ? balancePermutation(key!, foldedBytes) : null;
  const balanced = new Uint8Array(2 * foldedBytes);
  const outputBytes = hardening.balance ? 2 * foldedBytes : foldedBytes;
  const flip = hardening.blip > 0 ? blipper(hardening.blip, key!, outputBytes) : null;

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
    if (shuffle) {
      for (let byte = 0; byte < foldedBytes; byte++) {
        const value = current[byte];
        const complement = foldedBytes + byte;
        balanced[shuffle.target[byte]] = shuffle.bits[(byte << 8) | value];
        balanced[shuffle.target[complement]] = shuffle.bits[(complement << 8) | (value ^ 0xff)];
      }
      current = balanced;
    }
    out.set(current.subarray(0, outputBytes), offset);
    if (flip) flip(out, offset);
  };
}

/**
 * Balancing's keyed permutation, applied a byte at a time: the 2n bytes of filter and complement
 * go to keyed byte positions, each through its own keyed permutation of the 8 bits (as a 256-entry
 * table). A full bit-level permutation would hide no more: whatever the permutation, each bit and
 * its complement stay perfectly anti-correlated across records (BLIP blurs that), and byte tables
 * cost one lookup per byte instead of eight.
 */
function balancePermutation(key: Uint8Array, bytes: number): { target: Uint16Array; bits: Uint8Array } {
  const positions = 2 * bytes;
  const target = Uint16Array.from(keyedPermutation(key, 'balance bytes', positions));
  const stream = new KeyedStream(key, utf8ToBytes('balance bits'));
  const bits = new Uint8Array(positions * 256);
  const order = new Uint8Array(8);
  for (let position = 0; position < positions; position++) {
    for (let i = 0; i < 8; i++) order[i] = i;
    for (let i = 7; i > 0; i--) {
      const j = stream.below(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let value = 0; value < 256; value++) {
      let mapped = 0;
      for (let bit = 0; bit < 8; bit++) if (value & (0x80 >>> bit)) mapped |= 0x80 >>> order[bit];
      bits[(position << 8) | value] = mapped;
    }
  }
  return { target, bits };
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

/**
 * BLIP (Schnell and Borgs 2017): flips each bit with probability p. The flips are drawn from a
 * generator seeded by a keyed hash of the filter itself: deterministic (the same record always
 * encodes the same way, as matching and tests need) yet unpredictable without the key. The keyed
 * hash mixes every 32-bit word with a secret per-position word; a fast generator (sfc32) expands
 * the seed, since its output is never visible on its own, only through the flipped filter.
 */
function blipper(probability: number, key: Uint8Array, bytes: number): (out: Uint8Array, offset: number) => void {
  const stream = new KeyedStream(key, utf8ToBytes('blip'));
  const words = Math.ceil(bytes / 4);
  const positionKeys = Uint32Array.from({ length: 2 * words + 4 }, () => stream.nextU32());
  const bits = bytes * 8;
  const logKeep = Math.log(1 - probability);
  return (out, offset) => {
    let h1 = positionKeys[2 * words];
    let h2 = positionKeys[2 * words + 1];
    for (let w = 0; w < words; w++) {
      const i = offset + 4 * w;
      const word = (out[i] << 24) | (out[i + 1] << 16) | (out[i + 2] << 8) | out[i + 3];
      h1 = Math.imul((h1 ^ word ^ positionKeys[2 * w]) >>> 0, 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul((h2 ^ word ^ positionKeys[2 * w + 1]) >>> 0, 0x85ebca77);
      h2 = (h2 << 17) | (h2 >>> 15);
    }
    const random = sfc32(h1, h2, positionKeys[2 * words + 2], positionKeys[2 * words + 3]);
    // Geometric gaps between flipped positions: about p * l draws instead of l.
    const gap = (): number => Math.floor(Math.log(1 - random()) / logKeep);
    for (let i = gap(); i < bits; i += 1 + gap()) out[offset + (i >>> 3)] ^= 0x80 >>> (i & 7);
  };
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): uniform in [0, 1). */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  for (let i = 0; i < 12; i++) step();
  function step(): number {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  }
  return () => step() / 4294967296;
}
