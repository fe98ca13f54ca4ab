// Hamming LSH blocking against all-pairs matching on seeded random filters with planted
// near-duplicates at known Dice scores; the shared-buffer Arrow reader; keyed signature blocks:
// keys from prepared values, the join's two verifiers against each other and against all pairs,
// and the block_keys column.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, FixedSizeBinary, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Uint16 } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { blockedCandidates, chooseBlocking } from '../src/blocking/blocked-candidates.js';
import { lshPairsBlocked } from '../src/blocking/lsh-completeness.js';
import { lshPlanFor, planLsh, tablesFor } from '../src/blocking/lsh-plan.js';
import {
  createSignatureKeyer,
  deriveBlockingKey,
  SIGNATURE_ROW_BYTES,
  SIGNATURE_RULE_IDS,
  SIGNATURE_SCHEME,
  signatureRecordKeyer,
  soundex,
  type SignatureFields,
} from '../src/blocking/signature.js';
import { signatureCandidates, signaturePairsBlocked } from '../src/blocking/signature-join.js';
import { popcounts as popcountsOf } from '../src/bits.js';
import { UserError } from '../src/errors.js';
import { readEncodedFile, writeEncodedFile, type EncodingMetadata } from '../src/io/encoded-file.js';
import type { Json } from '../src/schema/json-checks.js';
import { compileSchema } from '../src/schema/load.js';
import { findCandidates } from '../src/match/candidates.js';
import type { FilterSet } from '../src/match/shared-filters.js';
import type { Candidates } from '../src/match/tile.js';
import { greedySolve } from '../src/solve/greedy.js';
import { nearCopy } from './helpers/planted.js';

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
  return nearCopy(b.clks.subarray(row * BYTES, (row + 1) * BYTES), dice, random);
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

  it('gives the same pairs with a partitioned index and the stream cut into many chunks', async () => {
    // 5,000 indexed rows make 4 radix partitions (PARTITION_ROWS = 2048); 3,000-row chunks cut
    // the 20,000 streamed rows into 7 passes. Neither may change which pairs are found.
    const big = population(5_000, 20_000, 500, 17);
    const all = new Set(rows(await findCandidates(big.a, big.b, { threshold: THRESHOLD, workers: 0 })));
    const whole = rows(await blockedCandidates(big.a, big.b, { threshold: THRESHOLD, workers: 0 }));
    const chunked = rows(await blockedCandidates(big.a, big.b, { threshold: THRESHOLD, workers: 0, streamChunkRows: 3_000 }));
    expect(chunked).toEqual(whole);
    for (const pair of whole) expect(all.has(pair)).toBe(true);
    expect(whole.length / all.size).toBeGreaterThanOrEqual(0.99);
  });

  it('blocks filters shorter than the 256-bit pool (the unused pool words stay zero)', async () => {
    const bits = 96;
    const random = mulberry32(3);
    const b: FilterSet = { filterBits: bits, count: 3_000, clks: new Uint8Array(3_000 * 12) };
    for (let i = 0; i < b.clks.length; i++) b.clks[i] = Math.floor(random() * 256);
    // A: exact copies of B's first 50 rows, then random rows.
    const a: FilterSet = { filterBits: bits, count: 400, clks: new Uint8Array(400 * 12) };
    for (let i = 0; i < a.clks.length; i++) a.clks[i] = i < 50 * 12 ? b.clks[i] : Math.floor(random() * 256);
    const all = new Set(rows(await findCandidates(a, b, { threshold: 0.9, workers: 0 })));
    const blocked = rows(await blockedCandidates(a, b, { threshold: 0.9, workers: 0 }));
    for (const pair of blocked) expect(all.has(pair)).toBe(true);
    for (let k = 0; k < 50; k++) expect(blocked).toContain(`${k},${k},1`);
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

  it('reports an impossible record count in the metadata as corruption, without sizing a buffer from it', async () => {
    const { b } = population(10, 500, 0, 6);
    const popcounts = new Uint16Array(b.count);
    const path = join(dir, 'bad-count.arrow');
    const metadata = { blindlinkVersion: 'test', schemaFingerprint: 'f', keyCheck: 'k', filterBits: BITS, recordCount: 1e12, hardening: 'none' };
    for (let r = 0; r < b.count; r++) for (let i = r * BYTES; i < (r + 1) * BYTES; i++) for (let v = b.clks[i]; v; v &= v - 1) popcounts[r]++;
    await writeEncodedFile(path, { clks: b.clks, popcounts, ids: null, filterBits: BITS, metadata });
    await expect(readEncodedFile(path, { shared: true })).rejects.toThrow(/metadata says 1000000000000 records, file holds \d+/);
  });

  it('names the file when it is not Arrow', async () => {
    await expect(readEncodedFile(join(dir, 'missing.arrow'), { shared: true })).rejects.toThrow(/missing\.arrow: cannot read/);
  });
});

