// Schema loading: both dialects compile, and every invalid schema fails with the JSON path at fault.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidValue, makePreparer } from '../src/prepare.js';
import { compileSchema, loadSchema } from '../src/schema/load.js';
import type { Json } from '../src/schema/json-checks.js';
import { scratchDir } from './helpers/run-cli.js';

const taxpayer = JSON.parse(readFileSync(new URL('../docs/examples/taxpayer-schema.json', import.meta.url), 'utf8')) as Json;

function withChange(change: (schema: Record<string, unknown>) => void): Json {
  const copy = structuredClone(taxpayer) as Record<string, unknown>;
  change(copy);
  return copy as Json;
}

type Fields = { fields: Record<string, unknown>[] };

describe('native schema', () => {
  it('compiles the documented taxpayer example', () => {
    const plan = compileSchema(taxpayer);
    expect(plan.dialect).toBe('blindlink');
    // No hardening named: the default (balance + BLIP) applies, doubling the written length.
    expect(plan.hardening).toEqual({ xorFolds: 0, rule90: false, diffusion: null, balance: true, blip: 0.02, salt: null });
    expect([plan.hashBits, plan.filterBits]).toEqual([1024, 2048]);
    expect(plan.fields.map((field) => field.name)).toEqual([
      'given_name', 'surname', 'date_of_birth', 'street_address', 'city', 'state', 'zip',
    ]);
    expect(plan.fields[2].tokeniser).toEqual({ type: 'date' });
    expect(plan.fields[0].hash).toEqual({ type: 'blake2b' });
  });

  it('fingerprints canonically: key order and whitespace do not matter, content does', () => {
    const reverseKeys = (value: Json): Json => {
      if (Array.isArray(value)) return value.map(reverseKeys);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
    };
    const reordered = reverseKeys(taxpayer);
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(taxpayer));
    expect(compileSchema(reordered).fingerprint).toBe(compileSchema(taxpayer).fingerprint);
    const changed = withChange((s) => ((s as unknown as Fields).fields[0].bitsPerToken = 21));
    expect(compileSchema(changed).fingerprint).not.toBe(compileSchema(taxpayer).fingerprint);
  });

  it('takes "none" or an empty object as no hardening', () => {
    expect(compileSchema(withChange((s) => (s.hardening = 'none'))).hardening.balance).toBe(false);
    expect(compileSchema(withChange((s) => (s.hardening = {}))).filterBits).toBe(1024);
  });

  it('scales bits per token by weight', () => {
    const plan = compileSchema(withChange((s) => ((s as unknown as Fields).fields[2].weight = 1.5)));
    expect(plan.fields[2].bits).toEqual({ perToken: 68 }); // 45 × 1.5, rounded
  });

  const invalid: [string, (schema: Record<string, unknown>) => void, string][] = [
    ['bad filter length', (s) => (s.filter = { bits: 1000 }), '$.filter.bits: must be a power of two'],
    ['unknown top-level key', (s) => (s.filtr = {}), '$.filtr: unknown key'],
    ['unknown hash', (s) => (s.filter = { hash: 'md5' }), '$.filter.hash: must be one of'],
    ['no fields', (s) => (s.fields = []), '$.fields: must list at least one field'],
    ['q out of range', (s) => ((s as unknown as Fields).fields[1].tokens = { type: 'qgram', q: 0 }), '$.fields[1].tokens.q: must be an integer between 1 and 8'],
    ['misspelt field option', (s) => ((s as unknown as Fields).fields[3].bitsPerTokn = 3), '$.fields[3].bitsPerTokn: unknown key'],
    ['duplicate field', (s) => ((s as unknown as Fields).fields[1].name = 'given_name'), '$.fields[1].name: duplicate field name'],
    ['date tokens without date normaliser', (s) => ((s as unknown as Fields).fields[4].tokens = { type: 'date' }), '$.fields[4].tokens.type: the date tokeniser needs'],
    ['unknown normaliser', (s) => ((s as unknown as Fields).fields[0].normalise = 'soundex'), '$.fields[0].normalise: must be one of'],
    ['both budgets', (s) => ((s as unknown as Fields).fields[0].bitsPerField = 100), '$.fields[0]: give bitsPerToken or bitsPerField, not both'],
    ['unknown hardening option', (s) => (s.hardening = { bloom: true }), '$.hardening.bloom: unknown key'],
    ['salt field not in schema', (s) => (s.hardening = { salt: { field: 'dob' } }), '$.hardening.salt.field: names no field'],
    ['blip probability too high', (s) => (s.hardening = { blip: 0.7 }), '$.hardening.blip: must be a number between 0 and 0.5'],
    ['salt not base64', (s) => (s.kdf = { salt: 'not base64!' }), '$.kdf.salt: must be base64'],
    ['wrong version', (s) => (s.blindlink = 2), '$.blindlink: must be an integer between 1 and 1'],
  ];
  it.each(invalid)('rejects %s', (_name, change, message) => {
    expect(() => compileSchema(withChange(change))).toThrow(message);
  });

  it('rejects a non-object and an unknown dialect', () => {
    expect(() => compileSchema([] as Json)).toThrow('$: a schema must be a JSON object');
    expect(() => compileSchema({ fields: [] })).toThrow('not a linkage schema');
  });
});

