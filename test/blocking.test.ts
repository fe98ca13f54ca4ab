// Hamming LSH blocking against all-pairs matching on seeded random filters with planted
// near-duplicates at known Dice scores; the shared-buffer Arrow reader; keyed signature blocks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockedCandidates, chooseBlocking } from '../src/blocking/blocked-candidates.js';
import { planLsh, tablesFor } from '../src/blocking/lsh-plan.js';
import { createSignatureKeyer, deriveBlockingKey, signatureCandidates, SIGNATURE_ROW_BYTES, soundex, type SignatureFields } from '../src/blocking/signature.js';
import { UserError } from '../src/errors.js';
import { readEncodedFile, writeEncodedFile } from '../src/io/encoded-file.js';
import { findCandidates } from '../src/match/candidates.js';
import type { FilterSet } from '../src/match/shared-filters.js';
import type { Candidates } from '../src/match/tile.js';
import { greedySolve } from '../src/solve/greedy.js';

const BITS = 1024;
const BYTES = BITS / 8;
const THRESHOLD = 0.8;

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSet(count: number, random: () => number): FilterSet {
  const clks = new Uint8Array(count * BYTES);
  for (let row = 0; row < count; row++) {
    const fill = 0.4 + 0.2 * random();
    for (let i = 0; i < BITS; i++) if (random() < fill) clks[row * BYTES + (i >> 3)] |= 0x80 >> (i & 7);
  }
  return { filterBits: BITS, count, clks };
}

/** A copy of `b` row `row` moving m set bits elsewhere: same popcount p, Dice (p - m) / p. */
function plant(b: FilterSet, row: number, dice: number, random: () => number): Uint8Array {
  const out = b.clks.slice(row * BYTES, (row + 1) * BYTES);
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < BITS; i++) (out[i >> 3] & (0x80 >> (i & 7)) ? on : off).push(i);
  const moves = Math.floor(on.length * (1 - dice));
  for (let k = 0; k < moves; k++) {
    const clear = on.splice(Math.floor(random() * on.length), 1)[0];
    const set = off.splice(Math.floor(random() * off.length), 1)[0];
    out[clear >> 3] &= ~(0x80 >> (clear & 7));
    out[set >> 3] |= 0x80 >> (set & 7);
  }
  return out;
}

/** B: random filters; A: `planted` near-copies of B rows with Dice spread over [0.78, 1], then random rows. */
function population(countA: number, countB: number, planted: number, seed: number): { a: FilterSet; b: FilterSet } {
  const random = mulberry32(seed);
  const b = randomSet(countB, random);
  const a = randomSet(countA, random);
  for (let k = 0; k < planted; k++) {
    a.clks.set(plant(b, Math.floor(random() * countB), 0.78 + 0.22 * (k / planted), random), k * BYTES);
  }
  return { a, b };
}

function rows(c: Candidates): string[] {
  return Array.from({ length: c.length }, (_, k) => `${c.a[k]},${c.b[k]},${c.score[k]}`).sort();
}

describe('Hamming LSH blocking', () => {
  const { a, b } = population(2_000, 20_000, 500, 11);

  it('finds at least 99% of the all-pairs candidates, each once, with identical scores', async () => {
    const all = rows(await findCandidates(a, b, { threshold: THRESHOLD, workers: 0 }));
    const blocked = await blockedCandidates(a, b, { threshold: THRESHOLD, workers: 0, seed: 5 });
    const found = rows(blocked);
    expect(new Set(found).size).toBe(found.length);
    const truth = new Set(all);
    for (const pair of found) expect(truth.has(pair)).toBe(true);
    expect(all.length).toBeGreaterThan(400);
    expect(found.length / all.length).toBeGreaterThanOrEqual(0.99);
    expect(blocked.reductionRatio).toBeGreaterThan(0.95);
    expect(blocked.pairsCompared).toBeLessThan(blocked.pairsTotal * 0.05);
    // The result feeds the solver unchanged.
    expect(greedySolve(blocked, a.count, b.count).length).toBeGreaterThan(0);
  });

  it('is deterministic for a seed, on one thread and on two workers', async () => {
    const first = await blockedCandidates(a, b, { threshold: THRESHOLD, workers: 0, seed: 9 });
    const again = await blockedCandidates(a, b, { threshold: THRESHOLD, workers: 2, seed: 9 });
    expect(rows(again)).toEqual(rows(first));
    expect(again.pairsCompared).toBe(first.pairsCompared);
    expect(again.plan).toEqual(first.plan);
  });

  it('gives the same pairs with the sides swapped', async () => {
    const forward = await blockedCandidates(a, b, { threshold: THRESHOLD, workers: 0, seed: 3 });
    const backward = await blockedCandidates(b, a, { threshold: THRESHOLD, workers: 0, seed: 3 });
    const flipped = rows({ length: backward.length, a: backward.b, b: backward.a, score: backward.score });
    expect(flipped).toEqual(rows(forward));
  });

  it('stops with a UserError past the candidate limit', async () => {
    await expect(blockedCandidates(a, b, { threshold: THRESHOLD, workers: 0, maxCandidates: 10 })).rejects.toBeInstanceOf(UserError);
  });

  it('plans more tables for a lower threshold or a higher target', () => {
    const base = planLsh(a, b, { threshold: 0.9, targetCompleteness: 0.99, seed: 1, indexedCount: a.count });
    const lower = planLsh(a, b, { threshold: 0.7, targetCompleteness: 0.99, seed: 1, indexedCount: a.count });
    expect(lower.agreeAtThreshold).toBeLessThan(base.agreeAtThreshold);
    expect(lower.tables * lower.bitsPerTable).toBeGreaterThan(base.tables * base.bitsPerTable);
    expect(base.predictedCompleteness).toBeGreaterThanOrEqual(0.99);
    expect(tablesFor(0.5, 0.99)).toBe(7);
    expect(chooseBlocking(1_000, 1_000)).toBe('none');
    expect(chooseBlocking(1_280_000, 10_000_000)).toBe('lsh');
  });
});

