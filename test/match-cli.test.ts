// `blindlink match` through the command line: reveal modes, refusal of mismatched files, and
// bad input (truncated or corrupt Arrow, wrong column types, empty files, bad options), each
// with exit code 1 or 2, a message naming the file, and no partial output.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Field, FixedSizeBinary, Schema, Table, Utf8, tableToIPC, vectorFromArray, makeData, RecordBatch, Struct, Int32 } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { popcounts } from '../src/bits.js';
import { SIGNATURE_RULE_IDS, SIGNATURE_SCHEME } from '../src/blocking/signature.js';
import { writeEncodedFile, type EncodingMetadata } from '../src/io/encoded-file.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';
import { runMatchCli } from './helpers/match-cli.js';
import { people, typoVariant } from './helpers/people.js';
import { runCli, scratchDir } from './helpers/run-cli.js';

const dir = scratchDir('blindlink-match-');
const path = (name: string): string => join(dir, name);

function metadata(filterBits: number, count: number, changes: Partial<EncodingMetadata> = {}): EncodingMetadata {
  return { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits, recordCount: count, hardening: 'none', ...changes };
}

async function writeSet(name: string, clks: Uint8Array, filterBits: number, ids: string[] | null, changes: Partial<EncodingMetadata> = {}): Promise<string> {
  const count = clks.length / (filterBits / 8);
  // Files that claim block keys get arbitrary ones: these tests are about refusals, not blocks.
  const blockKeys = changes.blocking ? new Uint8Array(count * 8 * changes.blocking.rules.length).fill(7) : null;
  await writeEncodedFile(path(name), { clks, popcounts: popcounts(clks, filterBits / 8), blockKeys, ids, filterBits, metadata: metadata(filterBits, count, changes) });
  return path(name);
}

beforeAll(async () => {
  const random = seeded(21);
  const b = randomFilters(200, 1024, 0.5, random);
  // A: 150 near-duplicates of B's first rows (shuffled order) plus 50 unrelated filters.
  const near = perturbed({ ...b, count: 150, clks: b.clks.subarray(0, 150 * 128) }, 40, random);
  const a = new Uint8Array(200 * 128);
  a.set(near.clks, 0);
  a.set(randomFilters(50, 1024, 0.5, random).clks, 150 * 128);
  await writeSet('a.arrow', a, 1024, Array.from({ length: 200 }, (_, i) => `a-${i}`));
  await writeSet('b.arrow', b.clks, 1024, Array.from({ length: 200 }, (_, i) => (i === 3 ? 'b,"3"' : `b-${i}`)));
  await writeSet('a-noids.arrow', a, 1024, null);
  await writeSet('b-noids.arrow', b.clks, 1024, null);
  await writeSet('b-other-secret.arrow', b.clks, 1024, null, { keyCheck: 'ee'.repeat(16) });
  await writeSet('b-other-schema.arrow', b.clks, 1024, null, { schemaFingerprint: 'ff'.repeat(32) });
  await writeSet('b-2048.arrow', randomFilters(20, 2048, 0.5, random).clks, 2048, null);
  await writeSet('a-unrelated.arrow', randomFilters(200, 1024, 0.5, random).clks, 1024, null);
  const one = b.clks.subarray(0, 128);
  const same = new Uint8Array(100 * 128);
  for (let row = 0; row < 100; row++) same.set(one, row * 128);
  await writeSet('same.arrow', same, 1024, null);
  const blocking = { scheme: SIGNATURE_SCHEME, rules: [...SIGNATURE_RULE_IDS] };
  await writeSet('a-keys.arrow', a, 1024, null, { blocking });
  await writeSet('b-keys.arrow', b.clks, 1024, null, { blocking });
  await writeSet('b-keys-other-rules.arrow', b.clks, 1024, null, { blocking: { scheme: SIGNATURE_SCHEME, rules: ['soundex(surname)+birth-year', 'given-initial+zip3'] } });
  await writeSet('a-keys-v9.arrow', a, 1024, null, { blocking: { ...blocking, scheme: 'signature-v9' } });
  await writeSet('b-keys-v9.arrow', b.clks, 1024, null, { blocking: { ...blocking, scheme: 'signature-v9' } });
  const json = (clks: Uint8Array): string => JSON.stringify({ clks: Array.from({ length: clks.length / 128 }, (_, i) => Buffer.from(clks.subarray(i * 128, i * 128 + 128)).toString('base64')) });
  writeFileSync(path('a.json'), json(a));
  writeFileSync(path('b.json'), json(b.clks));
  const whole = readFileSync(path('b.arrow'));
  writeFileSync(path('truncated.arrow'), whole.subarray(0, Math.floor(whole.length / 2)));
  const corrupt = Buffer.from(whole);
  corrupt.fill(0x5a, 8, 200);
  writeFileSync(path('corrupt.arrow'), corrupt);
  writeFileSync(path('empty.arrow'), '');
  writeFileSync(path('garbage.arrow'), 'this is not arrow at all');
  // clk as Utf8 instead of FixedSizeBinary.
  writeFileSync(path('clk-utf8.arrow'), tableToIPC(new Table({ clk: vectorFromArray(['x', 'y'], new Utf8()) }), 'file'));
  // popcount as Int32 instead of Uint16.
  const schema = new Schema([new Field('clk', new FixedSizeBinary(128), false), new Field('popcount', new Int32(), false)]);
  const data = makeData({
    type: new Struct(schema.fields),
    length: 2,
    nullCount: 0,
    children: [makeData({ type: new FixedSizeBinary(128), length: 2, nullCount: 0, data: b.clks.slice(0, 256) }), makeData({ type: new Int32(), length: 2, nullCount: 0, data: Int32Array.of(1, 2) })],
  });
  writeFileSync(path('popcount-int32.arrow'), tableToIPC(new Table([new RecordBatch(schema, data)]), 'file'));
}, 60_000);

