// Scale benchmark (issue 5): synth a registry and requests, encode both with the CLI, match them
// count-only with the CLI (blocking auto, which is Hamming LSH at this size), check blocked against
// all-pairs on a subsample, and optionally time blocked matching on registry prefixes (--sizes) for
// the cost model in docs/SCALING.md.
// Run: npm run build && node dist/bench/scale.js [--registry 10000000] [--requests 1280000] [--dir D]
//        [--phase all|synth|encode|match|subsample|sizes|signature|plans] [--sizes 1000000,3000000]
//        [--signature-threshold 0.8]
// `--phase signature` (never part of all) encodes both sides again with the signature-blocking
// example schema and matches them with --blocking signature, for comparison with LSH; `--phase
// plans` prints the LSH plan per threshold for the encoded files.
// Each phase runs as a child under /usr/bin/time, so its wall time and peak RSS are its own.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockedCandidates } from '../src/blocking/blocked-candidates.js';
import { lshPlanFor } from '../src/blocking/lsh-plan.js';
import { readEncodedFile } from '../src/io/encoded-file.js';
import { findCandidates } from '../src/match/candidates.js';
import type { FilterSet } from '../src/match/shared-filters.js';
import { greedySolve } from '../src/solve/greedy.js';
import { packagePath } from '../src/worker-path.js';

interface Flags {
  registry: number;
  requests: number;
  overlap: number;
  threshold: number;
  workers: number;
  dir: string;
  /** Registry prefixes to match at, for the cost model (the full size is always matched). */
  sizes: number[];
  subsampleRegistry: number;
  subsampleRequests: number;
  signatureThreshold: number;
  phase: string;
}

function parseFlags(argv: string[]): Flags {
  const get = (name: string, fallback: string): string => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 && at + 1 < argv.length ? argv[at + 1] : fallback;
  };
  return {
    registry: Number(get('registry', '10000000')),
    requests: Number(get('requests', '1280000')),
    overlap: Number(get('overlap', '0.037')),
    threshold: Number(get('threshold', '0.85')),
    workers: Number(get('workers', '2')),
    dir: get('dir', '/tmp/blindlink-scale'),
    sizes: get('sizes', '').split(',').filter((s) => s !== '').map(Number),
    subsampleRegistry: Number(get('subsample-registry', '1000000')),
    subsampleRequests: Number(get('subsample-requests', '100000')),
    signatureThreshold: Number(get('signature-threshold', '0.8')),
    phase: get('phase', 'all'),
  };
}

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const maxRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

