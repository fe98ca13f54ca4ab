// `blindlink dedup FILE` and `blindlink match A B C ...` through the command line, on small
// generated encodings, against brute-force Dice and the reference greedy grouping; plus the
// refusals: noisy counts, files given twice, mismatched schemas or secrets, too many files.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './helpers/scratch.js';
import { popcounts } from '../src/bits.js';
import { writeEncodedFile, type EncodingMetadata } from '../src/io/encoded-file.js';
import type { FilterSet } from '../src/match/shared-filters.js';
import { connectedComponents } from '../src/solve/greedy-groups.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';
import { anonlinkOrder, bruteForcePairs, referenceGroups } from './helpers/reference-groups.js';
import { runCli } from './helpers/run-cli.js';

const dir = scratchDir('blindlink-modes-');
const path = (name: string): string => join(dir, name);
const BITS = 512;
const BYTES = BITS / 8;
const THRESHOLD = 0.8;

function metadata(count: number, changes: Partial<EncodingMetadata> = {}): EncodingMetadata {
  return { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits: BITS, recordCount: count, hardening: 'none', ...changes };
}

async function write(name: string, set: FilterSet, ids: string[] | null = null, changes: Partial<EncodingMetadata> = {}): Promise<string> {
  await writeEncodedFile(path(name), { clks: set.clks, popcounts: popcounts(set.clks, BYTES), ids, filterBits: BITS, metadata: metadata(set.count, changes) });
  return path(name);
}

function rowsOf(set: FilterSet, rows: number[]): FilterSet {
  const clks = new Uint8Array(rows.length * BYTES);
  rows.forEach((r, k) => clks.set(set.clks.subarray(r * BYTES, r * BYTES + BYTES), k * BYTES));
  return { filterBits: BITS, count: rows.length, clks };
}

/** Groups in a groups CSV as sorted node lists; nodes are offsets[file] + index. */
function csvGroups(text: string, offsets: number[]): Set<string> {
  const lines = text.trimEnd().split('\n');
  const header = lines[0].split(',');
  const groups = new Map<string, number[]>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const file = header.includes('file') ? Number(cells[1]) : 0;
    const node = offsets[file] + Number(cells[cells.length - 1]);
    groups.set(cells[0], [...(groups.get(cells[0]) ?? []), node]);
  }
  return new Set([...groups.values()].map((g) => g.sort((p, q) => p - q).join(' ')));
}

const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>;
const random = seeded(77);
// One file with duplicates: 120 people, near copies of 40 of them and a second copy of 15, shuffled.
const people = randomFilters(120, BITS, 0.5, random);
const dupOrder = Array.from({ length: 175 }, (_, i) => i).sort(() => random() - 0.5);
let dedupSet: FilterSet;
// Four custodians, each holding 50 of 80 people, lightly corrupted, in their own order.
const population = randomFilters(80, BITS, 0.5, random);
const parties: FilterSet[] = [];

beforeAll(async () => {
  const copies = perturbed(rowsOf(people, Array.from({ length: 40 }, (_, i) => i)), 14, random);
  const thirds = perturbed(rowsOf(people, Array.from({ length: 15 }, (_, i) => i)), 22, random);
  const all: FilterSet = { filterBits: BITS, count: 175, clks: new Uint8Array([...people.clks, ...copies.clks, ...thirds.clks]) };
  dedupSet = rowsOf(all, dupOrder);
  await write('dup.arrow', dedupSet, Array.from({ length: 175 }, (_, i) => `r${i}`));
  for (let p = 0; p < 4; p++) {
    const chosen = Array.from({ length: 80 }, (_, i) => i).sort(() => random() - 0.5).slice(0, 50);
    parties.push(perturbed(rowsOf(population, chosen), 10, random));
    await write(`p${p}.arrow`, parties[p], p === 3 ? null : Array.from({ length: 50 }, (_, i) => `p${p}-${i}`));
  }
  await write('p-other-secret.arrow', parties[2], null, { keyCheck: 'ee'.repeat(16) });
  await write('p-other-schema.arrow', parties[2], null, { schemaFingerprint: 'ff'.repeat(32) });
  copyFileSync(path('p1.arrow'), path('p1-copy.arrow'));
}, 60_000);

