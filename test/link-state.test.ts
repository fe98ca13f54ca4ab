// Incremental linkage: after every batch, `link release` equals a full `match` / `dedup` of the
// files as they stand (all pairs), for one, two and three parties; a killed `link add` leaves
// the state as it was or as it would be, never between; the refusals name the file at fault.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './helpers/scratch.js';
import { popcounts } from '../src/bits.js';
import { writeEncodedFile, type EncodingMetadata } from '../src/io/encoded-file.js';
import { addBatch, initState, releaseState, stateStatus } from '../src/link/linkage.js';
import { dedupFile } from '../src/match/dedup.js';
import { matchFiles } from '../src/match/match-files.js';
import { matchParties } from '../src/match/multi-party.js';
import type { FilterSet } from '../src/match/shared-filters.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';
import { CLI, runCli } from './helpers/run-cli.js';

const dir = scratchDir('blindlink-link-');
const path = (name: string): string => join(dir, name);
const BITS = 512;
const BYTES = BITS / 8;

function metadata(count: number, changes: Partial<EncodingMetadata> = {}): EncodingMetadata {
  return { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits: BITS, recordCount: count, hardening: 'none', ...changes };
}

function rows(set: FilterSet, from: number, to: number): FilterSet {
  return { filterBits: BITS, count: to - from, clks: set.clks.slice(from * BYTES, to * BYTES) };
}

async function write(name: string, set: FilterSet, ids: string[] | null, changes: Partial<EncodingMetadata> = {}): Promise<string> {
  await writeEncodedFile(path(name), { clks: set.clks, popcounts: popcounts(set.clks, BYTES), ids, filterBits: BITS, metadata: metadata(set.count, changes) });
  return path(name);
}

const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>;

/**
 * Each party's whole file, cut into an initial file and two batches: party p holds 90 of 120
 * people (perturbed, so scores spread around the threshold), and party 0 also repeats some of its
 * own people in later rows, so that deduplication has work across batches.
 */
const random = seeded(13);
const people = randomFilters(120, BITS, 0.5, random);
const whole: FilterSet[] = [];
const cuts = [0, 50, 75, 100];

beforeAll(async () => {
  for (let p = 0; p < 3; p++) {
    const chosen = Array.from({ length: 120 }, (_, i) => i).sort(() => random() - 0.5).slice(0, p === 0 ? 70 : 100);
    if (p === 0) chosen.push(...chosen.slice(0, 30));
    const clks = new Uint8Array(100 * BYTES);
    chosen.forEach((person, k) => clks.set(people.clks.subarray(person * BYTES, person * BYTES + BYTES), k * BYTES));
    whole.push(perturbed({ filterBits: BITS, count: 100, clks }, 12, random));
    const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `p${p}-${from + i}`);
    for (let part = 0; part < 3; part++) await write(`p${p}-part${part}.arrow`, rows(whole[p], cuts[part], cuts[part + 1]), ids(cuts[part], cuts[part + 1]));
    // The file as it stands after each part: what a full re-match would read.
    for (let part = 0; part < 3; part++) await write(`p${p}-upto${part}.arrow`, rows(whole[p], 0, cuts[part + 1]), ids(0, cuts[part + 1]));
  }
  await write('other-secret.arrow', rows(whole[1], 0, 10), null, { keyCheck: 'ee'.repeat(16) });
}, 60_000);

/** The released figure of a full all-pairs run over the files as they stand, with its pairs or groups written to `out`. */
async function full(parties: number, upto: number[], out: string): Promise<number> {
  const files = Array.from({ length: parties }, (_, p) => path(`p${p}-upto${upto[p]}.arrow`));
  const common = { threshold: 0.8, reveal: 'pairs' as const, out, workers: 1, blocking: 'none' as const };
  if (parties === 1) return (await dedupFile({ ...common, file: files[0], cluster: 'greedy' })).count;
  if (parties === 2) return (await matchFiles({ ...common, a: files[0], b: files[1], epsilon: null, warn: () => undefined })).count;
  return (await matchParties({ ...common, files, partyPairCounts: false, warn: () => undefined })).count;
}

