// Hardening options: each is deterministic, keyed by the secret, does what its definition says,
// and leaves true pairs findable by Dice similarity.
import { describe, expect, it } from 'vitest';
import { popcount } from '../src/bits.js';
import { recordEncoder } from '../src/encoder.js';
import { deriveHardeningKey, keyedPermutation, rule90 } from '../src/harden.js';
import { deriveFieldKeys } from '../src/keys.js';
import { compileSchema } from '../src/schema/load.js';
import type { Json } from '../src/schema/json-checks.js';
import { diceOf, people, typoVariant } from './helpers/people.js';

const base = {
  blindlink: 1,
  filter: { bits: 1024 },
  fields: [
    { name: 'given_name', normalise: 'name', bitsPerToken: 20 },
    { name: 'surname', normalise: 'name', bitsPerToken: 20 },
    { name: 'date_of_birth', normalise: 'date', tokens: { type: 'date' }, bitsPerToken: 30 },
    { name: 'city', normalise: 'text', bitsPerToken: 10 },
  ],
};

function encodeAll(hardening: object, rows: string[][], secretText = 'test secret for hardening'): Uint8Array[] {
  const plan = compileSchema({ ...base, hardening } as Json);
  const secret = new TextEncoder().encode(secretText);
  const encoder = recordEncoder(plan, deriveFieldKeys(secret, plan.kdf), deriveHardeningKey(secret, plan.kdf));
  return rows.map((row) => {
    const out = new Uint8Array(encoder.width);
    const result = encoder.encode(row, out, 0);
    if (typeof result !== 'number') throw new Error(result.reason);
    return out;
  });
}

const OPTIONS: [string, object][] = [
  ['xor-fold', { xorFolds: 1 }],
  ['rule 90', { rule90: true }],
  ['diffusion', { diffusion: { taps: 4 } }],
  ['balance', { balance: true }],
  ['blip', { blip: 0.02 }],
  ['salt by birth year', { salt: { field: 'date_of_birth', prefix: 4 } }],
  ['balance + blip + salt', { balance: true, blip: 0.02, salt: { field: 'date_of_birth', prefix: 4 } }],
];

const population = people(300, 11);
const variants = population.map((row, i) => typoVariant(row, i));

describe.each(OPTIONS)('hardening: %s', (_name, hardening) => {
  const encoded = encodeAll(hardening, population);

  it('is deterministic and depends on the secret', () => {
    const again = encodeAll(hardening, population.slice(0, 20));
    const otherKey = encodeAll(hardening, population.slice(0, 20), 'a different secret');
    again.forEach((clk, i) => expect(Buffer.from(clk).equals(Buffer.from(encoded[i]))).toBe(true));
    expect(otherKey.filter((clk, i) => Buffer.from(clk).equals(Buffer.from(encoded[i]))).length).toBe(0);
  });

  it('still ranks each record\'s corrupted twin first', () => {
    const twins = encodeAll(hardening, variants);
    let found = 0;
    twins.forEach((twin, i) => {
      let best = -1;
      let bestScore = -1;
      encoded.forEach((candidate, j) => {
        const score = diceOf(twin, candidate);
        if (score > bestScore) [best, bestScore] = [j, score];
      });
      if (best === i) found++;
    });
    expect(found / twins.length).toBeGreaterThan(0.95);
  });
});

describe('hardening definitions', () => {
  it('balance gives filters of twice the length with exactly half the bits set', () => {
    const balanced = encodeAll({ balance: true }, population.slice(0, 50));
    for (const clk of balanced) {
      expect(clk.length).toBe(256);
      expect(popcount(clk)).toBe(1024);
    }
  });

  it('xor-fold hashes into twice filter.bits and folds back to filter.bits', () => {
    const plan = compileSchema({ ...base, hardening: { xorFolds: 1 } } as Json);
    expect([plan.hashBits, plan.filterBits]).toEqual([2048, 1024]);
    expect(encodeAll({ xorFolds: 1 }, population.slice(0, 1))[0].length).toBe(128);
  });

  it('blip flips about the stated share of bits', () => {
    const plain = encodeAll({}, population);
    const flipped = encodeAll({ blip: 0.05 }, population);
    let differing = 0;
    plain.forEach((clk, i) => {
      for (let b = 0; b < clk.length; b++) differing += popcount(new Uint8Array([clk[b] ^ flipped[i][b]]));
    });
    const rate = differing / (plain.length * 1024);
    expect(rate).toBeGreaterThan(0.045);
    expect(rate).toBeLessThan(0.055);
  });

  it('rule 90 sets each bit to the XOR of its cyclic neighbours', () => {
    const input = new Uint8Array([0b10000000, 0b00000001]); // bits 0 and 15 of 16
    const output = new Uint8Array(2);
    rule90(input, output);
    // bit 1 (neighbour 0), bit 14 (neighbour 15); bit 0 has neighbours 15 and 1 -> 1; bit 15 has 14 and 0 -> 1.
    const set = [...Array(16).keys()].filter((i) => output[i >> 3] & (0x80 >> (i & 7)));
    expect(set).toEqual([0, 1, 14, 15]);
  });

  it('keyed permutations are permutations, and differ by key', () => {
    const key = new Uint8Array(64).fill(3);
    const permutation = keyedPermutation(key, 'balance', 2048);
    expect(new Set(permutation).size).toBe(2048);
    expect(Array.from(permutation)).not.toEqual(Array.from(keyedPermutation(new Uint8Array(64).fill(4), 'balance', 2048)));
  });

  it('salting separates records whose birth years differ, even if all else agrees', () => {
    const [a, b] = encodeAll({ salt: { field: 'date_of_birth', prefix: 4 } }, [
      ['Ann', 'Lee', '1980-01-02', 'Austin'],
      ['Ann', 'Lee', '1981-01-02', 'Austin'],
    ]);
    const [c, d] = encodeAll({}, [
      ['Ann', 'Lee', '1980-01-02', 'Austin'],
      ['Ann', 'Lee', '1981-01-02', 'Austin'],
    ]);
    expect(diceOf(c, d)).toBeGreaterThan(0.85);
    expect(diceOf(a, b)).toBeLessThan(0.7);
  });
});
