// Quality and cost of deduplication and multi-party linkage. Quality: FEBRL3 dedup (greedy and
// components clustering, best threshold and --threshold auto) and NCVR linkage across 3, 5 and 10
// files (pairwise precision and recall: two records in one group are a predicted link). Cost: wall
// time and peak RSS of `dedup` and of `match` with 5 and 10 files against the two-file `match`
// with the same number of pairs, each a child process under /usr/bin/time.
// Usage: npm run build && node dist/bench/linkage-modes.js [--only febrl3,ncvr3,ncvr5,ncvr10,cost] [--workers N] [--json out.json]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFile } from '../src/encode-file.js';
import { readEncodedFile, writeEncodedFile, type EncodedFile } from '../src/io/encoded-file.js';
import { findCandidates, findSelfCandidates } from '../src/match/candidates.js';
import { clusterDuplicates } from '../src/match/dedup.js';
import { chooseModeThreshold, dedupThresholdProblem } from '../src/match/mode-threshold.js';
import { groupParties, type PartyPairCandidates } from '../src/match/multi-party.js';
import { filterSet } from '../src/match/pair-candidates.js';
import type { Candidates } from '../src/match/tile.js';
import { readSecret, writeNewSecret } from '../src/secret.js';
import { candidateOrder } from '../src/solve/greedy.js';
import { greedyGroups, type Grouping } from '../src/solve/greedy-groups.js';
import { keyboardTypo, ocrVariant, phoneticVariant } from '../src/synth/corrupt.js';
import { Random } from '../src/synth/random.js';
import { synthesize } from '../src/synth/write.js';
import { DEFAULT_CORRUPTION } from '../src/synth/corrupt.js';
import { packagePath } from '../src/worker-path.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const workers = Number(option('--workers') ?? cpus().length);
const only = option('--only')?.split(',');
const want = (name: string): boolean => only === undefined || only.includes(name);
const workDir = option('--work-dir') ?? join(tmpdir(), 'blindlink-linkage-modes');
const jsonOut = option('--json');
const shared = packagePath('../shared/data');
const cli = packagePath('dist/src/cli/main.js');
const f4 = (x: number): string => x.toFixed(4);

async function encoded(csv: string, schema: string, secret: Uint8Array, idColumn: string, trim: boolean): Promise<EncodedFile> {
  const tag = createHash('sha256').update(readFileSync(schema)).update(readFileSync(csv)).digest('hex').slice(0, 16);
  const out = join(workDir, `${tag}.arrow`);
  if (!existsSync(out)) await encodeFile({ schema, secret, input: csv, output: out, workers, idColumn, dialect: { delimiter: ',', trim }, onError: 'fail' });
  return readEncodedFile(out);
}

