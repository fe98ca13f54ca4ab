// Token -> bit positions. Keyed BLAKE2b and double hashing reproduce clkhash's blakeHash and
// doubleHash bit for bit; HMAC-SHA256 is the conservative alternative for native schemas.
import { blake2b } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { FieldKeys, TokenHash } from './types.js';

/** Writes the k bit positions of `token` into `out[0..k)`, in generation order (duplicates kept). */
export type TokenPositions = (token: Uint8Array, k: number, out: Uint32Array) => void;

/**
 * Builds the position function for one field. Keyed states are created once here and cloned
 * per token, so the key block is prepared once per field rather than once per token.
 *
 * @example const positions = tokenPositions({ type: 'blake2b' }, keys, 1024);
 *          positions(utf8ToBytes('jo'), 30, out);
 */
export function tokenPositions(hash: TokenHash, keys: FieldKeys, hashBits: number): TokenPositions {
  switch (hash.type) {
    case 'blake2b':
      return blakePositions(keys.a, hashBits);
    case 'double':
      return doubleHashPositions(keys, hashBits, hash.preventSingularity);
    case 'hmac-sha256':
      return hmacSha256Positions(keys.a, hashBits);
  }
}

function blakeSalt(counter: number): Uint8Array {
  const salt = new Uint8Array(16);
  const digits = String(counter);
  for (let i = 0; i < digits.length; i++) salt[i] = digits.charCodeAt(i);
  return salt;
}

// clkhash: digest c (c = 0, 1, ...) is BLAKE2b-512 keyed with key a and salted with the decimal
// string of c; its 64 bytes are 32 little-endian u16 values, each taken mod L.
function blakePositions(key: Uint8Array, hashBits: number): TokenPositions {
  const states: ReturnType<typeof blake2b.create>[] = [];
  const digest = new Uint8Array(64);
  return (token, k, out) => {
    for (let c = 0, produced = 0; produced < k; c++) {
      if (states.length <= c) states.push(blake2b.create({ key, salt: blakeSalt(c), dkLen: 64 }));
      states[c].clone().update(token).digestInto(digest);
      for (let i = 0; i < 32 && produced < k; i++) {
        out[produced++] = (digest[2 * i] | (digest[2 * i + 1] << 8)) % hashBits;
      }
    }
  };
}

function hmacSha256Positions(key: Uint8Array, hashBits: number): TokenPositions {
  const state = hmac.create(sha256, key);
  const digest = new Uint8Array(32);
  const counter = new Uint8Array(1);
  return (token, k, out) => {
    for (let c = 0, produced = 0; produced < k; c++) {
      counter[0] = c;
      state.clone().update(counter).update(token).digestInto(digest);
      for (let i = 0; i < 16 && produced < k; i++) {
        out[produced++] = (digest[2 * i] | (digest[2 * i + 1] << 8)) % hashBits;
      }
    }
  };
}

/** A digest read as one big-endian integer, reduced mod `modulus` (< 2^32). */
function bigEndianMod(digest: Uint8Array, modulus: number): number {
  let remainder = 0;
  for (let i = 0; i < digest.length; i++) remainder = (remainder * 256 + digest[i]) % modulus;
  return remainder;
}

// Double hashing (Schnell et al. 2009) as clkhash implements it. With preventSingularity a zero
// step h2 (which would set one bit k times) is re-drawn by appending chr(0), chr(1), ... as UTF-8.
function doubleHashPositions(keys: FieldKeys, hashBits: number, preventSingularity: boolean): TokenPositions {
  const sha1State = hmac.create(sha1, keys.a);
  const md5State = hmac.create(md5, keys.b);
  const encoder = new TextEncoder();
  return (token, k, out) => {
    const h1 = bigEndianMod(sha1State.clone().update(token).digest(), hashBits);
    let h2 = bigEndianMod(md5State.clone().update(token).digest(), hashBits);
    for (let c = 0; preventSingularity && h2 === 0; c++) {
      h2 = bigEndianMod(md5State.clone().update(token).update(encoder.encode(String.fromCodePoint(c))).digest(), hashBits);
    }
    for (let j = 0; j < k; j++) out[j] = (h1 + j * h2) % hashBits;
  };
}