describe('keyed signature blocking: keyer and join', () => {
  it('computes American Soundex', () => {
    const cases: Array<[string, string]> = [['Robert', 'r163'], ['Rupert', 'r163'], ['Ashcraft', 'a261'], ['Tymczak', 't522'], ['Pfister', 'p236'], ['Honeyman', 'h555'], ['Lee', 'l000'], ['', '']];
    for (const [name, code] of cases) expect(soundex(name)).toBe(code);
  });

  it('keys depend on the secret, and a missing part leaves its slot empty', () => {
    const fields = { givenName: 'ann', surname: 'lee', birthYear: '1980', zip: '02139' };
    const one = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(1), 'test-fingerprint'));
    const two = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(2), 'test-fingerprint'));
    expect(one(fields)).toEqual(one(fields));
    expect(Buffer.from(one(fields)).equals(Buffer.from(two(fields)))).toBe(false);
    // Lee and Li share Soundex l000, so the first slot agrees; the ZIP slot is empty without a ZIP.
    expect(Buffer.from(one({ ...fields, surname: 'Li' }).subarray(0, 8)).equals(Buffer.from(one(fields).subarray(0, 8)))).toBe(true);
    expect(Array.from(one({ ...fields, zip: '' }).subarray(8, 16))).toEqual(new Array(8).fill(0));
    expect(SIGNATURE_ROW_BYTES).toBe(16);
    // Another schema under the same secret: unrelated keys, so blocks cannot be joined across projects.
    const otherSchema = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(1), 'another-fingerprint'));
    expect(Buffer.from(one(fields)).equals(Buffer.from(otherSchema(fields)))).toBe(false);
    // A first name starting outside the BMP keys on its whole code point, not half a surrogate pair.
    expect(Buffer.from(one({ ...fields, givenName: '\u{1d4d0}nn' })).equals(Buffer.from(one({ ...fields, givenName: '\u{1d4d1}nn' })))).toBe(false);
  });

  it('finds the pairs that share a block, once each, with all-pairs scores', async () => {
    const { a, b } = population(300, 3_000, 100, 21);
    const keyer = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(7), 'test-fingerprint'));
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