describe('native schema: keyed signature blocking', () => {
  const withBlocking = JSON.parse(readFileSync(new URL('../docs/examples/taxpayer-signature-schema.json', import.meta.url), 'utf8')) as Json;
  type Blocking = { blocking: { signature: Record<string, unknown> } };
  const changed = (change: (schema: Blocking & Record<string, unknown>) => void): Json => {
    const copy = structuredClone(withBlocking) as Blocking & Record<string, unknown>;
    change(copy);
    return copy as unknown as Json;
  };

  it('compiles the documented example: each role names a plan field', () => {
    const plan = compileSchema(withBlocking);
    expect(plan.blocking).toEqual({ method: 'signature', fields: { givenName: 0, surname: 1, birthYear: 2, zip: 6 } });
    expect(compileSchema(taxpayer).blocking).toBeNull();
  });

  it('is part of the fingerprint, so both custodians must agree on it', () => {
    expect(compileSchema(withBlocking).fingerprint).not.toBe(compileSchema(taxpayer).fingerprint);
    const otherZip = changed((s) => (s.blocking.signature.zip = 'state'));
    expect(compileSchema(otherZip).fingerprint).not.toBe(compileSchema(withBlocking).fingerprint);
  });

  const invalid: [string, (schema: Blocking & Record<string, unknown>) => void, string][] = [
    ['not an object', (s) => ((s as Record<string, unknown>).blocking = 'signature'), '$.blocking: must be an object'],
    ['unknown method', (s) => ((s.blocking as Record<string, unknown>).lsh = {}), '$.blocking.lsh: unknown key (allowed: signature)'],
    ['no method', (s) => ((s as Record<string, unknown>).blocking = {}), '$.blocking: must name a blocking method'],
    ['unknown role', (s) => (s.blocking.signature.middleName = 'given_name'), '$.blocking.signature.middleName: unknown key'],
    ['missing role', (s) => delete s.blocking.signature.zip, '$.blocking.signature.zip: is required'],
    ['role not a string', (s) => (s.blocking.signature.surname = 3), '$.blocking.signature.surname: must be a string'],
    ['field not in the schema', (s) => (s.blocking.signature.surname = 'last_name'), '$.blocking.signature.surname: names no field of this schema ("last_name")'],
    ['birth year from a non-date field', (s) => (s.blocking.signature.birthYear = 'zip'), '$.blocking.signature.birthYear: must name a field with "normalise": "date"'],
  ];
  it.each(invalid)('rejects %s, naming the JSON path', (_name, change, message) => {
    expect(() => compileSchema(changed(change))).toThrow(message);
  });
});