const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>;

describe('blindlink match: reveal modes', () => {
  it('count is the default and prints only the count and input sizes', () => {
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--workers', '2']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/matched pairs \(1:1\): 150\n/);
    expect(human.stdout).not.toMatch(/a-\d|b-\d/);
    const machine = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--json']);
    expect(machine.status).toBe(0);
    const report = json(machine.stdout);
    expect(report).toMatchObject({ count: 150, threshold: 0.8, reveal: 'count', epsilon: null });
    expect(report.inputs).toMatchObject({ a: { records: 200 }, b: { records: 200 } });
    expect(machine.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--threshold auto chooses and reports a threshold that separates the planted pairs', () => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', 'auto', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const report = json(run.stdout) as {
      threshold: number;
      count: number;
      thresholdChoice: { method: string; reason: string; floor: number; expected: { precision: number; recall: number; f1: number } };
      estimate: { estimate: number; low: number; high: number; level: number; unresolved: number };
    };
    expect(report.threshold).toBeGreaterThanOrEqual(report.thresholdChoice.floor);
    expect(report.threshold).toBeLessThanOrEqual(1);
    expect(report.thresholdChoice.method).toBe('score-model');
    expect(report.thresholdChoice.reason).toMatch(/highest expected F1/);
    expect(report.thresholdChoice.expected.f1).toBeGreaterThan(0.95);
    expect(report.count).toBe(150);
    expect(report.estimate.low).toBeLessThanOrEqual(150);
    expect(report.estimate.high).toBeGreaterThanOrEqual(150);
    expect(report.estimate.level).toBe(0.95);
    // Planted pairs far above chance: nearly none of them is a guess.
    expect(report.estimate.unresolved).toBeGreaterThanOrEqual(0);
    expect(report.estimate.unresolved).toBeLessThan(5);
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', 'auto']);
    expect(human.stdout).toMatch(/threshold: [\d.]+ \(chosen automatically, score-model: /);
    expect(human.stdout).toMatch(/expected at this threshold: precision [\d.]+, recall [\d.]+, F1 [\d.]+/);
    expect(human.stdout).toMatch(/estimated overlap: \d+ true pairs \(95% interval \d+ to \d+, about \d+ of them at scores where chance pairs outnumber true ones/);
  });

  it('--reveal estimate releases the estimate and its interval instead of the matched count', () => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', 'auto', '--reveal', 'estimate', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const report = json(run.stdout) as { reveal: string; count: number; estimate: { estimate: number; low: number; high: number } };
    expect(report.reveal).toBe('estimate');
    expect(report.count).toBe(report.estimate.estimate);
    expect(Math.abs(report.count - 150)).toBeLessThanOrEqual(15);
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'estimate']);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).not.toMatch(/matched pairs/);
    expect(human.stdout).toMatch(/estimated overlap: /);
    // Three or more files: there is no one pair of files to model.
    const many = runMatchCli([path('a.arrow'), path('b.arrow'), path('a-noids.arrow'), '--threshold', '0.8', '--reveal', 'estimate']);
    expect(many.status).toBe(2);
    expect(many.stderr).toMatch(/--reveal estimate applies to two files/);
  });

  it('--threshold auto refuses, with the reason, when no threshold can be chosen', () => {
    // All-identical records: every pair scores 1, so no score tells a match from a chance pair.
    const same = runMatchCli([path('same.arrow'), path('same.arrow'), '--threshold', 'auto']);
    expect(same.status).toBe(1);
    expect(same.stderr.trim().split('\n').filter((line) => /cannot choose/.test(line))).toHaveLength(1);
    expect(same.stderr).toMatch(/--threshold auto cannot choose: every candidate pair scores within one bin/);
    expect(same.stdout).toBe('');
    // Unrelated filters: nothing above chance.
    const unrelated = runMatchCli([path('a-unrelated.arrow'), path('b.arrow'), '--threshold', 'auto']);
    expect(unrelated.status).toBe(1);
    expect(unrelated.stderr).toMatch(/cannot choose: (no candidate pairs score clearly above what chance explains|only \d+ candidate pairs)/);
  });

  it('--blocking lsh finds the same matching as all pairs and reports the reduction', () => {
    const all = json(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--blocking', 'none', '--json']).stdout);
    const lsh = json(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--blocking', 'lsh', '--json']).stdout);
    expect(lsh.count).toBe(all.count);
    expect(all.blocking).toMatchObject({ method: 'none', pairsTotal: 40_000 });
    expect(lsh.blocking).toMatchObject({ method: 'lsh', pairsTotal: 40_000 });
    const blocking = lsh.blocking as { pairsCompared: number; lsh: { bitsPerTable: number; tables: number; predictedCompleteness: number } };
    expect(blocking.pairsCompared).toBeLessThan(40_000);
    // The plan is reported: K, L and the completeness it promises at the threshold (default target 0.99).
    expect(blocking.lsh.bitsPerTable).toBeGreaterThan(0);
    expect(blocking.lsh.tables).toBeGreaterThan(0);
    expect(blocking.lsh.predictedCompleteness).toBeGreaterThanOrEqual(0.99);
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--blocking', 'lsh']);
    expect(human.stdout).toMatch(/comparisons: [\d,]+ of 40,000 pairs \(Hamming LSH blocking, K = \d+, L = \d+, predicted completeness at the threshold 0\.99\d+, reduction ratio 0\.\d+\)/);
  });

  it('noisy-count states mechanism and epsilon and needs a positive epsilon', () => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count', '--epsilon', '0.5', '--json']);
    expect(run.status).toBe(0);
    const report = json(run.stdout);
    expect(report).toMatchObject({ reveal: 'noisy-count', epsilon: 0.5 });
    expect(report.mechanism).toMatch(/two-sided geometric/);
    expect(typeof report.count).toBe('number');
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count', '--epsilon', '2']);
    expect(human.stdout).toMatch(/noisy count: \d+/);
    expect(human.stdout).toMatch(/epsilon: 2/);
    expect(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count']).status).toBe(2);
    // 1e-17 released NaN (exp(-1e-17) rounds to 1): budgets the sampler cannot serve are refused.
    for (const bad of ['0', '-1', 'abc', 'Infinity', '1e-17', '1e-13']) {
      const r = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count', '--epsilon', bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(/^blindlink: --epsilon must be a number of at least 1e-12/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    for (const served of ['1e-12', '1e300']) {
      const r = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count', '--epsilon', served, '--json']);
      expect(r.status, served).toBe(0);
      const count = json(r.stdout).count as number;
      expect(Number.isInteger(count) && count >= 0 && count <= 200, `${served}: ${count}`).toBe(true);
    }
  });

  it('histogram bins best scores per record without identities', () => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.5', '--reveal', 'histogram', '--json']);
    expect(run.status).toBe(0);
    const report = json(run.stdout) as { histogram: { bins: Array<{ a: number; b: number }>; belowThreshold: { a: number; b: number } } };
    const totalA = report.histogram.bins.reduce((s, bin) => s + bin.a, 0) + report.histogram.belowThreshold.a;
    expect(totalA).toBe(200);
    expect(run.stdout).not.toMatch(/a-\d|b-\d/);
  });

  it('pairs only with --out, written whole, with carried ids quoted', () => {
    expect(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'pairs']).status).toBe(2);
    expect(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--out', path('x.csv')]).status).toBe(2);
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'pairs', '--out', path('pairs.csv')]);
    expect(run.status).toBe(0);
    const lines = readFileSync(path('pairs.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id_a,id_b,score');
    expect(lines).toHaveLength(151);
    expect(lines).toContain(`a-3,"b,""3""",${lines.find((l) => l.startsWith('a-3,'))?.split(',').pop()}`);
    const indices = runMatchCli([path('a-noids.arrow'), path('b-noids.arrow'), '--threshold', '0.8', '--reveal', 'pairs', '--out', path('rows.csv')]);
    expect(indices.status).toBe(0);
    expect(readFileSync(path('rows.csv'), 'utf8').split('\n')[0]).toBe('index_a,index_b,score');
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('accepts clkhash JSON with a warning that the check was impossible', () => {
    const run = runMatchCli([path('a.json'), path('b.arrow'), '--threshold', '0.8', '--json']);
    expect(run.status).toBe(0);
    expect(json(run.stdout).count).toBe(150);
    expect(run.stderr).toMatch(/warning: .*a\.json has no blindlink metadata.*cannot check/);
  });
});