describe('keyed signature blocking: keys from prepared values', () => {
  it('is HMAC-SHA256 of "rule id NUL value", first 8 bytes, as node:crypto computes it', () => {
    const key = deriveBlockingKey(new Uint8Array(32).fill(9), 'test-fingerprint');
    const keyer = createSignatureKeyer(key);
    // Short, straddling the keyer's 128-byte buffer with 2-byte characters, and longer than it.
    for (const zip of ['02139', 'é'.repeat(70), '9'.repeat(300)]) {
      for (let round = 0; round < 2; round++) {
        const keys = keyer({ givenName: 'ann', surname: 'lee', birthYear: '1980', zip });
        const expected = (message: string): string => createHmac('sha256', key).update(message, 'utf8').digest().subarray(0, 8).toString('hex');
        expect(Buffer.from(keys.subarray(0, 8)).toString('hex')).toBe(expected('soundex(surname)+birth-year\u0000l000|1980'));
        expect(Buffer.from(keys.subarray(8, 16)).toString('hex')).toBe(expected(`given-initial+zip5\u0000a|${zip}`));
      }
    }
  });

  const plan = compileSchema(JSON.parse(readFileSync(new URL('../docs/examples/taxpayer-signature-schema.json', import.meta.url), 'utf8')) as Json);
  const keysOf = (secret: number, row: readonly string[]): Uint8Array => {
    const out = new Uint8Array(SIGNATURE_ROW_BYTES);
    signatureRecordKeyer(plan, deriveBlockingKey(new Uint8Array(32).fill(secret), 'test-fingerprint'))(row, out, 0);
    return out;
  };
  // Plan field order: given_name, surname, date_of_birth, street_address, city, state, zip.
  const person = ['Mary', 'Smith', '03/14/1962', '1 Main St', 'Springfield', 'IL', '62704'];
  const slot = (keys: Uint8Array, rule: number): string => Buffer.from(keys.subarray(rule * 8, rule * 8 + 8)).toString('hex');
  const empty = '0'.repeat(16);

  it('puts a surname typo with the same Soundex and birth year in the same block', () => {
    const typo = ['Mary', 'Smyth', '1962-03-14', '9 Oak Rd', 'Salem', 'OR', '97301'];
    expect(soundex('smyth')).toBe(soundex('smith'));
    expect(slot(keysOf(1, typo), 0)).toBe(slot(keysOf(1, person), 0));
    expect(slot(keysOf(1, typo), 0)).not.toBe(empty);
    // A different ZIP: the second rule's block differs.
    expect(slot(keysOf(1, typo), 1)).not.toBe(slot(keysOf(1, person), 1));
  });

  it('reads values as the encoder prepares them: case, accents, date spellings and ZIP+4', () => {
    const spelt = ['MARY', 'SMITH', '1962-03-14', '', '', '', '62704-1234'];
    expect(Buffer.from(keysOf(1, spelt)).equals(Buffer.from(keysOf(1, person)))).toBe(true);
    expect(Buffer.from(keysOf(1, ['José', 'Nuñez', '1/2/1980', '', '', '', '73301'])).equals(Buffer.from(keysOf(1, ['JOSE', 'NUNEZ', '1980-01-02', '', '', '', '73301'])))).toBe(true);
  });

  it('is keyed: another secret gives other keys for the same person', () => {
    const one = keysOf(1, person);
    const two = keysOf(2, person);
    expect(slot(one, 0)).not.toBe(slot(two, 0));
    expect(slot(one, 1)).not.toBe(slot(two, 1));
  });

  it('leaves a rule empty when a part is missing, even where the schema replaces missing values', () => {
    const noDate = keysOf(1, ['Mary', 'Smith', 'not a date', '', '', '', '62704']);
    expect(slot(noDate, 0)).toBe(empty);
    expect(slot(noDate, 1)).toBe(slot(keysOf(1, person), 1));
    // "unknown" is a missing given name in this schema.
    expect(slot(keysOf(1, ['unknown', 'Smith', '03/14/1962', '', '', '', '62704']), 1)).toBe(empty);
  });
});

