// Native-schema encoding: normalisation makes messy variants encode identically, keys and hashes
// behave as specified, and hashing positions agree with node:crypto as an independent check.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { popcount } from '../src/bits.js';
import { recordEncoder } from '../src/encoder.js';
import { deriveHardeningKey, foldInPlace } from '../src/harden.js';
import { tokenPositions } from '../src/hash.js';
import { deriveFieldKeys, keyCheckValue } from '../src/keys.js';
import { compileSchema } from '../src/schema/load.js';
import type { Json } from '../src/schema/json-checks.js';
import { bitsPerToken, tokenise } from '../src/tokenise.js';

const schema = JSON.parse(readFileSync(new URL('../docs/examples/taxpayer-schema.json', import.meta.url), 'utf8')) as Json;
const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');

function encoderFor(schemaJson: Json, key = secret) {
  const plan = compileSchema(schemaJson);
  return { plan, encoder: recordEncoder(plan, deriveFieldKeys(key, plan.kdf), deriveHardeningKey(key, plan.kdf)) };
}

function clk(values: string[], schemaJson: Json = schema, key = secret): Uint8Array {
  const { encoder } = encoderFor(schemaJson, key);
  const out = new Uint8Array(encoder.width);
  const result = encoder.encode(values, out, 0);
  if (typeof result !== 'number') throw new Error(`${result.field}: ${result.reason}`);
  expect(result).toBe(popcount(out));
  return out;
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let common = 0;
  for (let i = 0; i < a.length; i++) common += popcount(new Uint8Array([a[i] & b[i]]));
  return (2 * common) / (popcount(a) + popcount(b));
}

// given_name, surname, date_of_birth, street_address, city, state, zip
const JOSE = ['José', "O'Connor", '03/14/1962', '123 North Main Street Apt 4', 'Springfield', 'IL', '62704'];

