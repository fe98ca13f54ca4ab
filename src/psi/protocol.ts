// The three steps of two-party PSI-cardinality (Huberman, Franklin and Hogg 1999; De Cristofaro,
// Gasti and Tsudik 2012), as OpenMined's PSI-cardinality runs them:
//   1. each party hashes its tokens onto the group, raises them to its secret key, shuffles, sends;
//   2. the registry raises the requester's elements to its own key and sends them back SHUFFLED;
//   3. the requester raises the registry's elements to its key and counts the common elements.
// H(x)^ab = H(x)^ba, so common tokens meet; the registry's shuffle keeps the requester from tying a
// doubly blinded element to its own record, so it learns how many, never which. Under DDH, the
// registry learns only the size of the requester's set, and the requester that of the registry's.
import { randomFillSync } from 'node:crypto';
import { ELEMENT_BYTES } from './group.js';
import { deriveBlindingSeed, hashDomain } from './keys.js';
import { blindAll, hashAndBlind } from './parallel.js';
import { sharedElements } from './message.js';

export interface PartyKey {
  /** The party's own keygen file's bytes (never the shared CLK secret). */
  keyFileBytes: Uint8Array;
  session: string;
  workers: number;
}

/** Fisher-Yates with the OS CSPRNG: an order that says nothing about the records behind it. */
export function shuffleElements(elements: Uint8Array): Uint8Array {
  const count = elements.length / ELEMENT_BYTES;
  const random = new Uint32Array(2 * Math.max(1, count));
  randomFillSync(random);
  const swap = new Uint8Array(ELEMENT_BYTES);
  for (let i = count - 1; i > 0; i--) {
    // 53 random bits per draw: the modulo bias is below 2^-26 for any set this tool can hold.
    const uniform = ((random[2 * i] >>> 11) * 2 ** 32 + random[2 * i + 1]) / 2 ** 53;
    const j = Math.floor(uniform * (i + 1));
    if (j === i) continue;
    const a = i * ELEMENT_BYTES;
    const b = j * ELEMENT_BYTES;
    swap.set(elements.subarray(a, a + ELEMENT_BYTES));
    elements.copyWithin(a, b, b + ELEMENT_BYTES);
    elements.set(swap, b);
  }
  return elements;
}

function job(party: PartyKey, schemaFingerprint: string, source: string) {
  return { setup: { seed: deriveBlindingSeed(party.keyFileBytes, party.session), domain: hashDomain(party.session, schemaFingerprint) }, workers: party.workers, source };
}

/** Step 1: the party's own tokens, hashed, blinded under its key and shuffled. */
export async function blindOwnSet(party: PartyKey, schemaFingerprint: string, tokens: readonly string[]): Promise<Uint8Array> {
  const blinding = job(party, schemaFingerprint, 'tokens');
  try {
    return shuffleElements(await hashAndBlind(blinding, tokens));
  } finally {
    blinding.setup.seed.fill(0);
  }
}

/** Step 2 (and the first half of step 3): another party's elements under this party's key, shuffled. */
export async function reblindOther(party: PartyKey, schemaFingerprint: string, elements: Uint8Array, source: string): Promise<Uint8Array> {
  const blinding = job(party, schemaFingerprint, source);
  try {
    return shuffleElements(await blindAll(blinding, elements));
  } finally {
    blinding.setup.seed.fill(0);
  }
}

/** Step 3: the intersection size, from the own set blinded by both and the other's set blinded by both. */
export function intersectionSize(ownDoubly: Uint8Array, otherDoubly: Uint8Array): number {
  return sharedElements(ownDoubly, otherDoubly);
}