describe('keyed signature blocking: the join', () => {
  /** Keys where row r of A and row r of B share rule `r % 3` (2: neither), plus some chance sharing. */
  function keysFor(count: number, random: () => number, partner: (row: number) => number): Uint8Array {
    const keyer = createSignatureKeyer(deriveBlockingKey(new Uint8Array(32).fill(3), 'test-fingerprint'));
    const keys = new Uint8Array(count * SIGNATURE_ROW_BYTES);
    for (let row = 0; row < count; row++) {
      const p = partner(row);
      const fields: SignatureFields = p >= 0
        ? { givenName: p % 3 === 1 ? `g${p % 7}` : `x${row}`, surname: p % 3 === 0 ? `s${p % 50}` : `q${row}`, birthYear: p % 3 === 0 ? String(1950 + (p % 3)) : '', zip: p % 3 === 1 ? String(10000 + (p % 11)) : '' }
        : { givenName: `g${Math.floor(random() * 7)}`, surname: `s${Math.floor(random() * 50)}`, birthYear: String(1950 + Math.floor(random() * 3)), zip: String(10000 + Math.floor(random() * 11)) };
      keys.set(keyer(fields), row * SIGNATURE_ROW_BYTES);
    }
    return keys;
  }

  it('compares each pair sharing a block once; kernel, reference and all pairs agree', async () => {
    for (const bits of [1024, 1000]) {
      const random = mulberry32(bits);
      const bytes = bits / 8;
      const b = { filterBits: bits, count: 900, clks: new Uint8Array(900 * bytes) };
      for (let i = 0; i < b.clks.length; i++) b.clks[i] = random() < 0.5 ? Math.floor(random() * 256) : 0;
      const a = { filterBits: bits, count: 300, clks: new Uint8Array(300 * bytes) };
      for (let i = 0; i < a.clks.length; i++) a.clks[i] = Math.floor(random() * 256);
      // Rows 0..149 of A are near-copies of B's rows 0..149.
      for (let r = 0; r < 150; r++) {
        a.clks.set(b.clks.subarray(r * bytes, (r + 1) * bytes), r * bytes);
        a.clks[r * bytes + (r % bytes)] ^= 0x10;
      }
      const keysB = keysFor(b.count, random, (row) => (row < 150 ? row : -1));
      const keysA = keysFor(a.count, random, (row) => (row < 150 ? row : -1));
      const kernel = signatureCandidates(a, b, keysA, keysB, { threshold: 0.6 });
      const reference = signatureCandidates(a, b, keysA, keysB, { threshold: 0.6, verifier: 'reference' });
      const swapped = signatureCandidates(b, a, keysB, keysA, { threshold: 0.6 });
      expect(rows(kernel)).toEqual(rows(reference));
      expect(rows({ length: swapped.length, a: swapped.b, b: swapped.a, score: swapped.score })).toEqual(rows(kernel));
      expect(kernel.pairsCompared).toBe(reference.pairsCompared);
      // The same pairs as all pairs restricted to pairs that share a block, scores bit for bit.
      const all = await findCandidates(a, b, { threshold: 0.6, workers: 0 });
      const shared = signaturePairsBlocked(keysA, keysB, all);
      const blockedAll = Array.from({ length: all.length }, (_, k) => k).filter((k) => shared[k] === 1).map((k) => `${all.a[k]},${all.b[k]},${all.score[k]}`).sort();
      expect(rows(kernel)).toEqual(blockedAll);
      // Near-copies whose keys share nothing (row % 3 == 2) are out of reach.
      expect(blockedAll.length).toBeGreaterThan(80);
      expect(blockedAll.length).toBeLessThan(all.length);
      // Pairs sharing a block, counted directly: each once however many keys it shares.
      let sharing = 0;
      const everyPair = { a: new Int32Array(a.count * b.count), b: new Int32Array(a.count * b.count), length: a.count * b.count };
      for (let i = 0; i < a.count; i++) for (let j = 0; j < b.count; j++) [everyPair.a[i * b.count + j], everyPair.b[i * b.count + j]] = [i, j];
      for (const flag of signaturePairsBlocked(keysA, keysB, everyPair)) sharing += flag;
      expect(kernel.pairsCompared).toBe(sharing);
      expect(kernel.reductionRatio).toBeCloseTo(1 - sharing / (a.count * b.count), 12);
    }
  });
});

describe('LSH pairs completeness (lsh-completeness.ts)', () => {
  it('counts as blocked every pair blockedCandidates finds, and identical filters always', async () => {
    const { a, b } = population(1_000, 4_000, 300, 31);
    const found = await blockedCandidates(a, b, { threshold: THRESHOLD, workers: 0 });
    const plan = lshPlanFor(a, b, { threshold: THRESHOLD });
    const blocked = lshPairsBlocked(a, b, found, plan, THRESHOLD);
    expect(Array.from(blocked).every((flag) => flag === 1)).toBe(true);
    const same = { filterBits: BITS, count: 1, clks: b.clks.slice(0, BYTES) };
    expect(Array.from(lshPairsBlocked(same, b, { a: Int32Array.of(0), b: Int32Array.of(0), length: 1 }, lshPlanFor(same, b, { threshold: THRESHOLD }), THRESHOLD))).toEqual([1]);
    // Random pairs (Dice about 0.5) almost never collide.
    const randomPairs = { a: Int32Array.from({ length: 200 }, (_, k) => 500 + k), b: Int32Array.from({ length: 200 }, (_, k) => 3_000 + k), length: 200 };
    expect(lshPairsBlocked(a, b, randomPairs, plan, THRESHOLD).reduce((sum, flag) => sum + flag, 0)).toBeLessThan(10);
  });
});