describe('readEncodedFile with shared: true (the streaming Arrow reader)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blindlink-blocking-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the same filters as readEncodedFile into a SharedArrayBuffer', async () => {
    const { b } = population(10, 3_000, 0, 4);
    const popcounts = new Uint16Array(b.count);
    for (let r = 0; r < b.count; r++) for (let i = r * BYTES; i < (r + 1) * BYTES; i++) for (let v = b.clks[i]; v; v &= v - 1) popcounts[r]++;
    const path = join(dir, 'b.arrow');
    const metadata = { blindlinkVersion: 'test', schemaFingerprint: 'f', keyCheck: 'k', filterBits: BITS, recordCount: b.count, hardening: 'none' };
    await writeEncodedFile(path, { clks: b.clks, popcounts, ids: null, filterBits: BITS, metadata });
    const shared = await readEncodedFile(path, { shared: true });
    const plain = await readEncodedFile(path);
    expect(shared.clks.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.count).toBe(b.count);
    expect(shared.metadata?.recordCount).toBe(b.count);
    expect(Buffer.from(shared.clks).equals(Buffer.from(plain.clks))).toBe(true);
    expect(Array.from(shared.popcounts)).toEqual(Array.from(plain.popcounts));
  });

  it('names the file when it is not Arrow', async () => {
    await expect(readEncodedFile(join(dir, 'missing.arrow'), { shared: true })).rejects.toThrow(/missing\.arrow: cannot read/);
  });
});

describe('keyed signature blocking', () => {
  it('computes American Soundex', () => {
    const cases: Array<[string, string]> = [['Robert', 'r163'], ['Rupert', 'r163'], ['Ashcraft', 'a261'], ['Tymczak', 't522'], ['Pfister', 'p236'], ['Honeyman', 'h555'], ['Lee', 'l000'], ['', '']];
    for (const [name, code] of cases) expect(soundex(name)).toBe(code);
  });

  it('keys depend on the secret, and a missing part leaves its slot empty', () => {
    const fields = { givenName: 'ann', surname: 'lee', birthYear: '1980', zip: '02139' };
    const one = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(1)));
    const two = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(2)));
    expect(one(fields)).toEqual(one(fields));
    expect(Buffer.from(one(fields)).equals(Buffer.from(two(fields)))).toBe(false);
    // Lee and Li share Soundex l000, so the first slot agrees; the ZIP slot is empty without a ZIP.
    expect(Buffer.from(one({ ...fields, surname: 'Li' }).subarray(0, 8)).equals(Buffer.from(one(fields).subarray(0, 8)))).toBe(true);
    expect(Array.from(one({ ...fields, zip: '' }).subarray(8, 16))).toEqual(new Array(8).fill(0));
    expect(SIGNATURE_ROW_BYTES).toBe(16);
  });

  it('finds the pairs that share a block, once each, with all-pairs scores', async () => {
    const { a, b } = population(300, 3_000, 100, 21);
    const keyer = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(7)));
    const person = (row: number): SignatureFields => ({ givenName: `g${row % 50}`, surname: `name${row % 400}`, birthYear: String(1900 + (row % 90)), zip: String(10000 + (row % 700)) });
    const keysB = new Uint8Array(b.count * SIGNATURE_ROW_BYTES);
    for (let j = 0; j < b.count; j++) keysB.set(keyer(person(j)), j * SIGNATURE_ROW_BYTES);
    // Planted A rows copy their B row's fields; the rest get fields of no B row.
    const random = mulberry32(21);
    const keysA = new Uint8Array(a.count * SIGNATURE_ROW_BYTES);
    const all = await findCandidates(a, b, { threshold: THRESHOLD, workers: 0 });
    const partner = new Map<number, number>();
    for (let k = 0; k < all.length; k++) partner.set(all.a[k], all.b[k]);
    for (let i = 0; i < a.count; i++) keysA.set(keyer(partner.has(i) ? person(partner.get(i) ?? 0) : person(5_000 + Math.floor(random() * 1000))), i * SIGNATURE_ROW_BYTES);
    const found = signatureCandidates(a, b, keysA, keysB, { threshold: THRESHOLD });
    const got = rows(found);
    expect(new Set(got).size).toBe(got.length);
    const truth = new Set(rows(all));
    for (const pair of got) expect(truth.has(pair)).toBe(true);
    expect(got.length / all.length).toBeGreaterThanOrEqual(0.99);
    expect(found.reductionRatio).toBeGreaterThan(0.9);
  });
});
