// The attack suite: both attacks must break deliberately weak encodings and fail on hardened ones,
// deterministically; the CLI reports through UserError; inspect's risk warnings.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { graphMatchingAttack } from '../src/attack/graph-matching.js';
import { patternMiningAttack } from '../src/attack/pattern-mining.js';
import { encodingRisks } from '../src/attack/risk.js';
import { makeScorer } from '../src/attack/score.js';
import { attackSuite } from '../src/attack/suite.js';
import type { AttackInput } from '../src/attack/types.js';
import { attackCommand } from '../src/cli/attack-command.js';
import { writeEncodedFile } from '../src/io/encoded-file.js';
import { compileSchema } from '../src/schema/load.js';
import type { Json } from '../src/schema/json-checks.js';
import { encodeRows, personSchema, project, syntheticRows } from './helpers/attack-population.js';
import { scratchDir } from './helpers/scratch.js';

const WEAK_FIELDS = ['given_name', 'surname'];
const HARDENED_FIELDS = ['given_name', 'surname', 'date_of_birth'];
const HARDENING = { salt: { field: 'date_of_birth', prefix: 4 }, balance: true, blip: 0.02 };

let people: string[][];
const ids = (count: number): string[] => Array.from({ length: count }, (_, i) => `P${i}`);

beforeAll(async () => {
  people = await syntheticRows(300, 11);
});

function inputFor(fields: string[], k: number, hardening?: Json, seed = 1): AttackInput {
  const rows = project(people, fields);
  const { plan, encodings } = encodeRows(personSchema(fields, k, hardening), rows);
  return { plan, encodings, reference: rows, seed };
}

describe('attacks on weak encodings (two name fields, k = 5, no hardening, same population)', () => {
  it('graph matching re-identifies most records and pattern mining recovers q-grams', () => {
    const input = inputFor(WEAK_FIELDS, 5);
    const [mining, graph] = attackSuite(input, { encodedIds: ids(300), referenceIds: ids(300) });
    expect(graph.name).toBe('graph-matching');
    expect(graph.reidentified).toBeGreaterThan(0.3);
    expect(graph.precision).toBeGreaterThan(0.5);
    expect(mining.name).toBe('pattern-mining');
    expect(mining.qgramsIdentified).toBeGreaterThan(0.2);
    expect(mining.precision).toBeGreaterThan(0.8);
  });

  it('is deterministic for a seed', () => {
    const a = inputFor(WEAK_FIELDS, 5, undefined, 7);
    const b = inputFor(WEAK_FIELDS, 5, undefined, 7);
    expect(Array.from(graphMatchingAttack(a).assignments)).toEqual(Array.from(graphMatchingAttack(b).assignments));
    const first = patternMiningAttack(a);
    const second = patternMiningAttack(b);
    expect(first.mapped).toEqual(second.mapped);
    expect(Array.from(first.assignments)).toEqual(Array.from(second.assignments));
  });
});

describe('attacks on hardened encodings (salt birth year, balance, BLIP 0.02)', () => {
  it('re-identify at most 2% and map almost no q-grams', () => {
    const input = inputFor(HARDENED_FIELDS, 5, HARDENING);
    const scores = attackSuite(input, { encodedIds: ids(300), referenceIds: ids(300) });
    for (const score of scores) expect(score.reidentified).toBeLessThanOrEqual(0.02);
    expect(scores[0].qgramsIdentified).toBeLessThanOrEqual(0.05);
  });
});

describe('attacks on the default hardening (what a native schema without a hardening key gets)', () => {
  it('re-identify at most 2% on the same weak two-name schema that the attacks break unhardened', () => {
    const defaults = compileSchema({ blindlink: 1, fields: [{ name: 'x' }] } as Json).hardening;
    expect(defaults).toMatchObject({ balance: true, blip: 0.02, salt: null });
    const input = inputFor(WEAK_FIELDS, 5, { balance: defaults.balance, blip: defaults.blip });
    const scores = attackSuite(input, { encodedIds: ids(300), referenceIds: ids(300) });
    for (const score of scores) expect(score.reidentified).toBeLessThanOrEqual(0.02);
    expect(scores[0].qgramsIdentified).toBeLessThanOrEqual(0.05);
  });
});

