// clkhash compatibility: every CLK of every golden-vector schema must come out bit for bit.
import { readFileSync } from 'node:fs';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { recordEncoder } from '../src/encoder.js';
import { deriveFieldKeys } from '../src/keys.js';
import { compileSchema } from '../src/schema/load.js';
import type { Json } from '../src/schema/json-checks.js';
import { hasShared, sharedPath } from './helpers/shared.js';

const folder = 'vectors/clkhash';
const present = hasShared(folder);
const read = (name: string): string => readFileSync(sharedPath(`${folder}/${name}`), 'utf8');

function records(): { header: string[]; rows: string[][] } {
  // records.csv is plain CSV with no quoting (its README says so).
  const lines = read('records.csv').split('\n').filter((line) => line.length > 0);
  return { header: lines[0].split(','), rows: lines.slice(1).map((line) => line.split(',')) };
}

function encodeAll(schemaFile: string): string[] {
  const plan = compileSchema(JSON.parse(read(schemaFile)) as Json);
  const secret = new Uint8Array(readFileSync(sharedPath(`${folder}/secret.txt`)));
  const encoder = recordEncoder(plan, deriveFieldKeys(secret, plan.kdf));
  const { header, rows } = records();
  const columns = plan.fields.map((field) => header.indexOf(field.column));
  const out = new Uint8Array(encoder.width);
  return rows.map((row) => {
    const result = encoder.encode(columns.map((c) => row[c]), out, 0);
    if (typeof result !== 'number') throw new Error(`row rejected: ${result.field} ${result.reason}`);
    return Buffer.from(out).toString('base64');
  });
}

describe.skipIf(!present)('clkhash golden vectors (../shared/vectors/clkhash)', () => {
  it('derives the HKDF keys clkhash derives', () => {
    const expected = JSON.parse(read('keys-blake.json')) as { okm_hex: string; features: { keys_hex: string[] }[] };
    const plan = compileSchema(JSON.parse(read('schema-blake.json')) as Json);
    const keys = deriveFieldKeys(new Uint8Array(readFileSync(sharedPath(`${folder}/secret.txt`))), plan.kdf);
    expect(keys.map((k) => bytesToHex(k.a) + bytesToHex(k.b)).join('')).toBe(expected.okm_hex);
    expected.features.forEach((feature, i) => {
      expect([bytesToHex(keys[i].a), bytesToHex(keys[i].b)]).toEqual(feature.keys_hex);
    });
  });

  for (const [schema, clks] of [
    ['schema-blake.json', 'clks-blake.json'],
    ['schema-double.json', 'clks-double.json'],
    ['schema-xorfold.json', 'clks-xorfold.json'],
  ] as const) {
    it(`reproduces all 600 CLKs of ${schema}`, () => {
      const expected = (JSON.parse(read(clks)) as { clks: string[] }).clks;
      const actual = encodeAll(schema);
      expect(actual.length).toBe(600);
      const differing = actual.flatMap((clk, row) => (clk === expected[row] ? [] : [row]));
      expect(differing).toEqual([]);
    });
  }

  it('folds for the documented xorFolds spelling too', () => {
    const schema = JSON.parse(read('schema-xorfold.json')) as { clkConfig: Record<string, unknown> };
    schema.clkConfig.xorFolds = schema.clkConfig.xor_folds;
    delete schema.clkConfig.xor_folds;
    const plan = compileSchema(schema as unknown as Json);
    expect(plan.hardening.xorFolds).toBe(1);
    expect(plan.hashBits).toBe(1024);
    expect(plan.filterBits).toBe(512);
  });

  it('turning prevent_singularity off changes exactly the records with "mb" in address_1', () => {
    const schema = JSON.parse(read('schema-double.json')) as { features: { identifier: string; hashing?: { hash: Record<string, unknown> } }[] };
    const address = schema.features.find((f) => f.identifier === 'address_1')!;
    address.hashing!.hash.prevent_singularity = false;
    const plan = compileSchema(schema as unknown as Json);
    const secret = new Uint8Array(readFileSync(sharedPath(`${folder}/secret.txt`)));
    const encoder = recordEncoder(plan, deriveFieldKeys(secret, plan.kdf));
    const { header, rows } = records();
    const columns = plan.fields.map((field) => header.indexOf(field.column));
    const expected = (JSON.parse(read('clks-double.json')) as { clks: string[] }).clks;
    const out = new Uint8Array(encoder.width);
    const changed: number[] = [];
    rows.forEach((row, r) => {
      encoder.encode(columns.map((c) => row[c]), out, 0);
      if (Buffer.from(out).toString('base64') !== expected[r]) changed.push(r);
    });
    const withMb = rows.flatMap((row, r) => (row[header.indexOf('address_1')].includes('mb') ? [r] : []));
    expect(changed).toEqual(withMb);
    expect(changed.length).toBe(20);
  });

  it('gives the per-token bit indices of tokens-sample.json', () => {
    type Sample = { records: { row: number; blake: { set_bit_indices: number[] }; double: { set_bit_indices: number[] } }[] };
    const sample = JSON.parse(read('tokens-sample.json')) as Sample;
    const blake = encodeAll('schema-blake.json');
    for (const record of sample.records) {
      const bits = Buffer.from(blake[record.row], 'base64');
      const set: number[] = [];
      for (let i = 0; i < bits.length * 8; i++) if (bits[i >> 3] & (0x80 >> (i & 7))) set.push(i);
      expect(set).toEqual(record.blake.set_bit_indices);
    }
  });
});
