// The automatic threshold and the overlap estimate against the truth (docs/QUALITY.md).
//   --suite quality (default): FEBRL4 (native and clkhash blake schemas), the three NCVR ocp_20
//     party pairs (both skipped without ../shared) and a synthetic grid of sizes, overlaps and
//     corruption: auto F1 against the best fixed threshold, the estimate against the truth.
//   --suite coverage: --runs N (default 20) seeded synthetic runs of varied size, overlap and
//     corruption: the estimate's error and whether its 95% interval covers the truth.
// Usage: npm run build && node dist/bench/quality.js [--suite quality|coverage] [--only a,b] [--runs N]
//   [--workers N] [--work-dir DIR] [--schema name=file] [--json out.json]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFile } from '../src/encode-file.js';
import { readTruth } from '../src/evaluate/read.js';
import { readEncodedFile, type EncodedFile } from '../src/io/encoded-file.js';
import { chooseBlocking } from '../src/blocking/blocked-candidates.js';
import { chooseThreshold, type ThresholdChoice } from '../src/match/auto-threshold.js';
import { autoWithLsh } from '../src/match/auto-lsh.js';
import type { Candidates } from '../src/match/tile.js';
import type { FilterSet } from '../src/match/shared-filters.js';
import { readSecret, writeNewSecret } from '../src/secret.js';
import { greedySolve, type Matching } from '../src/solve/greedy.js';
import { DEFAULT_CORRUPTION, scaleRates } from '../src/synth/corrupt.js';
import { synthesize } from '../src/synth/write.js';
import { packagePath } from '../src/worker-path.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function options(name: string): string[] {
  return process.argv.flatMap((arg, i) => (arg === name && i + 1 < process.argv.length ? [process.argv[i + 1]] : []));
}

const workers = Number(option('--workers') ?? cpus().length);
const only = option('--only')?.split(',');
const workDir = option('--work-dir') ?? join(tmpdir(), 'blindlink-quality');
const jsonOut = option('--json');
const schemaOverride = new Map(options('--schema').map((s) => s.split('=') as [string, string]));
const suite = option('--suite') ?? 'quality';
const runs = Number(option('--runs') ?? 20);
const shared = packagePath('../shared/data');

interface Side {
  csv: string;
  idColumn?: string;
  trim: boolean;
}

interface Dataset {
  name: string;
  schema: string;
  a: Side;
  b: Side;
  /** For each A row, its true B row or -1. */
  truth: (a: EncodedFile, b: EncodedFile) => Promise<Int32Array>;
}

/** Truth from ids: rows whose ids map to the same key are the same person. */
function truthByIds(key: (id: string) => string) {
  return async (a: EncodedFile, b: EncodedFile): Promise<Int32Array> => {
    const rowOf = new Map<string, number>();
    (b.ids ?? []).forEach((id, row) => rowOf.set(key(id), row));
    return Int32Array.from(a.ids ?? [], (id) => rowOf.get(key(id)) ?? -1);
  };
}

function schemaFor(name: string, fallback: string): string {
  return schemaOverride.get(name) ?? packagePath(`docs/examples/${fallback}`);
}

interface SynthSpec {
  registry: number;
  requests: number;
  overlap: number;
  /** Multiplier on the default corruption rates: 0.5 light, 2 heavy. */
  corruption: number;
  seed: number;
}

async function synthetic(name: string, spec: SynthSpec): Promise<Dataset> {
  const dir = join(workDir, `synth-${spec.registry}-${spec.requests}-${spec.overlap}-${spec.corruption}-${spec.seed}`);
  if (!existsSync(join(dir, 'truth.csv'))) {
    mkdirSync(dir, { recursive: true });
    // The demo's namesakes and relatives (10% each) make the chance scores realistic.
    await synthesize({ registry: spec.registry, requests: spec.requests, overlap: spec.overlap, seed: spec.seed, outDir: dir, rates: scaleRates(DEFAULT_CORRUPTION, spec.corruption), namesakeRate: 0.1, relativeRate: 0.1 });
  }
  return {
    name,
    schema: schemaFor('taxpayer', 'taxpayer-schema.json'),
    a: { csv: join(dir, 'requests.csv'), trim: false },
    b: { csv: join(dir, 'registry.csv'), trim: false },
    truth: async (a) => {
      const truth = await readTruth(join(dir, 'truth.csv'));
      const out = new Int32Array(a.count).fill(-1);
      for (const key of truth) {
        const [request, registry] = key.split(':').map(Number);
        out[request] = registry;
      }
      return out;
    },
  };
}