describe('blindlink match: refusals and bad input', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['different secrets', [path('a.arrow'), path('b-other-secret.arrow')], /key check values differ/],
    ['different schemas', [path('a.arrow'), path('b-other-schema.arrow')], /schema fingerprints differ/],
    ['different filter lengths', [path('a.arrow'), path('b-2048.arrow')], /b-2048\.arrow: has 2048-bit filters but .*a\.arrow has 1024-bit/],
    ['truncated Arrow', [path('a.arrow'), path('truncated.arrow')], /truncated\.arrow: /],
    ['corrupt Arrow', [path('corrupt.arrow'), path('b.arrow')], /corrupt\.arrow: /],
    ['not Arrow at all', [path('garbage.arrow'), path('b.arrow')], /garbage\.arrow: /],
    ['empty file', [path('a.arrow'), path('empty.arrow')], /empty\.arrow: .*empty/],
    ['clk column of the wrong type', [path('clk-utf8.arrow'), path('b.arrow')], /clk-utf8\.arrow: .*clk/],
    ['popcount column of the wrong type', [path('popcount-int32.arrow'), path('b.arrow')], /popcount-int32\.arrow: .*popcount/],
    ['missing file', [path('nope.arrow'), path('b.arrow')], /nope\.arrow: /],
  ];
  it.each(cases)('%s: exit 1 with a one-line message naming the file', (_, files, message) => {
    const run = runMatchCli([...files, '--threshold', '0.8', '--reveal', 'pairs', '--out', path('never.csv')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path('never.csv'))).toBe(false);
  });

  const signatureCases: Array<[string, string[], RegExp]> = [
    ['A without block keys', [path('a.arrow'), path('b-keys.arrow')], /a\.arrow: carries no signature block keys, so --blocking signature cannot use it/],
    ['B without block keys', [path('a-keys.arrow'), path('b.arrow')], /b\.arrow: carries no signature block keys/],
    ['block keys under different rules', [path('a-keys.arrow'), path('b-keys-other-rules.arrow')], /carry different block keys \(signature-v1 with rules .*given-initial\+zip5 vs .*given-initial\+zip3\)/],
    ['a scheme this version does not join', [path('a-keys-v9.arrow'), path('b-keys-v9.arrow')], /block keys follow signature-v9 .*this blindlink joins signature-v1/],
  ];
  it.each(signatureCases)('--blocking signature with %s: exit 1, one line naming the file', (_, files, message) => {
    const run = runMatchCli([...files, '--threshold', '0.8', '--blocking', 'signature']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('files with block keys match as before with the other blocking methods', () => {
    const run = runMatchCli([path('a-keys.arrow'), path('b-keys.arrow'), '--threshold', '0.8', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(json(run.stdout).count).toBe(150);
  });

  it.each(['0', '-0.1', '1.5', 'abc', '', 'NaN'])('threshold %j outside (0, 1]: a usage error, exit 2 like every invalid option', (threshold) => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', threshold]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^blindlink: --threshold must be a number in \(0, 1\]/);
  });

  it('threshold 1 is allowed; a missing threshold is a usage error', () => {
    expect(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '1']).status).toBe(0);
    expect(runMatchCli([path('a.arrow'), path('b.arrow')]).status).toBe(2);
  });

  it('stops with a clear message when candidates exceed the limit', () => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.3', '--max-candidates', '1000']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/more than 1000 candidate pairs at threshold 0\.3.*raise --threshold or --max-candidates/);
  });
});