for (const parties of [1, 2, 3]) {
  describe(`link with ${parties} part${parties === 1 ? 'y' : 'ies'}`, () => {
    it('releases after every batch exactly what a full run over the files as they stand releases', async () => {
      const state = path(`state-${parties}`);
      const initial = Array.from({ length: parties }, (_, p) => path(`p${p}-part0.arrow`));
      const names = Array.from({ length: parties }, (_, p) => `p${p}`);
      await initState({ dir: state, files: initial, names, threshold: 0.8, workers: 1, warn: () => undefined });
      const upto = Array.from({ length: parties }, () => 0);
      // Batches arrive out of party order, as custodians send them.
      const schedule = parties === 1 ? [0, 0] : parties === 2 ? [1, 0, 0, 1] : [2, 0, 1, 1, 0, 2];
      const released: number[] = [];
      for (const party of [-1, ...schedule]) {
        if (party >= 0) {
          upto[party]++;
          await addBatch({ dir: state, party: `p${party}`, file: path(`p${party}-part${upto[party]}.arrow`), workers: 1 });
        }
        const out = path(`link-${parties}-${released.length}.csv`);
        const expectedOut = path(`full-${parties}-${released.length}.csv`);
        const report = await releaseState({ dir: state, reveal: 'pairs', epsilon: null, out, partyPairCounts: false });
        expect(report.count).toBe(await full(parties, upto, expectedOut));
        expect(readFileSync(out, 'utf8')).toBe(readFileSync(expectedOut, 'utf8'));
        released.push(report.count);
      }
      expect(released.at(-1)).toBeGreaterThan(10);
      // Every release is on record, with the generation it saw.
      const status = await stateStatus(state);
      expect(status.releases.map((r) => r.generation)).toEqual(Array.from({ length: schedule.length + 1 }, (_, i) => i + 1));
      expect(status.generation).toBe(schedule.length + 1);
    });
  });
}