describe('scoring', () => {
  it('reads identities only from the truth and counts identical values as re-identified', () => {
    const rows = [['ann', 'lee'], ['bob', 'ray'], ['ann', 'lee'], ['cy', 'do']];
    const { plan, encodings } = encodeRows(personSchema(WEAK_FIELDS, 5), rows);
    const score = makeScorer({ plan, encodings, reference: rows, seed: 1 }, { encodedIds: ['a', 'b', 'c', 'x'], referenceIds: ['a', 'b', 'c', 'd'] });
    // Record 0 -> row 2 (same values as its own row 0), record 1 -> row 3 (wrong), record 3 is not in the reference.
    const result = score({ name: 't', assignments: Int32Array.of(2, 3, -1, 0), tokensConsidered: null, mapped: [] });
    expect(result).toMatchObject({ correct: 1, assignments: 3, inReference: 3, reidentified: 0.25, qgramsIdentified: null });
    expect(result.precision).toBeCloseTo(1 / 3);
  });
});

describe('blindlink attack', () => {
  const dir = scratchDir('blindlink-attack-');
  const out: string[] = [];
  const err: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    out.length = 0;
    err.length = 0;
    process.exitCode = undefined;
  });
  const run = async (args: string[]): Promise<void> => {
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
    await attackCommand().exitOverride().parseAsync(args, { from: 'user' });
  };

  async function files(withIds: boolean): Promise<{ encoded: string; schema: string; reference: string }> {
    const rows = project(people.slice(0, 120), WEAK_FIELDS);
    const schemaJson = personSchema(WEAK_FIELDS, 5);
    const { plan, encodings } = encodeRows(schemaJson, rows);
    const schema = join(dir, 'schema.json');
    writeFileSync(schema, JSON.stringify(schemaJson));
    const reference = join(dir, 'reference.csv');
    writeFileSync(reference, `record_id,given_name,surname\n${rows.map((r, i) => `P${i},${r[0]},${r[1]}`).join('\n')}\n`);
    const encoded = join(dir, withIds ? 'with-ids.arrow' : 'no-ids.arrow');
    await writeEncodedFile(encoded, {
      clks: encodings.clks,
      popcounts: encodings.popcounts,
      ids: withIds ? ids(rows.length) : null,
      filterBits: plan.filterBits,
      metadata: { blindlinkVersion: 'test', schemaFingerprint: plan.fingerprint, keyCheck: '00', filterBits: plan.filterBits, recordCount: rows.length, hardening: 'none' },
    });
    return { encoded, schema, reference };
  }

  it('prints one JSON object with a score per attack', async () => {
    const f = await files(true);
    await run([f.encoded, '--reference', f.reference, '--schema', f.schema, '--truth-column', 'record_id', '--json', '--seed', '3']);
    expect(process.exitCode).toBeUndefined();
    const report = JSON.parse(out.join('')) as { attacks: Array<{ name: string; reidentified: number; precision: number; qgramsIdentified: number | null }> };
    expect(report.attacks.map((a) => a.name)).toEqual(['pattern-mining', 'graph-matching']);
    for (const a of report.attacks) {
      expect(a.reidentified).toBeGreaterThanOrEqual(0);
      expect(a.reidentified).toBeLessThanOrEqual(1);
    }
  });

  it('refuses an encoded file without ids', async () => {
    const f = await files(false);
    await run([f.encoded, '--reference', f.reference, '--schema', f.schema, '--truth-column', 'record_id']);
    expect(process.exitCode).toBe(1);
    expect(err.join('')).toMatch(/no-ids\.arrow: carries no ids; encode with --id-column record_id/);
  });

  it('names missing reference columns', async () => {
    const f = await files(true);
    await run([f.encoded, '--reference', f.reference, '--schema', f.schema, '--truth-column', 'ssn']);
    expect(process.exitCode).toBe(1);
    expect(err.join('')).toMatch(/reference\.csv: missing column ssn/);
  });
});

describe('encodingRisks', () => {
  const spread = Uint16Array.from({ length: 200 }, (_, i) => 200 + (i % 40));
  it('warns about no hardening and popcounts that track value lengths', () => {
    const warnings = encodingRisks({ hardening: 'none', popcounts: spread, filterBits: 1024 });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^no hardening/);
    expect(warnings[1]).toMatch(/popcount reveals value lengths: it ranges 204-236/);
  });
  it('does not warn about popcount when balanced', () => {
    const noisy = Uint16Array.from({ length: 200 }, (_, i) => 1024 + (i % 9) - 4);
    expect(encodingRisks({ hardening: 'balance, blip 0.02', popcounts: noisy, filterBits: 2048 })).toEqual([]);
    expect(encodingRisks({ hardening: 'salt date_of_birth[:4], balance, blip 0.02', popcounts: noisy, filterBits: 2048 })).toEqual([]);
  });
  it('does not flag a constant popcount', () => {
    expect(encodingRisks({ hardening: 'salt date_of_birth[:4], xor-fold x1', popcounts: new Uint16Array(50).fill(300), filterBits: 1024 })).toEqual([]);
  });
});
