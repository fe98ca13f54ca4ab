// The PSI group against an independent implementation (@noble/curves): hashing lands in the
// prime-order subgroup and converts to the same u-coordinate, blinding is X25519, blindings commute.
import { randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { blindElements, blindingKey, ELEMENT_BYTES, firstNonCanonical, hashToGroup, loadGroup, LowOrderElement } from '../src/psi/group.js';
import { deriveBlindingSeed, hashDomain, tokenDigests } from '../src/psi/keys.js';
import { sharedElements } from '../src/psi/message.js';
import { shuffleElements } from '../src/psi/protocol.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const element = (elements: Uint8Array, i: number): Uint8Array => elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);

function littleEndian(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

beforeAll(() => loadGroup());

describe('hashToGroup', () => {
  it('maps each digest to the u-coordinate of a prime-order point, as noble converts it', () => {
    const count = 40;
    const digests = randomBytes(64 * count);
    const elements = hashToGroup(digests, count);
    for (let i = 0; i < count; i++) {
      const edwards = sodium.crypto_core_ed25519_from_hash(digests.subarray(64 * i, 64 * i + 64));
      const point = ed25519.Point.fromBytes(edwards);
      expect(point.isTorsionFree()).toBe(true);
      expect(point.is0()).toBe(false);
      expect(hex(element(elements, i))).toBe(hex(ed25519.utils.toMontgomery(edwards)));
    }
  });

  it('is deterministic and separates sessions and schemas', () => {
    const tokens = ['["ann","lee"]', '["bo","kim"]'];
    const run = (session: string, schema: string) => hex(hashToGroup(tokenDigests(hashDomain(session, schema), tokens), tokens.length));
    expect(run('s', 'a'.repeat(64))).toBe(run('s', 'a'.repeat(64)));
    expect(run('s', 'a'.repeat(64))).not.toBe(run('t', 'a'.repeat(64)));
    expect(run('s', 'a'.repeat(64))).not.toBe(run('s', 'b'.repeat(64)));
  });
});

describe('blindElements', () => {
  it('computes X25519 exactly as noble does, and two blindings commute', () => {
    const elements = hashToGroup(randomBytes(64 * 8), 8);
    const seedA = randomBytes(32);
    const seedB = randomBytes(32);
    const a = blindingKey(seedA);
    const b = blindingKey(seedB);
    const once = blindElements(a, elements);
    for (let i = 0; i < 8; i++) expect(hex(element(once, i))).toBe(hex(x25519.scalarMult(seedA, element(elements, i))));
    expect(hex(blindElements(b, once))).toBe(hex(blindElements(a, blindElements(b, elements))));
    expect(firstNonCanonical(once)).toBe(-1);
  });

  it('refuses low-order points, naming the element', () => {
    const elements = hashToGroup(randomBytes(64 * 3), 3);
    elements.set(littleEndian(1n), ELEMENT_BYTES); // u = 1 is a point of order 4
    const key = blindingKey(randomBytes(32));
    expect(() => blindElements(key, elements)).toThrow(LowOrderElement);
    try {
      blindElements(key, elements);
    } catch (error) {
      expect((error as LowOrderElement).index).toBe(1);
    }
  });

  it('derives different keys for different sessions from one key file', () => {
    const file = new TextEncoder().encode('f'.repeat(64));
    expect(hex(deriveBlindingSeed(file, 'one'))).not.toBe(hex(deriveBlindingSeed(file, 'two')));
    expect(hex(deriveBlindingSeed(file, 'one'))).toBe(hex(deriveBlindingSeed(file, 'one')));
  });
});

describe('firstNonCanonical', () => {
  const p = (1n << 255n) - 19n;
  it.each([
    ['p - 1', p - 1n, -1],
    ['p', p, 0],
    ['p + 18 (2^255 - 1)', p + 18n, 0],
    ['2^255 (top bit)', 1n << 255n, 0],
    ['small', 9n, -1],
  ])('%s', (_name, value, expected) => {
    const bytes = new Uint8Array(64);
    bytes.set(littleEndian(9n), 0);
    bytes.set(littleEndian(value & ((1n << 256n) - 1n)), 32);
    expect(firstNonCanonical(bytes)).toBe(expected === -1 ? -1 : 1);
  });
});

describe('shuffleElements and sharedElements', () => {
  it('permutes whole elements and leaves the set unchanged', () => {
    const count = 500;
    const elements = hashToGroup(randomBytes(64 * count), count);
    const before = new Set(Array.from({ length: count }, (_, i) => hex(element(elements, i))));
    const shuffled = shuffleElements(elements.slice());
    const after = Array.from({ length: count }, (_, i) => hex(element(shuffled, i)));
    expect(new Set(after)).toEqual(before);
    // 500 elements left in place by chance: probability 1/500!.
    expect(after.some((value, i) => value !== hex(element(elements, i)))).toBe(true);
  });

  it('counts common elements', () => {
    const elements = hashToGroup(randomBytes(64 * 10), 10);
    expect(sharedElements(elements.subarray(0, 6 * 32), elements.subarray(3 * 32))).toBe(3);
    expect(sharedElements(elements.subarray(0, 3 * 32), elements.subarray(3 * 32))).toBe(0);
    expect(sharedElements(new Uint8Array(0), elements)).toBe(0);
  });
});
