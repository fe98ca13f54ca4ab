// The policy lab: the differencing attack's arithmetic on populations with known answers, the
// usage errors, one real run's JSON (shape and the invariants between alternatives) and its HTML
// report, opened in headless Chromium and checked by screenshot.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { countAttack, recordAttack } from '../src/policy-lab/differencing.js';
import { parseEpsilons, resolveOptions } from '../src/policy-lab/options.js';
import { seededRandom } from '../src/random.js';
import { countColour, decodePng } from './helpers/png.js';
import { runCli, scratchDir } from './helpers/run-cli.js';

describe('differencing attack', () => {
  // 200 requests: rows 0-99 members; the mechanism counts members 0-79 and non-members 100-109.
  const keys = Int32Array.from({ length: 200 }, (_, row) => (row < 80 || (row >= 100 && row < 110) ? row : -1));
  const setup = (trials: number, seed: number) => ({
    members: Int32Array.from({ length: 100 }, (_, i) => i),
    nonMembers: Int32Array.from({ length: 100 }, (_, i) => 100 + i),
    rows: 200,
    listSize: 50,
    trials,
    random: seededRandom(seed),
  });

  it('an exact count gives away what a flag does: TPR - FPR of the mechanism itself', () => {
    const exact = countAttack(setup(4000, 1), keys, null, 1000);
    const flags = recordAttack(setup(4000, 2), keys);
    for (const attack of [exact, flags]) {
      expect(attack.truePositiveRate).toBeGreaterThan(0.77);
      expect(attack.truePositiveRate).toBeLessThan(0.83);
      expect(attack.falsePositiveRate).toBeGreaterThan(0.08);
      expect(attack.falsePositiveRate).toBeLessThan(0.12);
    }
    expect(exact.queriesPerTarget).toBe(2);
    expect(flags.queriesPerTarget).toBe(1);
  });

  it('noise caps the advantage by what epsilon-differential privacy allows for two queries', () => {
    for (const epsilon of [0.1, 0.5, 1]) {
      const attack = countAttack(setup(6000, 3), keys, epsilon, 1000);
      // Only the second answer depends on the target, and it is epsilon-DP: TPR <= e^epsilon FPR
      // and 1 - FPR <= e^epsilon (1 - TPR) for any rule, so TPR - FPR <= tanh(epsilon / 2).
      expect(attack.advantage).toBeLessThanOrEqual(Math.tanh(epsilon / 2) + 0.03);
      expect(attack.advantage).toBeGreaterThan(0);
    }
    expect(countAttack(setup(6000, 4), keys, 2, 1000).advantage).toBeGreaterThan(countAttack(setup(6000, 5), keys, 0.1, 1000).advantage);
  });
});

describe('policy-lab options', () => {
  const flags = { scale: 100, overlap: 0.037, seed: 1, epsilons: [0.5], trials: 1000, threshold: 0.8, workers: 1 };
  it('scales the case down and lets explicit sizes win', () => {
    expect(resolveOptions(flags)).toMatchObject({ registry: 100_000, requests: 12_800 });
    expect(resolveOptions({ ...flags, registry: 5000, requests: 1000 })).toMatchObject({ registry: 5000, requests: 1000 });
  });
  it.each([
    [{ registry: 500, requests: 1000 }, /--registry 500 is smaller than --requests 1000/],
    [{ requests: 300 }, /give 11 members and 289 non-members; each needs at least 20/],
    [{ scale: 0.5 }, /--scale must be a number >= 1/],
    [{ trials: 10 }, /--trials must be an integer >= 100/],
  ])('refuses %j', (change, message) => {
    expect(() => resolveOptions({ ...flags, ...change })).toThrow(message);
  });
  it('reads epsilons and refuses any outside (0, 10]', () => {
    expect(parseEpsilons('1, 0.5,0.5')).toEqual([0.5, 1]);
    for (const bad of ['0', '-1', '11', 'x', '0.5,,1']) expect(() => parseEpsilons(bad)).toThrow(/each epsilon must be a number in \(0, 10\]/);
  });
});