describe('blindlink dedup', () => {
  const reference = (): Array<[number, number, number]> => anonlinkOrder(bruteForcePairs(dedupSet, null, THRESHOLD));

  it('count is records minus clusters of the reference greedy grouping; nothing else is released', async () => {
    const run = await runCli(['dedup', path('dup.arrow'), '--threshold', String(THRESHOLD), '--workers', '2', '--json']);
    expect(run.code).toBe(0);
    const report = json(run.stdout);
    const groups = referenceGroups(175, reference());
    const inGroups = [...groups].reduce((n, g) => n + g.split(' ').length, 0);
    expect(report.count).toBe(inGroups - groups.size);
    expect(report.count).toBeGreaterThan(40);
    expect(report.cluster).toBe('greedy');
    expect(String(report.countDefinition)).toMatch(/records minus clusters/);
    expect(report).not.toHaveProperty('histogram');
    // No record ids (r0, r1, ...) anywhere but in the temporary folder's random name.
    expect(run.stdout.replaceAll(path('dup.arrow'), '')).not.toMatch(/r\d+/);
    const human = await runCli(['dedup', path('dup.arrow'), '--threshold', String(THRESHOLD), '--workers', '1']);
    expect(human.stdout).toContain(`duplicate records (records minus clusters): ${report.count}`);
  });

  it('--reveal pairs writes the clusters: the reference groups, by id', async () => {
    const out = path('clusters.csv');
    const run = await runCli(['dedup', path('dup.arrow'), '--threshold', String(THRESHOLD), '--reveal', 'pairs', '--out', out, '--workers', '2']);
    expect(run.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toBe('group,id');
    const byIndex = text.replace(/,r(\d+)/g, ',$1');
    expect(csvGroups(byIndex, [0])).toEqual(referenceGroups(175, reference()));
  });

  it('--merge-fraction 0.5 merges clusters when half the pairs across them are candidates', async () => {
    // The threshold where a third copy is near its original but not always near the second copy.
    const threshold = [0.97, 0.96, 0.95, 0.94, 0.93, 0.9, 0.85, 0.8].find((t) => {
      const pairs = anonlinkOrder(bruteForcePairs(dedupSet, null, t));
      return [...referenceGroups(175, pairs, 0.5)].sort().join('|') !== [...referenceGroups(175, pairs, 1)].sort().join('|');
    });
    expect(threshold).toBeDefined();
    const out = path('clusters-half.csv');
    const run = await runCli(['dedup', path('dup.arrow'), '--threshold', String(threshold), '--merge-fraction', '0.5', '--reveal', 'pairs', '--out', out, '--workers', '2']);
    expect(run.code).toBe(0);
    const expected = referenceGroups(175, anonlinkOrder(bruteForcePairs(dedupSet, null, threshold as number)), 0.5);
    expect(csvGroups(readFileSync(out, 'utf8').replace(/,r(\d+)/g, ',$1'), [0])).toEqual(expected);
  });

  it('--cluster components joins every chain of candidate pairs', async () => {
    const run = await runCli(['dedup', path('dup.arrow'), '--threshold', '0.7', '--cluster', 'components', '--json', '--workers', '2']);
    const pairs = bruteForcePairs(dedupSet, null, 0.7);
    const components = connectedComponents(175, Int32Array.from(pairs, (p) => p[0]), Int32Array.from(pairs, (p) => p[1]), pairs.length);
    let inGroups = 0;
    for (const g of components.groupOf) if (g >= 0) inGroups++;
    expect(json(run.stdout).count).toBe(inGroups - components.count);
  });

  it('histogram bins each record\'s best score against any other record, never itself', async () => {
    const run = await runCli(['dedup', path('dup.arrow'), '--threshold', String(THRESHOLD), '--reveal', 'histogram', '--json', '--workers', '2']);
    const histogram = json(run.stdout).histogram as { bins: Array<{ counts: number[] }>; belowThreshold: number[] };
    const withCandidate = new Set(bruteForcePairs(dedupSet, null, THRESHOLD).flatMap(([i, j]) => [i, j])).size;
    expect(histogram.bins.reduce((n, b) => n + b.counts[0], 0)).toBe(withCandidate);
    expect(histogram.belowThreshold[0]).toBe(175 - withCandidate);
    // A record scored against itself would put all 175 at 1.
    expect(histogram.bins.at(-1)?.counts[0]).toBeLessThan(175);
  });

  it('the LSH self-join finds the same clusters on this data', async () => {
    const all = json((await runCli(['dedup', path('dup.arrow'), '--threshold', String(THRESHOLD), '--blocking', 'none', '--json', '--workers', '2'])).stdout);
    const lsh = json((await runCli(['dedup', path('dup.arrow'), '--threshold', String(THRESHOLD), '--blocking', 'lsh', '--json', '--workers', '2'])).stdout);
    expect((lsh.blocking as { method: string }).method).toBe('lsh');
    expect(Math.abs(Number(lsh.count) - Number(all.count))).toBeLessThanOrEqual(1);
  });

  it('--threshold auto chooses and reports a threshold from the even rows against the odd rows', async () => {
    const run = await runCli(['dedup', path('dup.arrow'), '--threshold', 'auto', '--json', '--workers', '2']);
    expect(run.code).toBe(0);
    const report = json(run.stdout);
    expect(Number(report.threshold)).toBeGreaterThan(0);
    expect((report.thresholdChoice as { reason: string }).reason).toMatch(/even rows against the odd rows/);
  });

  it('refuses noisy-count, explaining why, and --out without pairs', async () => {
    const noisy = await runCli(['dedup', path('dup.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count']);
    expect(noisy.code).toBe(2);
    expect(noisy.stderr).toMatch(/noisy-count is not offered for dedup: one record added or removed can change/);
    const out = await runCli(['dedup', path('dup.arrow'), '--threshold', '0.8', '--out', path('x.csv')]);
    expect(out.code).toBe(2);
    expect(existsSync(path('x.csv'))).toBe(false);
    const bad = await runCli(['dedup', path('missing.arrow'), '--threshold', '0.8']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('missing.arrow');
  });
});

describe('blindlink match with three or more files', () => {
  const offsets = [0, 50, 100, 150, 200];
  function reference(k: number, threshold: number): Set<string> {
    const rows: Array<[number, number, number, number, number]> = [];
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) for (const [i, j, s] of bruteForcePairs(parties[p], parties[q], threshold)) rows.push([p, q, i, j, s]);
    return referenceGroups(offsets[k], anonlinkOrder(rows).map(([p, q, i, j, s]) => [offsets[p] + i, offsets[q] + j, s] as const));
  }

  for (const k of [3, 4]) {
    it(`${k} files: the groups are anonlink's greedy grouping of brute-force candidates, and count is their number`, async () => {
      const files = Array.from({ length: k }, (_, p) => path(`p${p}.arrow`));
      const out = path(`groups-${k}.csv`);
      const run = await runCli(['match', ...files, '--threshold', String(THRESHOLD), '--reveal', 'pairs', '--out', out, '--json', '--workers', '2']);
      expect(run.code).toBe(0);
      const expected = reference(k, THRESHOLD);
      expect(expected.size).toBeGreaterThan(20);
      const report = json(run.stdout);
      expect(report.count).toBe(expected.size);
      expect(report.mode).toBe('multi-party');
      const text = readFileSync(out, 'utf8');
      // File 3 carries no ids, so every file is written by index.
      expect(text.split('\n')[0]).toBe(k === 4 ? 'group,file,index' : 'group,file,id');
      const byIndex = text.replace(/,p\d-(\d+)/g, ',$1');
      expect(csvGroups(byIndex, offsets)).toEqual(expected);
      // At most one record per file in any group.
      for (const g of expected) {
        const files = g.split(' ').map((n) => offsets.findIndex((o, i) => Number(n) >= o && Number(n) < offsets[i + 1]));
        expect(new Set(files).size).toBe(files.length);
      }
    });
  }

  it('count by default; per-pair counts only when asked', async () => {
    const files = [0, 1, 2].map((p) => path(`p${p}.arrow`));
    const plain = json((await runCli(['match', ...files, '--threshold', '0.8', '--json', '--workers', '2'])).stdout);
    expect(plain).not.toHaveProperty('partyPairCounts');
    expect(plain).not.toHaveProperty('histogram');
    const withPairs = json((await runCli(['match', ...files, '--threshold', '0.8', '--party-pair-counts', '--json', '--workers', '2'])).stdout);
    const pairCounts = withPairs.partyPairCounts as Array<{ a: number; b: number; count: number }>;
    expect(pairCounts.map((p) => `${p.a}-${p.b}`)).toEqual(['0-1', '0-2', '1-2']);
    const groups = [...reference(3, 0.8)].map((g) => new Set(g.split(' ').map((n) => Math.floor(Number(n) / 50))));
    for (const p of pairCounts) expect(p.count).toBe(groups.filter((g) => g.has(p.a) && g.has(p.b)).length);
  });

  it('histogram: each record\'s best score against the other files, per file', async () => {
    const files = [0, 1, 2].map((p) => path(`p${p}.arrow`));
    const report = json((await runCli(['match', ...files, '--threshold', '0.8', '--reveal', 'histogram', '--json', '--workers', '2'])).stdout);
    const histogram = report.histogram as { bins: Array<{ counts: number[] }>; belowThreshold: number[] };
    const inBins = [0, 1, 2].map((p) => histogram.bins.reduce((n, b) => n + b.counts[p], 0) + histogram.belowThreshold[p]);
    expect(inBins).toEqual([50, 50, 50]);
  });

  it('refuses a file given twice, by path or by content, naming both', async () => {
    const twice = await runCli(['match', path('p0.arrow'), path('p1.arrow'), path('p1.arrow'), '--threshold', '0.8']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/p1\.arrow: the same file as .*p1\.arrow is given twice/);
    const copy = await runCli(['match', path('p0.arrow'), path('p1.arrow'), path('p1-copy.arrow'), '--threshold', '0.8']);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toMatch(/p1-copy\.arrow and .*p1\.arrow hold identical encodings/);
  });

  it('refuses files of another secret or schema, naming them', async () => {
    const secret = await runCli(['match', path('p0.arrow'), path('p1.arrow'), path('p-other-secret.arrow'), '--threshold', '0.8']);
    expect(secret.code).toBe(1);
    expect(secret.stderr).toMatch(/p0\.arrow and .*p-other-secret\.arrow were not encoded alike: key check values differ/);
    const schema = await runCli(['match', path('p0.arrow'), path('p-other-schema.arrow'), path('p1.arrow'), '--threshold', '0.8']);
    expect(schema.code).toBe(1);
    expect(schema.stderr).toMatch(/p-other-schema\.arrow were not encoded alike: schema fingerprints differ/);
  });

  it('refuses more than 16 files, one file, noisy-count, and --party-pair-counts with two files', async () => {
    const many = await runCli(['match', ...Array.from({ length: 17 }, (_, i) => path(`none-${i}.arrow`)), '--threshold', '0.8']);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/17 files given: at most 16/);
    const one = await runCli(['match', path('p0.arrow'), '--threshold', '0.8']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/blindlink dedup/);
    const noisy = await runCli(['match', path('p0.arrow'), path('p1.arrow'), path('p2.arrow'), '--threshold', '0.8', '--reveal', 'noisy-count', '--epsilon', '1']);
    expect(noisy.code).toBe(2);
    expect(noisy.stderr).toMatch(/not offered for three or more files/);
    const two = await runCli(['match', path('p0.arrow'), path('p1.arrow'), '--threshold', '0.8', '--party-pair-counts']);
    expect(two.code).toBe(2);
  });
});