/** Runs `node args` under /usr/bin/time: its wall seconds, peak RSS (MiB), stdout, and the load before. */
function run(args: string[]): { seconds: number; rssMiB: number; stdout: string; load: string } {
  const before = load();
  const file = join(flags.dir, `time-${Date.now()}.txt`);
  const stdout = execFileSync('/usr/bin/time', ['-o', file, '-f', '%e %M', 'node', ...args], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const [seconds, kib] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return { seconds, rssMiB: kib / 1024, stdout, load: before };
}

const flags = parseFlags(process.argv.slice(2));
const cli = packagePath('dist/src/cli/main.js');
const self = fileURLToPath(import.meta.url);

function prefix(file: { filterBits: number; count: number; clks: Uint8Array }, rows: number): FilterSet {
  const count = Math.min(rows, file.count);
  return { filterBits: file.filterBits, count, clks: file.clks.subarray(0, (count * file.filterBits) / 8) };
}

/** Child phase: blocked count-only match of the requests against registry prefixes (cost model). */
async function sizesPhase(): Promise<void> {
  const started = Date.now();
  const requests = await readEncodedFile(join(flags.dir, 'requests.arrow'), { shared: true });
  const registry = await readEncodedFile(join(flags.dir, 'registry.arrow'), { shared: true });
  const readSeconds = (Date.now() - started) / 1000;
  const rows = [];
  for (const size of flags.sizes.filter((s) => s <= registry.count)) {
    const loadBefore = load();
    const t0 = Date.now();
    const found = await blockedCandidates(requests, prefix(registry, size), { threshold: flags.threshold, workers: flags.workers });
    const blockSeconds = (Date.now() - t0) / 1000;
    const matched = greedySolve(found, requests.count, size).length;
    rows.push({
      registry: size,
      requests: requests.count,
      seconds: (Date.now() - t0) / 1000,
      blockSeconds,
      candidates: found.length,
      count: matched,
      pairsCompared: found.pairsCompared,
      collisions: found.collisions,
      reductionRatio: found.reductionRatio,
      tables: found.plan.tables,
      bitsPerTable: found.plan.bitsPerTable,
      predictedCompleteness: found.plan.predictedCompleteness,
      load: loadBefore,
      rssMiB: maxRssMiB(),
    });
    process.stderr.write(`match ${JSON.stringify(rows[rows.length - 1])}\n`);
  }
  process.stdout.write(JSON.stringify({ readSeconds, rows }) + '\n');
}

/** Phase `plans`: the LSH plan (K, L, predicted chance collisions) the matcher would pick per threshold. */
async function plansPhase(): Promise<void> {
  const requests = await readEncodedFile(join(flags.dir, 'requests.arrow'), { shared: true });
  const registry = await readEncodedFile(join(flags.dir, 'registry.arrow'), { shared: true });
  const rows = [0.75, 0.8, 0.82, 0.85, 0.9, 0.95].map((threshold) => {
    const plan = lshPlanFor(requests, registry, { threshold });
    return { threshold, bitsPerTable: plan.bitsPerTable, tables: plan.tables, collisionsPerProbe: plan.predictedCollisionsPerProbe, predictedCompleteness: plan.predictedCompleteness };
  });
  process.stdout.write(JSON.stringify({ plans: rows }, null, 2) + '\n');
}

/** Child phase: blocked against all-pairs on a registry × requests subsample. */
async function subsamplePhase(): Promise<void> {
  const requests = prefix(await readEncodedFile(join(flags.dir, 'requests.arrow'), { shared: true }), flags.subsampleRequests);
  const registry = prefix(await readEncodedFile(join(flags.dir, 'registry.arrow'), { shared: true }), flags.subsampleRegistry);
  const loadBefore = load();
  let t0 = Date.now();
  const all = await findCandidates(requests, registry, { threshold: flags.threshold, workers: flags.workers, maxCandidates: 100_000_000 });
  const allSeconds = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const blocked = await blockedCandidates(requests, registry, { threshold: flags.threshold, workers: flags.workers });
  const blockedSeconds = (Date.now() - t0) / 1000;
  const key = (c: { a: Int32Array; b: Int32Array }, i: number): number => c.a[i] * registry.count + c.b[i];
  const truth = new Set<number>();
  for (let i = 0; i < all.length; i++) truth.add(key(all, i));
  let kept = 0;
  for (let i = 0; i < blocked.length; i++) if (truth.has(key(blocked, i))) kept++;
  const allCount = greedySolve(all, requests.count, registry.count).length;
  const blockedCount = greedySolve(blocked, requests.count, registry.count).length;
  process.stdout.write(JSON.stringify({
    registry: registry.count,
    requests: requests.count,
    allPairsCandidates: all.length,
    blockedCandidates: blocked.length,
    pairsCompleteness: all.length === 0 ? 1 : kept / all.length,
    allPairsCount: allCount,
    blockedCount,
    countDifference: allCount === 0 ? 0 : (blockedCount - allCount) / allCount,
    allSeconds,
    blockedSeconds,
    reductionRatio: blocked.reductionRatio,
    load: loadBefore,
    rssMiB: maxRssMiB(),
  }) + '\n');
}

async function main(): Promise<void> {
  if (flags.phase === 'sizes-child') return sizesPhase();
  if (flags.phase === 'plans') return plansPhase();
  if (flags.phase === 'subsample-child') return subsamplePhase();
  mkdirSync(flags.dir, { recursive: true });
  const report: Record<string, unknown> = { flags, startLoad: load() };
  const secret = join(flags.dir, 'secret.key');
  if (!existsSync(secret)) execFileSync('node', [cli, 'keygen', '--out', secret]);
  const schema = packagePath('docs/examples/taxpayer-schema.json');
  const step = (name: string, args: string[]): void => {
    const result = run(args);
    report[name] = { seconds: result.seconds, rssMiB: Math.round(result.rssMiB), load: result.load };
    process.stderr.write(`${name}: ${result.seconds} s, ${Math.round(result.rssMiB)} MiB peak RSS, load ${result.load}\n`);
    const last = result.stdout.trim().split('\n').pop() ?? '';
    if (last.startsWith('{')) report[`${name}Detail`] = JSON.parse(last);
  };
  const wants = (phase: string): boolean => flags.phase === 'all' || flags.phase === phase;
  // Children of this script get every flag but --phase.
  const childArgs = (phase: string): string[] => [self, ...process.argv.slice(2).filter((a, i, all) => a !== '--phase' && all[i - 1] !== '--phase'), '--phase', phase];
  if (wants('synth')) {
    step('synth', [cli, 'synth', '--registry', String(flags.registry), '--requests', String(flags.requests), '--overlap', String(flags.overlap), '--seed', '5', '--out-dir', flags.dir]);
  }
  if (wants('encode')) {
    for (const name of ['registry', 'requests']) {
      step(`encode-${name}`, [cli, 'encode', '--schema', schema, '--secret-file', secret, '--in', join(flags.dir, `${name}.csv`), '--out', join(flags.dir, `${name}.arrow`), '--workers', String(flags.workers)]);
    }
  }
  if (wants('match')) {
    // Exactly what a linkage unit runs: the CLI, count-only release, blocking chosen by size.
    step('match', [cli, 'match', join(flags.dir, 'requests.arrow'), join(flags.dir, 'registry.arrow'), '--threshold', String(flags.threshold), '--workers', String(flags.workers), '--json']);
  }
  if (wants('subsample')) step('subsample', childArgs('subsample-child'));
  if (flags.sizes.length > 0 && (flags.phase === 'all' || flags.phase === 'sizes')) step('sizes', childArgs('sizes-child'));
  if (flags.phase === 'signature') {
    const signatureSchema = packagePath('docs/examples/taxpayer-signature-schema.json');
    for (const name of ['registry', 'requests']) {
      step(`encode-signature-${name}`, [cli, 'encode', '--schema', signatureSchema, '--secret-file', secret, '--in', join(flags.dir, `${name}.csv`), '--out', join(flags.dir, `${name}-signature.arrow`), '--workers', String(flags.workers)]);
    }
    step('match-signature', [cli, 'match', join(flags.dir, 'requests-signature.arrow'), join(flags.dir, 'registry-signature.arrow'), '--threshold', String(flags.signatureThreshold), '--blocking', 'signature', '--workers', String(flags.workers), '--json']);
  }
  // The true overlap, to set each released count against.
  report.trueLinks = readFileSync(join(flags.dir, 'truth.csv'), 'utf8').trim().split('\n').length - 1;
  const seconds = (name: string): number => (report[name] as { seconds?: number } | undefined)?.seconds ?? Number.NaN;
  report.encodePlusMatchSeconds = seconds('encode-registry') + seconds('encode-requests') + seconds('match');
  report.endLoad = load();
  const out = join(flags.dir, `scale-${Date.now()}.json`);
  writeFileSync(out, JSON.stringify(report, null, 2));
  process.stdout.write(JSON.stringify(report, null, 2) + `\nwritten to ${out}\n`);
}

await main();