interface Quality {
  threshold: number;
  predicted: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Pairwise quality of a grouping: a predicted link is two records in one group; `entity` gives each node's truth key. */
function pairwise(grouping: Grouping, entity: ArrayLike<number>, truePairs: number, threshold: number): Quality {
  const sizes = new Map<number, number>();
  const together = new Map<string, number>();
  grouping.groupOf.forEach((g, node) => {
    if (g < 0) return;
    sizes.set(g, (sizes.get(g) ?? 0) + 1);
    const key = `${g}:${entity[node]}`;
    together.set(key, (together.get(key) ?? 0) + 1);
  });
  let predicted = 0;
  for (const s of sizes.values()) predicted += (s * (s - 1)) / 2;
  let tp = 0;
  for (const s of together.values()) tp += (s * (s - 1)) / 2;
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = truePairs === 0 ? 1 : tp / truePairs;
  return { threshold, predicted, truePositives: tp, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

function atOrAbove(c: Candidates, t: number): Candidates {
  const keep: number[] = [];
  for (let k = 0; k < c.length; k++) if (c.score[k] >= t) keep.push(k);
  return { length: keep.length, a: Int32Array.from(keep, (k) => c.a[k]), b: Int32Array.from(keep, (k) => c.b[k]), score: Float64Array.from(keep, (k) => c.score[k]) };
}

/** True pairs among nodes with these entity keys: sum over entities of C(records, 2). */
function truePairCount(entity: ArrayLike<number>): number {
  const count = new Map<number, number>();
  for (let i = 0; i < entity.length; i++) count.set(entity[i], (count.get(entity[i]) ?? 0) + 1);
  let pairs = 0;
  for (const n of count.values()) pairs += (n * (n - 1)) / 2;
  return pairs;
}

function sweepSteps(from: number): number[] {
  const steps: number[] = [];
  for (let s = Math.round(from * 100); s <= 100; s++) steps.push(s / 100);
  return steps;
}

function bestOf(points: Quality[]): Quality {
  return points.reduce((best, p) => (p.f1 >= best.f1 ? p : best));
}

async function febrl3(secret: Uint8Array) {
  const dir = join(shared, 'febrl3');
  if (!existsSync(dir)) return null;
  const file = await encoded(join(dir, 'dataset3.csv'), packagePath('docs/examples/febrl-schema.json'), secret, 'rec_id', true);
  const keys = new Map<string, number>();
  const entity = Int32Array.from(file.ids ?? [], (id) => {
    const key = /^rec-(\d+)-/.exec(id)?.[1] ?? id;
    if (!keys.has(key)) keys.set(key, keys.size);
    return keys.get(key) as number;
  });
  const truePairs = truePairCount(entity);
  const started = performance.now();
  const auto = await chooseModeThreshold([dedupThresholdProblem(filterSet(file))], workers);
  const autoSeconds = (performance.now() - started) / 1000;
  const floor = 0.6;
  const all = await findSelfCandidates(filterSet(file), { threshold: floor, workers, maxCandidates: 60_000_000 });
  const result: Record<string, unknown> = { records: file.count, truePairs, candidatesAtFloor: all.length, auto: { ...auto, seconds: autoSeconds } };
  // The two shipped clusterings, and anonlink's probabilistic variant (merge when half the cross
  // pairs are candidates) for comparison: not offered by the command.
  const methods: Record<string, (c: Candidates) => Grouping> = {
    greedy: (c) => clusterDuplicates(c, file.count, 'greedy'),
    components: (c) => clusterDuplicates(c, file.count, 'components'),
    'greedy, merge fraction 0.5': (c) => greedyGroups(file.count, { a: c.a, b: c.b, order: candidateOrder(c, file.count, file.count) }, { mergeFraction: 0.5 }),
  };
  for (const [method, cluster] of Object.entries(methods)) {
    const sweep = sweepSteps(floor).map((t) => pairwise(cluster(atOrAbove(all, t)), entity, truePairs, t));
    const best = bestOf(sweep);
    const atAuto = pairwise(cluster(atOrAbove(all, auto.threshold)), entity, truePairs, auto.threshold);
    result[method] = { best, auto: atAuto, sweep };
    console.error(`febrl3 ${method}: best F1 ${f4(best.f1)} at ${best.threshold} (P ${f4(best.precision)} R ${f4(best.recall)}); auto ${auto.threshold} (${auto.method}) F1 ${f4(atAuto.f1)}`);
  }
  return result;
}

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(1).map((line) => line.split(','));
}

/**
 * NCVR files for k parties: the three shipped ocp_20 files, then (for k > 3) derived parties
 * built the way the shipped ones were: 3,000 people drawn from the clean (ocp_0) records of all
 * three files plus 2,000 made-up people (given name, surname and place of three different real
 * records), 20% of records corrupted with one or two edits (keyboard, OCR, phonetic).
 */
function ncvrParties(k: number): string[] {
  const dir = join(shared, 'ncvr_multiparty_anonlink');
  const real = [0, 1, 2].map((p) => join(dir, `ncvr_numrec_5000_modrec_2_ocp_20_myp_${p}_nump_10.csv`));
  if (k <= 3) return real.slice(0, k);
  const pool = new Map<number, string[]>();
  for (let p = 0; p < 3; p++) for (const row of csvRows(join(dir, `ncvr_numrec_5000_modrec_2_ocp_0_myp_${p}_nump_10.csv`))) pool.set(Number(row[0]), row);
  const people = [...pool.values()];
  const out = [...real];
  for (let p = 3; p < k; p++) {
    const path = join(workDir, `ncvr-derived-party-${p}.csv`);
    out.push(path);
    if (existsSync(path)) continue;
    const rng = Random.forKey(2026, 12, p);
    const chosen = new Set<number>();
    while (chosen.size < 3000) chosen.add(rng.int(people.length));
    const rows = [...chosen].map((i) => [...people[i]]);
    for (let i = 0; i < 2000; i++) {
      const [g, s, place] = [rng.pick(people), rng.pick(people), rng.pick(people)];
      rows.push([String(90_000_000 + p * 10_000 + i), g[1], s[2], place[3], place[4]]);
    }
    const edits = [keyboardTypo, ocrVariant, phoneticVariant];
    for (const row of rows) {
      if (rng.float() >= 0.2) continue;
      for (let e = 1 + rng.int(2); e > 0; e--) {
        const field = 1 + rng.int(4);
        const before = row[field];
        row[field] = rng.pick(edits)(before, rng);
        if (row[field] === before) row[field] = keyboardTypo(before, rng);
      }
    }
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    writeFileSync(path, `recid,givenname,surname,suburb,postcode\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  }
  return out;
}

async function ncvr(k: number, secret: Uint8Array) {
  if (!existsSync(join(shared, 'ncvr_multiparty_anonlink'))) return null;
  const files = await Promise.all(ncvrParties(k).map((csv) => encoded(csv, packagePath('docs/examples/ncvr-schema.json'), secret, 'recid', false)));
  const entity = Int32Array.from(files.flatMap((f) => (f.ids ?? []).map(Number)));
  const truePairs = truePairCount(entity);
  const pairs: Array<[number, number]> = [];
  for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) pairs.push([p, q]);
  const started = performance.now();
  const auto = await chooseModeThreshold(pairs.map(([p, q]) => [filterSet(files[p]), filterSet(files[q])]), workers, (i) => `${pairs[i][0]}-${pairs[i][1]}`);
  const autoSeconds = (performance.now() - started) / 1000;
  const floor = 0.75;
  const parts: PartyPairCandidates[] = [];
  for (const [p, q] of pairs) parts.push({ p, q, candidates: await findCandidates(filterSet(files[p]), filterSet(files[q]), { threshold: floor, workers }) });
  const counts = files.map((f) => f.count);
  const at = (t: number): Quality => pairwise(groupParties(counts, parts.map((part) => ({ ...part, candidates: atOrAbove(part.candidates, t) }))).grouping, entity, truePairs, t);
  const sweep = sweepSteps(floor).map(at);
  const best = bestOf(sweep);
  const atAuto = at(auto.threshold);
  console.error(`ncvr ${k} parties: best F1 ${f4(best.f1)} at ${best.threshold} (P ${f4(best.precision)} R ${f4(best.recall)}); auto ${auto.threshold} P ${f4(atAuto.precision)} R ${f4(atAuto.recall)} F1 ${f4(atAuto.f1)}`);
  return { parties: k, records: counts.reduce((n, c) => n + c, 0), truePairs, best, auto: { ...atAuto, seconds: autoSeconds }, sweep };
}

/** `node args` under /usr/bin/time: wall seconds, peak RSS in MiB, the JSON it printed, and the load average before. */
function timed(args: string[]): { seconds: number; rssMiB: number; report: Record<string, unknown>; load: string } {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const run = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
  const [seconds, kib] = run.stderr.trim().split('\n').at(-1)?.split(' ').map(Number) ?? [NaN, NaN];
  return { seconds, rssMiB: kib / 1024, report: JSON.parse(run.stdout) as Record<string, unknown>, load };
}

/** Rows [from, to) of an encoded file, written as its own file (same metadata). */
async function slice(file: EncodedFile, from: number, to: number, name: string): Promise<string> {
  const path = join(workDir, name);
  if (existsSync(path)) return path;
  const bytes = file.filterBits / 8;
  const metadata = file.metadata;
  if (metadata === null) throw new Error('slices need metadata');
  await writeEncodedFile(path, {
    clks: file.clks.slice(from * bytes, to * bytes),
    popcounts: file.popcounts.slice(from, to),
    ids: null,
    filterBits: file.filterBits,
    metadata: { ...metadata, recordCount: to - from },
  });
  return path;
}

async function cost(secret: Uint8Array) {
  // Synthetic taxpayers, encoded with the taxpayer schema (balanced 2048-bit filters): the rows
  // are cut into files so that every run compares the same number of pairs, about 1e9 (2e8 for dedup).
  const dir = join(workDir, 'synth-cost');
  if (!existsSync(join(dir, 'registry.csv'))) {
    mkdirSync(dir, { recursive: true });
    await synthesize({ registry: 71_000, requests: 10, overlap: 0.5, seed: 12, outDir: dir, rates: DEFAULT_CORRUPTION, namesakeRate: 0.1, relativeRate: 0.1 });
  }
  const file = await encoded(join(dir, 'registry.csv'), packagePath('docs/examples/taxpayer-schema.json'), secret, 'record_id', false);
  const t = ['--threshold', '0.8', '--workers', String(workers), '--json', '--blocking', 'none'];
  const runs: Record<string, unknown>[] = [];
  const record = (name: string, pairs: number, args: string[]): void => {
    const r = timed(args);
    const blocking = r.report.blocking as { pairsCompared: number } | undefined;
    runs.push({ name, pairs, seconds: r.seconds, rssMiB: Math.round(r.rssMiB), pairsPerSecond: pairs / r.seconds, count: r.report.count ?? '', compared: blocking?.pairsCompared, load: r.load });
    console.error(`${name}: ${r.seconds} s, ${Math.round(r.rssMiB)} MiB, ${(pairs / r.seconds / 1e6).toFixed(1)} M pairs/s, count ${String(r.report.count ?? '-')}, load ${r.load}`);
  };
  // 2e8 pairs: dedup of 20,000 records against a 20,000 x 10,000 match.
  record('two-party 20,000 x 10,000', 2e8, ['match', await slice(file, 0, 20_000, 'a20k.arrow'), await slice(file, 20_000, 30_000, 'b10k.arrow'), ...t]);
  record('dedup 20,000', (20_000 * 19_999) / 2, ['dedup', await slice(file, 0, 20_000, 'a20k.arrow'), ...t]);
  // 1e9 pairs: 20,000 x 50,000, five files of 10,000 (10 pairs of 1e8), ten files of 4,714 (45 pairs of 2.2e7).
  record('two-party 20,000 x 50,000', 1e9, ['match', await slice(file, 0, 20_000, 'a20k.arrow'), await slice(file, 20_000, 70_000, 'b50k.arrow'), ...t]);
  const five = [];
  for (let p = 0; p < 5; p++) five.push(await slice(file, p * 10_000, (p + 1) * 10_000, `five-${p}.arrow`));
  record('5 files of 10,000', 10 * 1e8, ['match', ...five, ...t]);
  const ten = [];
  for (let p = 0; p < 10; p++) ten.push(await slice(file, p * 4_714, (p + 1) * 4_714, `ten-${p}.arrow`));
  record('10 files of 4,714', 45 * 4_714 * 4_714, ['match', ...ten, ...t]);
  // Incremental: a state holding 20,000 x 50,000, then a batch of 1,000 new records for the first
  // party (5e7 pairs) instead of a full re-match of 21,000 x 50,000.
  const state = join(workDir, 'link-state');
  rmSync(state, { recursive: true, force: true });
  const link = ['--workers', String(workers), '--json'];
  record('link init 20,000 x 50,000', 1e9, ['link', 'init', '--state', state, '--threshold', '0.8', '--names', 'a,b', await slice(file, 0, 20_000, 'a20k.arrow'), await slice(file, 20_000, 70_000, 'b50k.arrow'), ...link]);
  record('link add 1,000 to a', 1_000 * 50_000, ['link', 'add', '--state', state, '--party', 'a', await slice(file, 70_000, 71_000, 'a1k-batch.arrow'), ...link]);
  record('link release', 0, ['link', 'release', '--state', state, '--json']);
  return runs;
}

mkdirSync(workDir, { recursive: true });
const secretPath = join(workDir, 'secret.key');
if (!existsSync(secretPath)) await writeNewSecret(secretPath);
const secret = await readSecret(secretPath);
console.log(`# bench/linkage-modes: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${workers} workers, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const results: Record<string, unknown> = {};
if (want('febrl3')) results.febrl3 = await febrl3(secret);
for (const k of [3, 5, 10]) if (want(`ncvr${k}`)) results[`ncvr${k}`] = await ncvr(k, secret);
if (want('cost')) results.cost = await cost(secret);
const summary = (q: Quality): string => `${q.threshold.toFixed(2)} | ${f4(q.precision)} | ${f4(q.recall)} | ${f4(q.f1)}`;
const febrl = results.febrl3 as Record<string, { best: Quality; auto: Quality; sweep: Quality[] }> | null | undefined;
if (febrl) {
  const methods = ['greedy', 'components', 'greedy, merge fraction 0.5'];
  console.log('\n| FEBRL3 dedup | best t | precision | recall | F1 | auto t | precision | recall | F1 |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const m of methods) console.log(`| ${m} | ${summary(febrl[m].best)} | ${summary(febrl[m].auto)} |`);
  console.log(`\nF1 by threshold:\n\n| t | ${methods.join(' | ')} |\n| --- |${methods.map(() => ' --- |').join('')}`);
  febrl.greedy.sweep.forEach((p, i) => {
    if (Math.round(p.threshold * 100) % 2 === 0) console.log(`| ${p.threshold.toFixed(2)} | ${methods.map((m) => `${f4(febrl[m].sweep[i].precision)} / ${f4(febrl[m].sweep[i].recall)} / ${f4(febrl[m].sweep[i].f1)}`).join(' | ')} |`);
  });
}
const ncvrRows = [3, 5, 10].map((k) => results[`ncvr${k}`] as { parties: number; records: number; truePairs: number; best: Quality; auto: Quality } | null | undefined).filter((r) => r);
if (ncvrRows.length > 0) {
  console.log('\n| NCVR parties | records | true pairs | best t | precision | recall | F1 | auto t | precision | recall | F1 |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of ncvrRows) if (r) console.log(`| ${r.parties} | ${r.records.toLocaleString('en-US')} | ${r.truePairs.toLocaleString('en-US')} | ${summary(r.best)} | ${summary(r.auto)} |`);
}
const costRows = results.cost as Array<Record<string, number | string>> | undefined;
if (costRows) {
  console.log('\n| run | pairs | wall s | peak RSS MiB | M pairs/s | count | load before |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of costRows) console.log(`| ${r.name} | ${Number(r.pairs).toExponential(2)} | ${r.seconds} | ${r.rssMiB} | ${Number(r.pairs) > 0 ? (Number(r.pairsPerSecond) / 1e6).toFixed(1) : '-'} | ${r.count} | ${r.load} |`);
}
if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