/** The quality grid: sizes from 10k, overlaps from 1% to 95%, light and heavy corruption. */
const GRID: Array<[string, SynthSpec]> = [
  ['synth-10k-1k-o0.5-light', { registry: 10_000, requests: 1_000, overlap: 0.5, corruption: 0.5, seed: 11 }],
  ['synth-10k-10k-o0.95-heavy', { registry: 10_000, requests: 10_000, overlap: 0.95, corruption: 2, seed: 12 }],
  ['synth-100k-10k-o0.01-light', { registry: 100_000, requests: 10_000, overlap: 0.01, corruption: 0.5, seed: 13 }],
  ['synth-100k-10k-o0.01-heavy', { registry: 100_000, requests: 10_000, overlap: 0.01, corruption: 2, seed: 14 }],
  ['synth-200k-20k-o0.037-light', { registry: 200_000, requests: 20_000, overlap: 0.037, corruption: 0.5, seed: 1 }],
  ['synth-200k-20k-o0.037-heavy', { registry: 200_000, requests: 20_000, overlap: 0.037, corruption: 2, seed: 1 }],
  ['synth-100k-50k-o0.5-heavy', { registry: 100_000, requests: 50_000, overlap: 0.5, corruption: 2, seed: 15 }],
  ['synth-1m-50k-o0.2-light', { registry: 1_000_000, requests: 50_000, overlap: 0.2, corruption: 0.5, seed: 16 }],
  ['synth-1m-100k-o0.037-heavy', { registry: 1_000_000, requests: 100_000, overlap: 0.037, corruption: 2, seed: 17 }],
];

/** The coverage runs: sizes, overlaps and corruption drawn from a seeded sequence, run r from seed 100 + r. */
function coverageSpecs(count: number): Array<[string, SynthSpec]> {
  const sizes: Array<[number, number]> = [[20_000, 2_000], [50_000, 10_000], [100_000, 10_000], [200_000, 20_000], [300_000, 50_000]];
  const overlaps = [0.01, 0.037, 0.1, 0.3, 0.6, 0.95];
  const corruptions = [0.5, 1, 2];
  return Array.from({ length: count }, (_, r) => {
    const [registry, requests] = sizes[r % sizes.length];
    const overlap = overlaps[(r * 7 + 3) % overlaps.length];
    const corruption = corruptions[(r * 5 + 1) % corruptions.length];
    return [`run-${r}`, { registry, requests, overlap, corruption, seed: 100 + r }];
  });
}

async function datasets(): Promise<Dataset[]> {
  const list: Dataset[] = [];
  const want = (name: string): boolean => only === undefined || only.some((o) => name.startsWith(o));
  const febrl = join(shared, 'febrl4');
  if ((want('febrl4') || want('febrl4-blake')) && existsSync(febrl)) {
    list.push({
      name: 'febrl4',
      schema: schemaFor('febrl', 'febrl-schema.json'),
      a: { csv: join(febrl, 'dataset4a.csv'), idColumn: 'rec_id', trim: true },
      b: { csv: join(febrl, 'dataset4b.csv'), idColumn: 'rec_id', trim: true },
      truth: truthByIds((id) => id.replace(/-(org|dup-\d+)$/, '')),
    });
  }
  const ncvr = join(shared, 'ncvr_multiparty_anonlink');
  const party = (p: number): Side => ({ csv: join(ncvr, `ncvr_numrec_5000_modrec_2_ocp_20_myp_${p}_nump_10.csv`), idColumn: 'recid', trim: false });
  for (const [x, y] of [[0, 1], [0, 2], [1, 2]]) {
    const name = `ncvr-ocp20-p${x}p${y}`;
    if (want(name) && existsSync(ncvr)) {
      list.push({ name, schema: schemaFor('ncvr', 'ncvr-schema.json'), a: party(x), b: party(y), truth: truthByIds((id) => String(Number(id))) });
    }
  }
  const blake = packagePath('../shared/vectors/clkhash/schema-blake.json');
  if (want('febrl4-blake') && existsSync(febrl) && existsSync(blake)) {
    list.push({ ...list.find((d) => d.name === 'febrl4')!, name: 'febrl4-blake', schema: blake });
  }
  for (const [name, spec] of GRID) if (want(name)) list.push(await synthetic(name, spec));
  return list;
}

async function encoded(side: Side, schema: string, secret: Uint8Array): Promise<EncodedFile> {
  const tag = createHash('sha256').update(readFileSync(schema)).update(side.csv).digest('hex').slice(0, 16);
  const out = join(workDir, `${tag}.arrow`);
  if (!existsSync(out)) {
    await encodeFile({ schema, secret, input: side.csv, output: out, workers, idColumn: side.idColumn, dialect: { delimiter: ',', trim: side.trim }, onError: 'fail' });
  }
  return readEncodedFile(out);
}

