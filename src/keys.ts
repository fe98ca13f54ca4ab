// Key material from the shared secret: per-field key pairs by HKDF (RFC 5869) laid out as clkhash
// does, and the key check value that lets a linkage unit compare secrets without learning them.
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { FieldKeys, KeyDerivation } from './types.js';

/**
 * Derives one key pair per slot: OKM = HKDF(secret, salt, info, 2 * slots * keySize), and slot i
 * takes OKM[2i*keySize ..] as key a and the following keySize bytes as key b (clkhash's layout).
 *
 * @example deriveFieldKeys(secret, { hash: 'SHA256', salt, info, keySize: 64, slots: 3 })[1].a
 */
export function deriveFieldKeys(secret: Uint8Array, kdf: KeyDerivation): FieldKeys[] {
  const hash = kdf.hash === 'SHA512' ? sha512 : sha256;
  const okm = hkdf(hash, secret, kdf.salt, kdf.info, 2 * kdf.slots * kdf.keySize);
  const keys: FieldKeys[] = [];
  for (let slot = 0; slot < kdf.slots; slot++) {
    const start = 2 * slot * kdf.keySize;
    keys.push({
      a: okm.slice(start, start + kdf.keySize),
      b: okm.slice(start + kdf.keySize, start + 2 * kdf.keySize),
    });
  }
  okm.fill(0);
  return keys;
}

const KEY_CHECK_SALT = utf8ToBytes('blindlink key check v1');
const KEY_CHECK_LABEL = utf8ToBytes('blindlink: same secret?');

/**
 * Key check value: HMAC-SHA256 under an HKDF-derived key of a fixed label, first 16 bytes as hex.
 * Two files share it exactly when they were made with the same secret. It reveals nothing else
 * about a secret of 256 random bits; a guessable passphrase could be tested against it offline,
 * which is why `keygen` exists and `inspect` warns about low-entropy secrets.
 */
export function keyCheckValue(secret: Uint8Array): string {
  const checkKey = hkdf(sha256, secret, KEY_CHECK_SALT, undefined, 32);
  const mac = hmac(sha256, checkKey, KEY_CHECK_LABEL);
  checkKey.fill(0);
  return bytesToHex(mac.subarray(0, 16));
}

/** SHA-256 (hex) of a canonical schema string. */
export function schemaFingerprint(canonicalSchema: string): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalSchema)));
}
