// Party tokens: 256 random bits, shown once at project creation, kept only as SHA-256 hashes and
// compared in constant time, so neither a stolen database nor response timing yields a token.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

const TOKEN_PREFIX = 'blt_';
/** Compared against when no party could match, so a missing project costs the same time as a wrong token. */
const DUMMY_HASH = bytesToHex(sha256(utf8ToBytes('blindlink: no such party')));

/** A new token: `blt_` and 43 base64url characters (32 random bytes). */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a token (hex SHA-256 of its UTF-8). */
export function hashToken(token: string): string {
  return bytesToHex(sha256(utf8ToBytes(token)));
}

/**
 * The index of the candidate hash equal to the presented token's hash, or -1. Every candidate is
 * compared (constant-time per comparison, no early exit), and an empty list still compares once.
 */
export function matchToken(presented: string, hashes: readonly string[]): number {
  const digest = sha256(utf8ToBytes(presented));
  let found = -1;
  for (const [index, hash] of (hashes.length === 0 ? [DUMMY_HASH] : hashes).entries()) {
    const equal = timingSafeEqual(digest, hexToBytes(hash));
    if (equal && hashes.length > 0) found = index;
  }
  return found;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer (\S{1,512})$/.exec(header.trim());
  return match === null ? null : match[1];
}
