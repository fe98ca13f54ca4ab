// `blindlink match` through the command line: reveal modes, refusal of mismatched files, and
// bad input (truncated or corrupt Arrow, wrong column types, empty files, bad options), each
// with exit code 1 or 2, a message naming the file, and no partial output.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, FixedSizeBinary, Schema, Table, Utf8, tableToIPC, vectorFromArray, makeData, RecordBatch, Struct, Int32 } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { popcounts } from '../src/bits.js';
import { writeEncodedFile, type EncodingMetadata } from '../src/io/encoded-file.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';
import { runMatchCli } from './helpers/match-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'blindlink-match-'));
const path = (name: string): string => join(dir, name);

function metadata(filterBits: number, count: number, changes: Partial<EncodingMetadata> = {}): EncodingMetadata {
  return { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits, recordCount: count, hardening: 'none', ...changes };
}

async function writeSet(name: string, clks: Uint8Array, filterBits: number, ids: string[] | null, changes: Partial<EncodingMetadata> = {}): Promise<string> {
  const count = clks.length / (filterBits / 8);
  await writeEncodedFile(path(name), { clks, popcounts: popcounts(clks, filterBits / 8), ids, filterBits, metadata: metadata(filterBits, count, changes) });
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
    const report = json(run.stdout) as { threshold: number; count: number; thresholdChoice: { method: string; reason: string } };
    expect(report.threshold).toBeGreaterThan(0);
    expect(report.threshold).toBeLessThanOrEqual(1);
    expect(report.thresholdChoice.reason.length).toBeGreaterThan(0);
    expect(report.count).toBe(150);
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', 'auto']);
    expect(human.stdout).toMatch(/threshold: [\d.]+ \(chosen automatically, /);
  });

  it('--blocking lsh finds the same matching as all pairs and reports the reduction', () => {
    const all = json(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--blocking', 'none', '--json']).stdout);
    const lsh = json(runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--blocking', 'lsh', '--json']).stdout);
    expect(lsh.count).toBe(all.count);
    expect(all.blocking).toMatchObject({ method: 'none', pairsTotal: 40_000 });
    expect(lsh.blocking).toMatchObject({ method: 'lsh', pairsTotal: 40_000 });
    expect((lsh.blocking as { pairsCompared: number }).pairsCompared).toBeLessThan(40_000);
    const human = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--blocking', 'lsh']);
    expect(human.stdout).toMatch(/comparisons: [\d,]+ of 40,000 pairs \(Hamming LSH blocking, reduction ratio 0\.\d+\)/);
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
    for (const bad of ['0', '-1', 'abc', 'Infinity']) {
      const r = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count', '--epsilon', bad]);
      expect(r.status, bad).toBe(1);
      expect(r.stderr).toMatch(/^blindlink: --epsilon must be a positive number/);
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

  it.each(['0', '-0.1', '1.5', 'abc', '', 'NaN'])('threshold %j outside (0, 1]: exit 1', (threshold) => {
    const run = runMatchCli([path('a.arrow'), path('b.arrow'), '--threshold', threshold]);
    expect(run.status).toBe(1);
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