describe('the block_keys column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blindlink-block-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const blocking = { scheme: SIGNATURE_SCHEME, rules: [...SIGNATURE_RULE_IDS] };
  const metadata = (count: number, extra: Partial<EncodingMetadata> = {}): EncodingMetadata => ({
    blindlinkVersion: 'test', schemaFingerprint: 'f', keyCheck: 'k', filterBits: 64, recordCount: count, hardening: 'none', ...extra,
  });

  it('round-trips through an Arrow file, into a shared buffer on request', async () => {
    const clks = Uint8Array.from({ length: 5 * 8 }, (_, i) => (i * 37) & 0xff);
    const blockKeys = Uint8Array.from({ length: 5 * SIGNATURE_ROW_BYTES }, (_, i) => (i * 11) & 0xff);
    const path = join(dir, 'keys.arrow');
    await writeEncodedFile(path, { clks, popcounts: popcountsOf(clks, 8), blockKeys, ids: null, filterBits: 64, metadata: metadata(5, { blocking }) });
    const file = await readEncodedFile(path, { shared: true });
    expect(file.metadata?.blocking).toEqual(blocking);
    expect(file.blockKeys?.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(file.blockKeys ?? []).equals(Buffer.from(blockKeys))).toBe(true);
    const plain = join(dir, 'plain.arrow');
    await writeEncodedFile(plain, { clks, popcounts: popcountsOf(clks, 8), ids: null, filterBits: 64, metadata: metadata(5) });
    expect((await readEncodedFile(plain)).blockKeys).toBeNull();
    await expect(writeEncodedFile(join(dir, 'keys.json'), { clks, popcounts: popcountsOf(clks, 8), blockKeys, ids: null, filterBits: 64, metadata: metadata(5, { blocking }) })).rejects.toThrow(/keys\.json: clkhash JSON has no place for block keys/);
  });

  /** An Arrow file with a block_keys column of `width` bytes and the given metadata entries. */
  function rawFile(name: string, width: number | null, entries: Record<string, string>): string {
    const fields = [new Field('clk', new FixedSizeBinary(8), false), new Field('popcount', new Uint16(), false)];
    if (width !== null) fields.push(new Field('block_keys', new FixedSizeBinary(width), false));
    const clks = new Uint8Array(16).fill(1);
    const children = [
      makeData({ type: new FixedSizeBinary(8), length: 2, nullCount: 0, data: clks }),
      makeData({ type: new Uint16(), length: 2, nullCount: 0, data: popcountsOf(clks, 8) }),
    ];
    if (width !== null) children.push(makeData({ type: new FixedSizeBinary(width), length: 2, nullCount: 0, data: new Uint8Array(2 * width) }));
    const all = { 'blindlink.version': 'test', 'blindlink.schema_fingerprint': 'f', 'blindlink.key_check': 'k', 'blindlink.filter_bits': '64', 'blindlink.record_count': '2', 'blindlink.hardening': 'none', ...entries };
    const schema = new Schema(fields, new Map(Object.entries(all)));
    const path = join(dir, name);
    writeFileSync(path, tableToIPC(new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children }))]), 'file'));
    return path;
  }

  const rules = { 'blindlink.blocking': SIGNATURE_SCHEME, 'blindlink.blocking_rules': SIGNATURE_RULE_IDS.join(',') };
  const cases: Array<[string, () => string, RegExp]> = [
    ['a column of the wrong width', () => rawFile('narrow.arrow', 12, rules), /narrow\.arrow: column 'block_keys' must be FixedSizeBinary\(16\) for 2 rules, found FixedSizeBinary\[12\]/],
    ['a column without the metadata', () => rawFile('bare.arrow', 16, {}), /bare\.arrow: column 'block_keys' without blindlink\.blocking metadata/],
    ['the metadata without the column', () => rawFile('claims.arrow', null, rules), /claims\.arrow: metadata blindlink\.blocking says signature-v1 block keys, but there is no 'block_keys' column/],
    ['no rules', () => rawFile('norules.arrow', 16, { 'blindlink.blocking': SIGNATURE_SCHEME }), /norules\.arrow: metadata field blindlink\.blocking_rules is missing/],
  ];
  it.each(cases)('rejects %s with a UserError naming the file', async (_, make, message) => {
    const failure = readEncodedFile(make());
    await expect(failure).rejects.toBeInstanceOf(UserError);
    await expect(failure).rejects.toThrow(message);
  });
});