describe('native encoding', () => {
  it('encodes messy spellings of the same person identically', () => {
    const variants = [
      ['JOSE', 'OCONNOR', '1962-03-14', '123 N. MAIN ST. #4', 'SPRINGFIELD', 'il', '62704-1234'],
      [' josé ', 'O’Connor', 'March 14, 1962', '123 n main st apt 4', 'Springfield ', ' IL', '62704'],
      ['Jose\u00a0', 'O`Connor', '19620314', '123 NORTH MAIN STREET APARTMENT 4', 'springfield', 'Il', '62704'],
    ];
    const reference = clk(JOSE);
    for (const variant of variants) expect(Buffer.from(clk(variant)).toString('hex')).toBe(Buffer.from(reference).toString('hex'));
  });

  it('keeps similar records similar and different records apart', () => {
    const typo = clk(['Jsoe', "O'Connor", '03/14/1962', '123 North Main Street Apt 4', 'Springfield', 'IL', '62704']);
    const swapped = clk(['José', "O'Connor", '14/03/1962', '123 North Main Street Apt 4', 'Springfield', 'IL', '62704']);
    const stranger = clk(['Mary', 'Smith', '07/04/1985', '45 Oak Avenue', 'Portland', 'OR', '97201']);
    const reference = clk(JOSE);
    expect(dice(reference, typo)).toBeGreaterThan(0.85);
    expect(dice(reference, stranger)).toBeLessThan(0.6);
    // 14/03 is not a valid MDY date, so the date is missing: still clearly the same person.
    expect(dice(reference, swapped)).toBeGreaterThan(0.7);
  });

  it('depends on the secret, and the key check value tells secrets apart', () => {
    const other = new TextEncoder().encode('another secret entirely');
    expect(Buffer.from(clk(JOSE, schema, other)).equals(Buffer.from(clk(JOSE)))).toBe(false);
    expect(keyCheckValue(secret)).toMatch(/^[0-9a-f]{32}$/);
    expect(keyCheckValue(secret)).toBe(keyCheckValue(secret.slice()));
    expect(keyCheckValue(other)).not.toBe(keyCheckValue(secret));
  });

  it('treats missing values as contributing no bits, or their replacement', () => {
    // Balancing makes every popcount equal, so bit counts are compared without hardening.
    const plain = { ...(schema as object), hardening: 'none' } as Json;
    const withoutCity = clk(['José', "O'Connor", '03/14/1962', '123 North Main Street Apt 4', '', 'IL', '62704'], plain);
    const unknownName = clk(['unknown', "O'Connor", '03/14/1962', '123 North Main Street Apt 4', '', 'IL', '62704'], plain);
    const emptyName = clk(['', "O'Connor", '03/14/1962', '123 North Main Street Apt 4', '', 'IL', '62704'], plain);
    expect(popcount(withoutCity)).toBeLessThan(popcount(clk(JOSE, plain)));
    expect(Buffer.from(unknownName).equals(Buffer.from(emptyName))).toBe(true);
    const replaced = structuredClone(plain) as { fields: { missing?: unknown }[] };
    replaced.fields[4].missing = { values: [''], replaceWith: 'nowhere' };
    const noCity = ['José', "O'Connor", '03/14/1962', '123 North Main Street Apt 4', '', 'IL', '62704'];
    const filled = clk(noCity, replaced as unknown as Json);
    const nowhere = clk([...noCity.slice(0, 4), 'Nowhere', ...noCity.slice(5)], plain);
    // The replacement is tokenised like a real value, so the filter equals one with city "Nowhere".
    expect(Buffer.from(filled).toString('hex')).toBe(Buffer.from(nowhere).toString('hex'));
  });

  it('reports an invalid date as a problem naming the field but never the value', () => {
    const strict = structuredClone(schema) as { fields: { invalid?: string }[] };
    strict.fields[2].invalid = 'error';
    const { encoder } = encoderFor(strict as unknown as Json);
    const result = encoder.encode(['José', "O'Connor", '02/30/1962', 'x', 'y', 'IL', '1'], new Uint8Array(encoder.width), 0);
    expect(result).toEqual({ field: 'date_of_birth', reason: 'not a valid date value' });
    expect(JSON.stringify(result)).not.toContain('1962');
  });

  it('supports hmac-sha256 and double hashing as alternatives, each giving different bits', () => {
    const withHash = (hash: string) => ({ ...(schema as object), filter: { bits: 1024, hash } }) as Json;
    const blake = clk(JOSE);
    const hmacClk = clk(JOSE, withHash('hmac-sha256'));
    const doubleClk = clk(JOSE, withHash('double-hash'));
    expect(Buffer.from(hmacClk).equals(Buffer.from(blake))).toBe(false);
    expect(Buffer.from(doubleClk).equals(Buffer.from(blake))).toBe(false);
    expect(popcount(hmacClk)).toBeGreaterThan(150);
  });

  it('xor-folds: a folded encoding is the fold of the unfolded one', () => {
    const wide = { ...(schema as object), filter: { bits: 1024 }, hardening: 'none' } as Json;
    const folded = { ...(schema as object), filter: { bits: 512 }, hardening: { xorFolds: 1 } } as Json;
    const full = clk(JOSE, wide);
    const expected = foldInPlace(full.slice(), 1);
    expect(Buffer.from(clk(JOSE, folded)).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  });
});

describe('token hashing', () => {
  it('HMAC-SHA256 positions agree with node:crypto', () => {
    const key = new Uint8Array(64).map((_, i) => i * 7);
    const positions = tokenPositions({ type: 'hmac-sha256' }, { a: key, b: key }, 2048);
    const token = new TextEncoder().encode('jo');
    const out = new Uint32Array(20);
    positions(token, 20, out);
    const expected: number[] = [];
    for (let c = 0; expected.length < 20; c++) {
      const digest = createHmac('sha256', key).update(Buffer.from([c])).update(token).digest();
      for (let i = 0; i < 16 && expected.length < 20; i++) expected.push(digest.readUInt16LE(2 * i) % 2048);
    }
    expect(Array.from(out)).toEqual(expected);
  });

  it('double hashing positions agree with node:crypto', () => {
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    const out = new Uint32Array(5);
    tokenPositions({ type: 'double', preventSingularity: false }, { a, b }, 1000)(new TextEncoder().encode('ab'), 5, out);
    const h1 = BigInt(`0x${createHmac('sha1', a).update('ab').digest('hex')}`) % 1000n;
    const h2 = BigInt(`0x${createHmac('md5', b).update('ab').digest('hex')}`) % 1000n;
    expect(Array.from(out)).toEqual([0n, 1n, 2n, 3n, 4n].map((j) => Number((h1 + j * h2) % 1000n)));
  });
});

describe('tokenise', () => {
  it.each([
    ['jo', { type: 'qgram', q: 2, padded: true, positional: false }, [' j', 'jo', 'o ']],
    ['jo', { type: 'qgram', q: 2, padded: false, positional: false }, ['jo']],
    ['4223', { type: 'qgram', q: 1, padded: true, positional: true }, ['1 4', '2 2', '3 2', '4 3']],
    ['zoë', { type: 'qgram', q: 2, padded: true, positional: false }, [' z', 'zo', 'oë', 'ë ']],
    ['🙂a', { type: 'qgram', q: 1, padded: false, positional: false }, ['🙂', 'a']],
    ['smith', { type: 'exact' }, ['smith']],
    ['', { type: 'exact' }, []],
    ['19620314', { type: 'date' }, ['y1962', 'm03', 'd14', 'p0314']],
    ['19621403', { type: 'date' }, ['y1962', 'm14', 'd03', 'p0314']],
  ] as const)('tokenises %j with %j', (value, tokeniser, expected) => {
    expect(tokenise(value, tokeniser)).toEqual(expected);
  });

  it('numeric tokens: closer values share more tokens', () => {
    const spec = { type: 'numeric', distance: 10, resolution: 4 } as const;
    const shared = (x: string, y: string) => tokenise(x, spec).filter((t) => tokenise(y, spec).includes(t)).length;
    expect(shared('50', '50')).toBe(4);
    expect(shared('50', '52')).toBeGreaterThanOrEqual(shared('50', '57'));
    expect(shared('50', '75')).toBe(0);
  });

  it('splits a per-field budget as clkhash does', () => {
    expect(bitsPerToken(3, { perField: 100 })).toEqual([34, 33, 33]);
    expect(bitsPerToken(4, { perToken: 7 })).toEqual([7, 7, 7, 7]);
    expect(bitsPerToken(0, { perField: 10 })).toEqual([]);
  });
});