interface Point {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Quality of the greedy matching restricted to pairs scoring >= t (exactly the matching at t). */
function qualityAt(matching: Matching, truth: Int32Array, links: number, t: number): Point {
  let tp = 0;
  let pairs = 0;
  for (let k = 0; k < matching.length; k++) {
    if (matching.score[k] < t) continue;
    pairs++;
    if (truth[matching.a[k]] === matching.b[k]) tp++;
  }
  const fp = pairs - tp;
  const fn = links - tp;
  return { threshold: t, tp, fp, fn, precision: pairs ? tp / pairs : 1, recall: tp / links, f1: (2 * tp) / (2 * tp + fp + fn) };
}

const set = (f: EncodedFile): FilterSet => ({ filterBits: f.filterBits, count: f.count, clks: f.clks });

function countAtOrAbove(c: Candidates, t: number): number {
  let n = 0;
  for (let k = 0; k < c.length; k++) if (c.score[k] >= t - 1e-12) n++;
  return n;
}

async function evaluate(dataset: Dataset, secret: Uint8Array) {
  const [a, b] = [await encoded(dataset.a, dataset.schema, secret), await encoded(dataset.b, dataset.schema, secret)];
  const truth = await dataset.truth(a, b);
  const links = truth.reduce((n, row) => n + (row >= 0 ? 1 : 0), 0);
  const started = performance.now();
  // As `match --threshold auto` does: all pairs up to its limit, LSH above.
  let choice: ThresholdChoice;
  let candidates: Candidates;
  if (chooseBlocking(a.count, b.count) === 'none') ({ choice, candidates } = await chooseThreshold(set(a), set(b), { workers }));
  else ({ choice, candidates } = await autoWithLsh(set(a), set(b), { workers }));
  const seconds = (performance.now() - started) / 1000;
  // Greedy at the floor contains the greedy matching at every higher threshold (it takes pairs in
  // descending order), so one matching gives exact figures for every threshold from the floor.
  const matching = greedySolve(candidates, a.count, b.count);
  let best: Point | undefined;
  for (let step = Math.ceil(choice.floor * 200 - 1e-9); step <= 200; step++) {
    const point = qualityAt(matching, truth, links, step / 200);
    if (best === undefined || point.f1 > best.f1) best = point;
  }
  if (best === undefined) throw new Error('empty sweep');
  const atAuto = qualityAt(matching, truth, links, choice.threshold);
  const e = choice.estimate;
  return {
    name: dataset.name,
    records: [a.count, b.count],
    links,
    floor: choice.floor,
    best: { ...best, candidatesPerLink: countAtOrAbove(candidates, best.threshold) / links },
    auto: { ...atAuto, expected: choice.expected, candidatesPerLink: countAtOrAbove(candidates, choice.threshold) / links },
    f1Gap: best.f1 - atAuto.f1,
    estimate: { ...e, error: (e.estimate - links) / links, covers: e.low <= links && links <= e.high },
    candidatesAtFloor: candidates.length,
    seconds,
    loadAtEnd: loadavg()[0],
  };
}

const f = (x: number, d = 4): string => x.toFixed(d);
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const n = (x: number): string => x.toLocaleString('en-US');
mkdirSync(workDir, { recursive: true });
const secretPath = join(workDir, 'secret.key');
if (!existsSync(secretPath)) await writeNewSecret(secretPath);
const secret = await readSecret(secretPath);
console.log(`# bench/quality --suite ${suite}: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${workers} workers, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const list = suite === 'coverage' ? await Promise.all(coverageSpecs(runs).map(([name, spec]) => synthetic(`${name} (${spec.registry / 1000}k x ${spec.requests / 1000}k, overlap ${spec.overlap}, corruption x${spec.corruption})`, spec))) : await datasets();
const results: Array<Awaited<ReturnType<typeof evaluate>>> = [];
for (const dataset of list) {
  const r = await evaluate(dataset, secret);
  results.push(r);
  console.error(`${r.name}: best F1 ${f(r.best.f1)} at ${r.best.threshold}, auto ${r.auto.threshold} F1 ${f(r.auto.f1)} (gap ${f(r.f1Gap)}), estimate ${n(r.estimate.estimate)} [${n(r.estimate.low)}, ${n(r.estimate.high)}] vs ${n(r.links)} (${pct(r.estimate.error)}), ${f(r.seconds, 1)} s`);
}
console.log('\n| dataset | records A x B | true links | best t | best F1 | auto t | auto P | auto R | auto F1 | F1 gap | expected F1 | cand./link at auto t | estimate [95% interval] | error | covers | auto s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.name} | ${n(r.records[0])} x ${n(r.records[1])} | ${n(r.links)} | ${f(r.best.threshold, 3)} | ${f(r.best.f1)} | ${f(r.auto.threshold, 3)} | ${f(r.auto.precision)} | ${f(r.auto.recall)} | ${f(r.auto.f1)} | ${f(r.f1Gap)} | ${f(r.auto.expected.f1)} | ` +
      `${f(r.auto.candidatesPerLink, 2)} | ${n(r.estimate.estimate)} [${n(r.estimate.low)}, ${n(r.estimate.high)}] | ${pct(r.estimate.error)} | ${r.estimate.covers ? 'yes' : 'no'} | ${f(r.seconds, 1)} |`,
  );
}
const errors = results.map((r) => Math.abs(r.estimate.error)).sort((x, y) => x - y);
console.log(`\n${results.filter((r) => r.estimate.covers).length}/${results.length} intervals cover the truth; median |error| ${pct(errors[Math.floor(errors.length / 2)] ?? 0)}, largest ${pct(errors[errors.length - 1] ?? 0)}; largest F1 gap ${f(Math.max(...results.map((r) => r.f1Gap)))}`);
if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
