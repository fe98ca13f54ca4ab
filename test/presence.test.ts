// Per-record field presence (encode --record-presence): which schema fields a record has, as a
// bitmask column the linkage unit reads without plaintext; the encodings themselves must not change.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEncodedFile } from '../src/io/encoded-file.js';
import { isPresent, presenceBytes, presenceRecorder } from '../src/presence.js';
import { compileSchema } from '../src/schema/load.js';
import { runCli, scratchDir } from './helpers/run-cli.js';

const SCHEMA = new URL('../docs/examples/taxpayer-schema.json', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/taxpayers.csv', import.meta.url).pathname;
const FIELDS = ['given_name', 'surname', 'date_of_birth', 'street_address', 'city', 'state', 'zip'];

describe('presenceRecorder', () => {
  const plan = compileSchema({
    blindlink: 1,
    fields: [
      { name: 'given', normalise: 'name', missing: { values: ['unknown'], replaceWith: 'x' } },
      { name: 'dob', normalise: 'date', invalid: 'missing', tokens: { type: 'date' } },
      ...Array.from({ length: 8 }, (_, i) => ({ name: `f${i}` })),
    ],
  });
  const record = presenceRecorder(plan);
  const width = presenceBytes(plan.fields.length);

  it('sets bit i (most significant first) for each field with a value, across byte boundaries', () => {
    expect(width).toBe(2);
    const out = new Uint8Array(3 * width).fill(0xff);
    record(['ann', '1990-01-02', 'a', '', 'c', '', '', '', '', 'h'], out, 0);
    record(['', '', '', '', '', '', '', '', '', ''], out, width);
    record(['x', '2000-01-01', '1', '2', '3', '4', '5', '6', '7', '8'], out, 2 * width);
    expect([...out]).toEqual([0b11101000, 0b01000000, 0, 0, 0xff, 0b11000000]);
    expect(isPresent(out, width, 0, 9)).toBe(true);
    expect(isPresent(out, width, 0, 3)).toBe(false);
  });

  it('counts a missing-value sentinel as absent even when replaceWith hashes a stand-in, and an invalid date as absent', () => {
    const out = new Uint8Array(width);
    record(['Unknown', '1990-02-30', ...Array<string>(8).fill('v')], out, 0);
    expect(isPresent(out, width, 0, 0)).toBe(false);
    expect(isPresent(out, width, 0, 1)).toBe(false);
    expect(isPresent(out, width, 0, 2)).toBe(true);
    record(['  ', '1990-02-28', ...Array<string>(8).fill('v')], out, 0);
    expect(isPresent(out, width, 0, 0)).toBe(false);
    expect(isPresent(out, width, 0, 1)).toBe(true);
  });
});

describe('encode --record-presence', () => {
  let dir: string;
  let secretFile: string;
  const encode = (input: string, output: string, ...extra: string[]) =>
    runCli(['encode', '--schema', SCHEMA, '--secret-file', secretFile, '--in', input, '--out', output, ...extra]);

  beforeAll(async () => {
    dir = scratchDir();
    secretFile = join(dir, 'secret.key');
    expect((await runCli(['keygen', '--out', secretFile])).code).toBe(0);
  });

  it('writes one bitmask per record with the field names in metadata, and leaves the encodings as they were', async () => {
    const withPresence = join(dir, 'present.arrow');
    const without = join(dir, 'plain.arrow');
    expect((await encode(FIXTURE, withPresence, '--record-presence')).code).toBe(0);
    expect((await encode(FIXTURE, without)).code).toBe(0);
    const [file, plain] = await Promise.all([readEncodedFile(withPresence), readEncodedFile(without)]);
    expect(file.metadata?.presenceFields).toEqual(FIELDS);
    expect(plain.presence).toBeNull();
    expect(plain.metadata?.presenceFields).toBeUndefined();
    expect(Buffer.from(file.clks).equals(Buffer.from(plain.clks))).toBe(true);
    // The fingerprint is the schema's: presence is a column beside the encodings, not a schema change.
    expect(file.metadata?.schemaFingerprint).toBe(plain.metadata?.schemaFingerprint);
    const bits = (row: number) => FIELDS.filter((_, f) => isPresent(file.presence ?? new Uint8Array(0), 1, row, f));
    expect(bits(0)).toEqual(FIELDS);
    // T004's date of birth, 1990-02-29, is impossible and the schema reads it as missing.
    expect(bits(3)).toEqual(FIELDS.filter((name) => name !== 'date_of_birth'));
    const inspect = await runCli(['inspect', withPresence]);
    expect(inspect.stdout).toMatch(/field presence\s+given_name, surname, date_of_birth, street_address, city, state, zip/);
    expect((await runCli(['inspect', without])).stdout).toMatch(/field presence\s+not recorded/);
  });

  it('gives the same bitmasks with 1 and 2 workers over several batches', async () => {
    const lines = ['record_id,given_name,middle_name,surname,date_of_birth,street_address,city,state,zip'];
    for (let i = 0; i < 9000; i++) lines.push(`R${i},${i % 3 === 0 ? '' : 'Ann'},,Lee,${i % 5 === 0 ? 'n/a' : '1/2/1960'},${i % 7 === 0 ? '' : '1 Main St'},Salem,OR,${i % 11 === 0 ? '' : '97301'}`);
    const input = join(dir, 'many.csv');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const one = join(dir, 'many-1.arrow');
    const two = join(dir, 'many-2.arrow');
    expect((await encode(input, one, '--record-presence', '--workers', '1')).code).toBe(0);
    expect((await encode(input, two, '--record-presence', '--workers', '2')).code).toBe(0);
    const [a, b] = await Promise.all([readEncodedFile(one), readEncodedFile(two)]);
    expect(a.presence?.length).toBe(9000);
    expect(Buffer.from(a.presence ?? []).equals(Buffer.from(b.presence ?? []))).toBe(true);
    const lacking = (field: number) => Array.from({ length: 9000 }, (_, row) => row).filter((row) => !isPresent(a.presence ?? new Uint8Array(0), 1, row, field)).length;
    expect(lacking(0)).toBe(3000);
    expect(lacking(3)).toBe(Math.ceil(9000 / 7));
    expect(lacking(6)).toBe(Math.ceil(9000 / 11));
  });

  it('refuses clkhash JSON output before any work', async () => {
    const before = new Set(readdirSync(dir));
    const result = await encode(FIXTURE, join(dir, 'present.json'), '--record-presence');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/present\.json: clkhash JSON has no place for field presence/);
    expect(readdirSync(dir).filter((name) => !before.has(name))).toEqual([]);
  });
});