describe('blindlink policy-lab', () => {
  it.each([
    [['--epsilons', '0.5,20'], /each epsilon must be a number in \(0, 10\], got "20"/],
    [['--registry', '1000', '--requests', '2000'], /smaller than --requests/],
    [['--requests', '100', '--registry', '1000'], /each needs at least 20/],
  ])('exits 2 for %j', async (args, message) => {
    const result = await runCli(['policy-lab', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  const dir = scratchDir('blindlink-lab-');
  let report: { trueOverlap: number; alternatives: Array<Record<string, unknown> & { name: string; countError: number | null; count: number | null; membershipAttack: { advantage: number } | null }> };
  beforeAll(async () => {
    const result = await runCli(['policy-lab', '--registry', '4000', '--requests', '1500', '--overlap', '0.05', '--epsilons', '0.1,1', '--trials', '400', '--workers', '2', '--json', '--report', join(dir, 'lab')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    report = JSON.parse(result.stdout) as typeof report;
  }, 240_000);

  it('prints exactly {trueOverlap, alternatives} with every alternative', () => {
    expect(Object.keys(report)).toEqual(['trueOverlap', 'alternatives']);
    expect(report.trueOverlap).toBe(75);
    expect(report.alternatives.map((a) => a.name)).toEqual(['plaintext-addresses', 'match-flags', 'matched-pairs', 'count', 'noisy-count epsilon=0.1', 'noisy-count epsilon=1', 'overlap-estimate', 'psi-cardinality']);
    for (const a of report.alternatives) {
      expect(a).toHaveProperty('reveals');
      expect(typeof a.seconds).toBe('number');
      expect(typeof a.bytes).toBe('number');
      if (a.count !== null) expect(a.countError).toBe(a.count - report.trueOverlap);
    }
  });

  it('keeps the relations the alternatives must have', () => {
    const byName = new Map(report.alternatives.map((a) => [a.name, a]));
    const count = byName.get('count')!;
    for (const name of ['plaintext-addresses', 'match-flags', 'matched-pairs']) expect(byName.get(name)!.count).toBe(count.count);
    expect(byName.get('match-flags')!.recordsDisclosed).toBe(1500);
    expect(count.recordsDisclosed).toBe(0);
    // The score model's estimate, with an interval around it, from the same encodings.
    const estimate = byName.get('overlap-estimate')! as unknown as { available: boolean; count: number | null; countError: number | null; interval?: { low: number; high: number } };
    expect(estimate.available).toBe(true);
    expect(estimate.countError).toBe(estimate.count! - report.trueOverlap);
    expect(estimate.interval!.low).toBeLessThanOrEqual(estimate.count!);
    expect(estimate.interval!.high).toBeGreaterThanOrEqual(estimate.count!);
    // Exact tokens miss corrupted copies, so PSI undercounts; the fuzzy count is closer.
    const psi = byName.get('psi-cardinality')!;
    expect(psi.countError!).toBeLessThan(0);
    expect(Math.abs(count.countError!)).toBeLessThan(Math.abs(psi.countError!));
    // A strong noise hides one person far better than a weak one, and the exact count hides nothing.
    expect(byName.get('noisy-count epsilon=0.1')!.membershipAttack!.advantage).toBeLessThan(0.2);
    expect(count.membershipAttack!.advantage).toBeGreaterThan(0.7);
    expect((byName.get('noisy-count epsilon=0.1')!.meanAbsoluteError as number)).toBeGreaterThan(byName.get('noisy-count epsilon=1')!.meanAbsoluteError as number);
  });

  it('writes a self-contained report: no script, no external reference, two SVG plots', () => {
    const html = readFileSync(join(dir, 'lab', 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|@import|src=|href=|url\(/i);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('Count error against epsilon');
    expect(html).toContain('Disclosure against accuracy');
    expect(JSON.parse(readFileSync(join(dir, 'lab', 'report.json'), 'utf8'))).toEqual(report);
  });

  // Chromium comes from Debian's package (.ci/install-chromium, run by .ci/run); CI must have it.
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
  const inCi = process.env.CI === 'true' || process.env.CI === '1';
  if (chromium === undefined && !inCi) console.warn('skipping the headless Chromium report check: no /usr/bin/chromium (install it with .ci/install-chromium)');
  it.skipIf(chromium === undefined && !inCi)('renders in headless Chromium with both plots drawn', async () => {
    if (chromium === undefined) throw new Error('CI=true but Chromium is missing: .ci/run installs it with .ci/install-chromium');
    const shot = join(dir, 'shot.png');
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'chromium')}`, '--window-size=1400,1700', `--screenshot=${shot}`, `file://${join(dir, 'lab', 'index.html')}`];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(chromium, args, { stdio: 'ignore', timeout: 90_000 });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).toBe(0);
    const image = decodePng(readFileSync(shot));
    expect(image.width).toBe(1400);
    // Non-blank, and the plots' own colours are there: the noisy-count curve (blue), the exact
    // alternatives' lines and points (green, red).
    expect(countColour(image, '#ffffff', 4)).toBeLessThan(image.width * image.height * 0.97);
    expect(countColour(image, '#1f77b4')).toBeGreaterThan(400);
    expect(countColour(image, '#2ca02c')).toBeGreaterThan(100);
    expect(countColour(image, '#d62728')).toBeGreaterThan(100);
  }, 120_000);
});