describe('blindlink match --blocking signature on encoded people', () => {
  const SCHEMA = {
    blindlink: 1,
    filter: { bits: 1024 },
    fields: [
      { name: 'given_name', normalise: 'name', bitsPerToken: 25 },
      { name: 'surname', normalise: 'name', bitsPerToken: 25 },
      { name: 'date_of_birth', normalise: 'date', dateOrder: 'YMD', bitsPerToken: 45 },
      { name: 'city', normalise: 'text', bitsPerToken: 4 },
      { name: 'zip', normalise: 'digits', digits: 5, tokens: { type: 'qgram', q: 1, positional: true, padded: false }, bitsPerToken: 4 },
    ],
  };
  const keyed = path('people-keyed.json');
  const plain = path('people-plain.json');
  const encode = async (schema: string, input: string, output: string): Promise<void> => {
    const result = await runCli(['encode', '--schema', schema, '--secret-file', path('people.key'), '--in', input, '--out', output]);
    expect(result.code, result.stderr).toBe(0);
  };

  beforeAll(async () => {
    writeFileSync(keyed, JSON.stringify({ ...SCHEMA, blocking: { signature: { givenName: 'given_name', surname: 'surname', birthYear: 'date_of_birth', zip: 'zip' } } }));
    writeFileSync(plain, JSON.stringify(SCHEMA));
    // A fixed secret keeps the scores, and so the counts, the same from run to run.
    writeFileSync(path('people.key'), `${'5a'.repeat(32)}\n`);
    const csv = (rows: string[][]): string => `given_name,surname,date_of_birth,city,zip\n${rows.map((row) => row.join(',')).join('\n')}\n`;
    // Registry: 400 people with a ZIP each. Requests: 120 of them with one swapped pair of letters
    // (never the first letter, so the given-name initial and ZIP block still holds every true
    // pair), then 60 people from elsewhere.
    const registry = people(400, 5).map((row, i) => [...row, String(60000 + (i % 37))]);
    const requests = [...registry.slice(0, 120).map((row, i) => [...typoVariant(row.slice(0, 4), i), row[4]]), ...people(60, 77).map((row) => [...row, '99999'])];
    writeFileSync(path('registry.csv'), csv(registry));
    writeFileSync(path('requests.csv'), csv(requests));
    await encode(keyed, path('registry.csv'), path('registry-keyed.arrow'));
    await encode(keyed, path('requests.csv'), path('requests-keyed.arrow'));
    await encode(plain, path('requests.csv'), path('requests-plain.arrow'));
  }, 60_000);

  it('gives the same count as all pairs, with far fewer comparisons, and says so', () => {
    // At 0.85 no two different people in this small vocabulary score as a pair (at 0.75 namesakes
    // do, and signature blocking rightly never compares them), so the counts must agree.
    const args = [path('requests-keyed.arrow'), path('registry-keyed.arrow'), '--threshold', '0.85', '--json'];
    const all = json(runMatchCli([...args, '--blocking', 'none']).stdout);
    const run = runMatchCli([...args, '--blocking', 'signature']);
    expect(run.status, run.stderr).toBe(0);
    const signature = json(run.stdout);
    expect(all.count).toBeGreaterThanOrEqual(110);
    expect(signature.count).toBe(all.count);
    const blocking = signature.blocking as { method: string; pairsTotal: number; pairsCompared: number; reductionRatio: number };
    expect(blocking).toMatchObject({ method: 'signature', pairsTotal: 180 * 400 });
    expect(blocking.pairsCompared).toBeLessThan(blocking.pairsTotal / 5);
    expect(blocking.reductionRatio).toBeCloseTo(1 - blocking.pairsCompared / blocking.pairsTotal, 12);
    const human = runMatchCli([path('requests-keyed.arrow'), path('registry-keyed.arrow'), '--threshold', '0.85', '--blocking', 'signature']);
    expect(human.stdout).toMatch(/comparisons: [\d,]+ of 72,000 pairs \(keyed signature blocking, reduction ratio 0\.\d+\)/);
  });

  it('refuses a file encoded without the blocking section', () => {
    const run = runMatchCli([path('requests-plain.arrow'), path('registry-keyed.arrow'), '--threshold', '0.75', '--blocking', 'signature']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/requests-plain\.arrow: carries no signature block keys/);
  });

  it('documents the method in --help', () => {
    const help = runMatchCli(['--help']);
    expect(help.stdout).toMatch(/--blocking <method>[\s\S]*"signature"/);
    expect(help.stdout).toMatch(/signature {2}only pairs sharing a block key/);
  });
});
