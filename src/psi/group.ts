// The group PSI-cardinality computes in: the prime-order subgroup of Curve25519 (order
// l = 2^252 + 27742317777372353535851937790883648493, the group ristretto255 also encodes), each
// element carried as its X25519 u-coordinate (32 bytes, little-endian). The u-coordinate names a
// point up to its sign, which commutative blinding never needs: u([a]P) = u([a](-P)).
//
// Why not ristretto255 arithmetic itself: measured on this machine (bench/psi.ts, docs/BENCHMARKS.md),
// @noble/curves' ristretto255 multiply costs about 0.9-1.0 ms (multiplyUnsafe no less) and
// libsodium's WebAssembly one 0.11-0.14 ms, so the 400,000 multiplications of a 100k x 100k run
// would take about 380 or 50 core-seconds against the target of 28.3 for the whole run.
// Node's X25519 (OpenSSL's constant-time ladder) costs about 40 us including the key import, and
// hashing onto the group with libsodium about 30 us.
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import sodium from 'libsodium-wrappers-sumo';

export const ELEMENT_BYTES = 32;
/** Bytes of the uniform string hashed onto the group (a SHA-512 digest). */
export const DIGEST_BYTES = 64;
/** The name message headers carry; a message naming another group is refused. */
export const GROUP_NAME = 'curve25519-prime-order-subgroup/x25519-u';

const FIELD_PRIME = (1n << 255n) - 19n;
const MASK_64 = (1n << 64n) - 1n;
// PKCS #8 wrapping of a raw X25519 private key (RFC 8410): the DER prefix, then the 32 key bytes.
const PKCS8_X25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

let ready: Promise<void> | null = null;

/** Loads libsodium's WebAssembly once per thread; every other function here needs it first. */
export function loadGroup(): Promise<void> {
  ready ??= sodium.ready;
  return ready;
}

function readLittleEndian(bytes: Uint8Array, offset: number): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 32);
  return view.getBigUint64(0, true) | (view.getBigUint64(8, true) << 64n) | (view.getBigUint64(16, true) << 128n) | (view.getBigUint64(24, true) << 192n);
}

function writeLittleEndian(value: bigint, out: Uint8Array, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset + offset, 32);
  view.setBigUint64(0, value & MASK_64, true);
  view.setBigUint64(8, (value >> 64n) & MASK_64, true);
  view.setBigUint64(16, (value >> 128n) & MASK_64, true);
  view.setBigUint64(24, value >> 192n, true);
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let square = base % FIELD_PRIME;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * square) % FIELD_PRIME;
    square = (square * square) % FIELD_PRIME;
  }
  return result;
}

/**
 * Hashes `count` 64-byte uniform digests onto the group: libsodium's crypto_core_ed25519_from_hash
 * (the 64 bytes reduced to one field element, Elligator 2, cofactor cleared, so the point lies in
 * the prime-order subgroup and nobody knows its discrete logarithm), then the birational map to
 * Curve25519, u = (1 + y) / (1 - y). The divisions share one inversion (Montgomery's trick), so
 * the map costs three field multiplications per point instead of an exponentiation.
 *
 * @example hashToGroup(sha512Digests, 2) // 64 bytes: two u-coordinates
 */
export function hashToGroup(digests: Uint8Array, count: number): Uint8Array {
  const numerators = new Array<bigint>(count);
  const denominators = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    const point = sodium.crypto_core_ed25519_from_hash(digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    point[31] &= 0x7f; // the top bit is the sign of x, not part of y
    const y = readLittleEndian(point, 0);
    numerators[i] = (1n + y) % FIELD_PRIME;
    // y = 1 is the neutral element, which a hash reaches with probability 2^-252.
    denominators[i] = (FIELD_PRIME + 1n - y) % FIELD_PRIME || 1n;
  }
  const prefix = new Array<bigint>(count);
  let running = 1n;
  for (let i = 0; i < count; i++) {
    prefix[i] = running;
    running = (running * denominators[i]) % FIELD_PRIME;
  }
  let inverse = power(running, FIELD_PRIME - 2n);
  const out = new Uint8Array(count * ELEMENT_BYTES);
  for (let i = count - 1; i >= 0; i--) {
    const inverseOfThis = (inverse * prefix[i]) % FIELD_PRIME;
    inverse = (inverse * denominators[i]) % FIELD_PRIME;
    writeLittleEndian((numerators[i] * inverseOfThis) % FIELD_PRIME, out, i * ELEMENT_BYTES);
  }
  return out;
}

/**
 * The blinding key for a 32-byte secret seed. X25519 clamps it to 2^254 + 8m: a multiple of the
 * cofactor, so every result stays in the prime-order subgroup, and reduction modulo l is implicit.
 */
export function blindingKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('a blinding seed has 32 bytes');
  const der = new Uint8Array(PKCS8_X25519_PREFIX.length + 32);
  der.set(PKCS8_X25519_PREFIX);
  der.set(seed, PKCS8_X25519_PREFIX.length);
  const key = createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' });
  der.fill(0);
  return key;
}

/** Thrown for an element a blinding cannot use: the other party sent a low-order point. */
export class LowOrderElement extends Error {
  constructor(readonly index: number) {
    super(`element ${index} is a low-order point`);
  }
}

/**
 * Raises every element to the key: u([k]P) by X25519, OpenSSL's constant-time Montgomery ladder,
 * so the time taken says nothing about the secret scalar. `out` may be `elements` itself.
 */
export function blindElements(key: KeyObject, elements: Uint8Array, out: Uint8Array = new Uint8Array(elements.length)): Uint8Array {
  const count = elements.length / ELEMENT_BYTES;
  const source = Buffer.from(elements.buffer, elements.byteOffset, elements.length);
  for (let i = 0; i < count; i++) {
    const x = source.toString('base64url', i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: key, publicKey });
    } catch {
      // OpenSSL refuses an all-zero result, which only a low-order input gives.
      throw new LowOrderElement(i);
    }
    out.set(shared, i * ELEMENT_BYTES);
  }
  return out;
}

/**
 * Index of the first element that is not a canonical u-coordinate (top bit set, or not below
 * 2^255 - 19), or -1. Canonical encodings give every element one spelling, so equal elements are
 * equal bytes and a counterparty cannot pad a count with a second spelling of the same element.
 */
export function firstNonCanonical(elements: Uint8Array): number {
  for (let offset = 0, i = 0; offset < elements.length; offset += ELEMENT_BYTES, i++) {
    const top = elements[offset + 31];
    if (top > 0x7f) return i;
    if (top < 0x7f || elements[offset] < 0xed) continue;
    let allOnes = true;
    for (let j = 1; j < 31 && allOnes; j++) allOnes = elements[offset + j] === 0xff;
    if (allOnes) return i;
  }
  return -1;
}