describe('clkhash schema import', () => {
  const base = {
    version: 3,
    clkConfig: { l: 1024, kdf: { type: 'HKDF', hash: 'SHA256', keySize: 64 } },
    features: [
      { identifier: 'id', ignored: true },
      {
        identifier: 'name',
        format: { type: 'string', encoding: 'utf-8' },
        hashing: { comparison: { type: 'ngram', n: 2 }, strategy: { bitsPerFeature: 100 }, hash: { type: 'blakeHash' } },
      },
    ],
  };

  it('keeps key slots for ignored features and reads bitsPerFeature', () => {
    const plan = compileSchema(base as unknown as Json);
    expect(plan.dialect).toBe('clkhash-v3');
    expect(plan.blocking).toBeNull();
    expect(plan.kdf.slots).toBe(2);
    expect(plan.fields[0].keySlot).toBe(1);
    expect(plan.fields[0].bits).toEqual({ perField: 100 });
  });

  it('reads v2 hashing blocks', () => {
    const v2 = {
      version: 2,
      clkConfig: { l: 1024, kdf: { type: 'HKDF' } },
      features: [{ identifier: 'name', format: { type: 'string' }, hashing: { ngram: 2, strategy: { k: 20 } } }],
    };
    const plan = compileSchema(v2 as unknown as Json);
    expect(plan.fields[0].bits).toEqual({ perToken: 20 });
    expect(plan.fields[0].tokeniser).toEqual({ type: 'qgram', q: 2, padded: true, positional: false });
  });

  const invalid: [string, (schema: typeof base) => void, string][] = [
    ['blakeHash with l not a power of two', (s) => (s.clkConfig.l = 1000), '$.features[1].hashing.hash: blakeHash needs a power-of-two'],
    ['conflicting fold spellings', (s) => Object.assign(s.clkConfig, { xor_folds: 1, xorFolds: 2 }), '$.clkConfig.xorFolds: disagrees'],
    ['unknown comparison', (s) => ((s.features[1].hashing!.comparison as { type: string }).type = 'soundex'), '$.features[1].hashing.comparison.type: must be one of'],
    ['no strategy', (s) => (s.features[1].hashing!.strategy = {} as never), '$.features[1].hashing.strategy: needs bitsPerToken or bitsPerFeature'],
    ['numeric comparison', (s) => ((s.features[1].hashing!.comparison as { type: string }).type = 'numeric'), 'numeric comparison is not supported yet'],
    ['bad kdf type', (s) => ((s.clkConfig.kdf as { type: string }).type = 'PBKDF2'), '$.clkConfig.kdf.type: must be one of "HKDF"'],
    // Unknown keys went silently unused, so a misspelt option changed nothing.
    ['an unknown top-level key', (s) => Object.assign(s, { featurs: [] }), '$.featurs: unknown key'],
    ['an unknown clkConfig key', (s) => Object.assign(s.clkConfig, { xor_fold: 1 }), '$.clkConfig.xor_fold: unknown key'],
    ['an unknown kdf key', (s) => Object.assign(s.clkConfig.kdf, { keysize: 32 }), '$.clkConfig.kdf.keysize: unknown key'],
    ['an unknown feature key', (s) => Object.assign(s.features[1], { hashng: {} }), '$.features[1].hashng: unknown key'],
    ['an unknown format key', (s) => Object.assign(s.features[1].format!, { maxLen: 3 }), '$.features[1].format.maxLen: unknown key'],
    ['an unknown hashing key', (s) => Object.assign(s.features[1].hashing!, { strategi: {} }), '$.features[1].hashing.strategi: unknown key'],
    ['an unknown strategy key', (s) => Object.assign(s.features[1].hashing!.strategy, { bitsPerToken: 3, k: 2 }), '$.features[1].hashing.strategy.k: unknown key'],
    ['an unknown comparison key', (s) => Object.assign(s.features[1].hashing!.comparison, { positonal: true }), '$.features[1].hashing.comparison.positonal: unknown key'],
    ['an unknown hash key', (s) => Object.assign(s.features[1].hashing!.hash!, { prevent_singularity: true }), '$.features[1].hashing.hash.prevent_singularity: unknown key'],
    ['an ignored feature with a format', (s) => Object.assign(s.features[0], { format: { type: 'string' } }), '$.features[0].format: unknown key'],
    ['minimum above maximum', (s) => (s.features[1].format = { type: 'integer', minimum: 10, maximum: 9 } as never), '$.features[1].format.minimum: is greater than maximum (10 > 9)'],
    ['minLength above maxLength', (s) => Object.assign(s.features[1].format!, { minLength: 5, maxLength: 4 }), '$.features[1].format.minLength: is greater than maxLength (5 > 4)'],
    ['a pattern with a length that would go unchecked', (s) => Object.assign(s.features[1].format!, { pattern: '[a-z]+', maxLength: 4 }), '$.features[1].format.maxLength: cannot be combined with "pattern"'],
    ['a backreference pattern', (s) => Object.assign(s.features[1].format!, { pattern: '(a)\\1' }), '$.features[1].format.pattern: is not a regular expression blindlink can run in linear time'],
    ['a lookahead pattern', (s) => Object.assign(s.features[1].format!, { pattern: '(?=a)a' }), 'backreferences and lookaround are not supported'],
    ['a very long pattern', (s) => Object.assign(s.features[1].format!, { pattern: 'a'.repeat(1001) }), '$.features[1].format.pattern: is longer than 1000 characters'],
  ];
  it.each(invalid)('rejects %s', (_name, change, message) => {
    const copy = structuredClone(base);
    change(copy);
    expect(() => compileSchema(copy as unknown as Json)).toThrow(message);
  });

  it('keeps the descriptions clkhash schemas carry', () => {
    const described = structuredClone(base) as unknown as Record<string, unknown> & typeof base;
    Object.assign(described, { description: 'd' });
    Object.assign(described.features[0], { description: 'd' });
    Object.assign(described.features[1], { description: 'd' });
    Object.assign(described.features[1].format!, { description: 'd' });
    expect(compileSchema(described as unknown as Json).fields).toHaveLength(1);
  });

  it('runs a pattern that backtracks exponentially in JavaScript in linear time', () => {
    // (a+)+$ on 30 a's and a b takes JavaScript's engine minutes; RE2 is linear in the input.
    const withPattern = structuredClone(base);
    Object.assign(withPattern.features[1].format!, { pattern: '(a+)+$' });
    const plan = compileSchema(withPattern as unknown as Json);
    const prepare = makePreparer(plan.fields[0]);
    // With a backtracking engine this call would not return within the test's timeout.
    expect(prepare(`${'a'.repeat(100_000)}b`)).toBeInstanceOf(InvalidValue);
    expect(prepare('a'.repeat(100_000))).toBe('a'.repeat(100_000));
  });

  it('rejects v1 with a clear message', () => {
    expect(() => compileSchema({ version: 1, clkConfig: {}, features: [] })).toThrow('clkhash v1 schemas are not supported');
  });
});

