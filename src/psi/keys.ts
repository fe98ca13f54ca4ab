// A party's PSI blinding seed and the hash domain both parties share. The seed comes from the
// party's OWN keygen file (never the CLK secret the custodians share: the other custodian knows
// that one, and with it could unblind), by HKDF with the session label as info, so one key file
// used in two sessions still gives unlinkable blinded sets.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { DIGEST_BYTES } from './group.js';

const SEED_SALT = utf8ToBytes('blindlink psi-cardinality v1 blinding key');
const DOMAIN_LABEL = 'blindlink psi-cardinality v1 token hash';

/** 32 bytes for blindingKey(); the caller zeroes it when done. */
export function deriveBlindingSeed(keyFileBytes: Uint8Array, session: string): Uint8Array {
  return hkdf(sha256, keyFileBytes, SEED_SALT, utf8ToBytes(session), 32);
}

function lengthPrefixed(parts: readonly string[]): Uint8Array {
  const encoded = parts.map((part) => utf8ToBytes(part));
  const out = new Uint8Array(encoded.reduce((sum, part) => sum + 4 + part.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of encoded) {
    view.setUint32(offset, part.length);
    out.set(part, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}

/**
 * The bytes every token hash starts with: a fixed label, the session and the schema fingerprint,
 * length-prefixed. Domain separation means a blinded set from one session or schema never meets
 * another's, and no other protocol hashing the same names onto the same group collides with this one.
 */
export function hashDomain(session: string, schemaFingerprint: string): Uint8Array {
  return lengthPrefixed([DOMAIN_LABEL, session, schemaFingerprint]);
}

/** SHA-512(domain || len(token) || token) for each token, concatenated (64 bytes each). */
export function tokenDigests(domain: Uint8Array, tokens: readonly string[]): Uint8Array {
  const keyed = sha512.create().update(domain);
  const out = new Uint8Array(tokens.length * DIGEST_BYTES);
  const length = new Uint8Array(4);
  const view = new DataView(length.buffer);
  for (let i = 0; i < tokens.length; i++) {
    const bytes = utf8ToBytes(tokens[i]);
    view.setUint32(0, bytes.length);
    out.set(keyed.clone().update(length).update(bytes).digest(), i * DIGEST_BYTES);
  }
  return out;
}