describe('link: refusals and state safety', () => {
  it('refuses a batch of another secret, the same batch twice, an unknown party, and an automatic threshold', async () => {
    const state = path('state-refusals');
    expect((await runCli(['link', 'init', '--state', state, '--threshold', '0.8', path('p0-part0.arrow'), path('p1-part0.arrow')])).code).toBe(0);
    const secret = await runCli(['link', 'add', '--state', state, '--party', 'p1-part0', path('other-secret.arrow')]);
    expect(secret.code).toBe(1);
    expect(secret.stderr).toMatch(/other-secret\.arrow were not encoded alike: key check values differ/);
    const twice = await runCli(['link', 'add', '--state', state, '--party', 'p0-part0', path('p0-part0.arrow')]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/p0-part0\.arrow: holds the same encodings as a batch already added to party p0-part0/);
    const party = await runCli(['link', 'add', '--state', state, '--party', 'x', path('p0-part1.arrow')]);
    expect(party.code).toBe(2);
    expect(party.stderr).toMatch(/--party x: the state's parties are p0-part0, p1-part0/);
    const auto = await runCli(['link', 'init', '--state', path('state-auto'), '--threshold', 'auto', path('p0-part0.arrow')]);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/fixed --threshold/);
    const again = await runCli(['link', 'init', '--state', state, '--threshold', '0.8', path('p0-part0.arrow')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a linkage state/);
    const missing = await runCli(['link', 'add', '--state', path('no-such-state'), '--party', 'a', path('p0-part1.arrow')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-state: holds no linkage state/);
    // No refused batch left anything behind.
    expect(readdirSync(state).filter((f) => f.startsWith('g000002'))).toEqual([]);
  });

  it('refuses noisy-count for one or three parties, and allows it for two, recording the epsilon spent', async () => {
    const dedup = path('state-noise-1');
    expect((await runCli(['link', 'init', '--state', dedup, '--threshold', '0.8', path('p0-part0.arrow')])).code).toBe(0);
    const refused = await runCli(['link', 'release', '--state', dedup, '--reveal', 'noisy-count', '--epsilon', '1']);
    expect(refused.code).toBe(2);
    const two = path('state-noise-2');
    expect((await runCli(['link', 'init', '--state', two, '--threshold', '0.8', path('p0-part0.arrow'), path('p1-part0.arrow')])).code).toBe(0);
    for (let i = 0; i < 2; i++) expect((await runCli(['link', 'release', '--state', two, '--reveal', 'noisy-count', '--epsilon', '0.5'])).code).toBe(0);
    const report = json((await runCli(['link', 'release', '--state', two, '--json'])).stdout);
    expect((report.link as { epsilonSpent: number }).epsilonSpent).toBe(1);
  });

  it('one command at a time: a live lock holder is named, a dead one\'s lock is taken over', async () => {
    const state = path('state-lock');
    expect((await runCli(['link', 'init', '--state', state, '--threshold', '0.8', path('p0-part0.arrow'), path('p1-part0.arrow')])).code).toBe(0);
    writeFileSync(join(state, 'lock'), `${process.pid} 0123456789abcdef\n`);
    const busy = await runCli(['link', 'release', '--state', state]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`another blindlink command (pid ${process.pid}) is changing this linkage state`);
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('close', resolve));
    writeFileSync(join(state, 'lock'), `${gone.pid} 0123456789abcdef\n`);
    expect((await runCli(['link', 'release', '--state', state])).code).toBe(0);
    expect(existsSync(join(state, 'lock'))).toBe(false);
  });

  it('ignores and removes what an interrupted change left, and detects a damaged candidates file', async () => {
    const state = path('state-leftovers');
    expect((await runCli(['link', 'init', '--state', state, '--threshold', '0.8', path('p0-part0.arrow'), path('p1-part0.arrow')])).code).toBe(0);
    const before = json((await runCli(['link', 'release', '--state', state, '--json'])).stdout).count;
    writeFileSync(join(state, 'g000002-party0.arrow'), 'half a batch');
    writeFileSync(join(state, '.manifest.json.0123456789ab.partial'), '{');
    const after = await runCli(['link', 'release', '--state', state, '--json']);
    expect(json(after.stdout).count).toBe(before);
    expect(existsSync(join(state, 'g000002-party0.arrow'))).toBe(false);
    expect(existsSync(join(state, '.manifest.json.0123456789ab.partial'))).toBe(false);
    const candidates = readdirSync(state).find((f) => f.endsWith('party1-candidates.bin')) as string;
    const bytes = readFileSync(join(state, candidates));
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(join(state, candidates), bytes);
    const damaged = await runCli(['link', 'release', '--state', state]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/damaged linkage state/);
  });

  it('a killed `link add` leaves the old state or the new one, and the next add completes it', async () => {
    // Bigger batches so the add runs long enough to be killed at several points.
    const big = randomFilters(6000, BITS, 0.5, seeded(3));
    await write('big-a.arrow', rows(big, 0, 3000), null);
    await write('big-b.arrow', perturbed(rows(big, 0, 3000), 12, seeded(4)), null);
    await write('big-a2.arrow', perturbed(rows(big, 3000, 6000), 6, seeded(5)), null);
    const expected = [];
    for (const delay of [0, 30, 100, 250]) {
      const state = path(`state-kill-${delay}`);
      expect((await runCli(['link', 'init', '--state', state, '--threshold', '0.8', '--names', 'a,b', path('big-a.arrow'), path('big-b.arrow'), '--workers', '1'])).code).toBe(0);
      const child = spawn(process.execPath, [CLI, 'link', 'add', '--state', state, '--party', 'a', path('big-a2.arrow'), '--workers', '1'], { stdio: 'ignore' });
      const closed = new Promise((resolve) => child.once('close', resolve));
      // Kill it a while after it took the lock: inside the change, not during start-up.
      let exited = false;
      void closed.then(() => (exited = true));
      while (!exited && !existsSync(join(state, 'lock'))) await new Promise((resolve) => setTimeout(resolve, 1));
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await closed;
      const status = json((await runCli(['link', 'status', '--state', state, '--json'])).stdout);
      const records = (status.parties as Array<{ records: number }>)[0].records;
      // Old (generation 1, 3,000 records) or new (generation 2, 6,000), never a mixture.
      expect([`1:3000`, `2:6000`]).toContain(`${status.generation}:${records}`);
      if (status.generation === 1) expect((await runCli(['link', 'add', '--state', state, '--party', 'a', path('big-a2.arrow'), '--workers', '1'])).code).toBe(0);
      expected.push(json((await runCli(['link', 'release', '--state', state, '--json'])).stdout).count);
    }
    // Whenever it was killed, the state ends equal to an uninterrupted run.
    expect(new Set(expected).size).toBe(1);
  }, 120_000);
});