describe('schema files', () => {
  const dir = scratchDir();
  const file = (name: string, content: string | Uint8Array): string => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const text = readFileSync(new URL('../docs/examples/taxpayer-schema.json', import.meta.url), 'utf8');

  it('reads a schema that starts with a byte-order mark like one without', async () => {
    const withBom = await loadSchema(file('bom.json', `\uFEFF${text}`));
    expect(withBom.fingerprint).toBe(compileSchema(taxpayer).fingerprint);
  });

  it('says where JSON breaks without quoting the file (a CSV of people given as --schema)', async () => {
    await expect(loadSchema(file('people.csv', 'given_name,surname\nSECRETNAME,SECRETSURNAME\n'))).rejects.toThrow(/people\.csv: not valid JSON \(a syntax error\)$/);
    await expect(loadSchema(file('cut.json', text.slice(0, 200)))).rejects.toThrow(/cut\.json: not valid JSON \((line \d+, column \d+|it ends early: truncated\?)\)$/);
    await expect(loadSchema(file('comma.json', '{"blindlink": 1,\n "fields": [],\n}'))).rejects.toThrow(/comma\.json: not valid JSON \(line 3, column 1\)$/);
    for (const name of ['people.csv', 'cut.json']) {
      await loadSchema(join(dir, name)).catch((error: Error) => expect(error.message).not.toMatch(/SECRET|given_name|taxpayer/));
    }
  });

  it('refuses a schema nested thousands deep before walking it (the fingerprint recursed)', async () => {
    const deep = `{"blindlink": 1, "description": ${'['.repeat(3000)}1${']'.repeat(3000)}}`;
    await expect(loadSchema(file('deep.json', deep))).rejects.toThrow(/deep\.json: \$: nested deeper than 32 levels/);
    expect(() => compileSchema(JSON.parse(deep) as Json)).toThrow(/nested deeper than 32 levels/);
  });

  it('reads at most 1 MiB of a schema file, and names a directory or invalid UTF-8', async () => {
    await expect(loadSchema('/dev/zero')).rejects.toThrow(/\/dev\/zero: larger than 1048576 bytes: is this a linkage schema\?/);
    await expect(loadSchema(dir)).rejects.toThrow(/cannot read schema \(is a directory, EISDIR\)/);
    await expect(loadSchema(file('latin1.json', Uint8Array.from([0x7b, 0xe9, 0x7d])))).rejects.toThrow(/latin1\.json: not valid UTF-8/);
  });
});
