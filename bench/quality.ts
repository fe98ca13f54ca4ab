// Linkage quality of the recommended native schemas: FEBRL4, the three NCVR ocp_20 party pairs
// (skipped without ../shared) and demo-scale synthetic taxpayers, light and heavy corruption.
// Usage: npm run build && node dist/bench/quality.js [--only a,b] [--workers N] [--schema name=file] [--json out.json]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFile } from '../src/encode-file.js';
import { readTruth } from '../src/evaluate/read.js';
import { readEncodedFile, type EncodedFile } from '../src/io/encoded-file.js';
import { candidatesAtOrAbove, mutualBestScores } from '../src/match/auto-best-scores.js';
import { autoThreshold, chooseThreshold, pooledBestScores, type AutoMethod } from '../src/match/auto-threshold.js';
import { findCandidates } from '../src/match/candidates.js';
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
const shared = packagePath('../shared/data');
// The sweep starts this far below the auto threshold's floor (never below 0.3; small inputs only). Greedy matching at
// the sweep's start contains the matching at every higher threshold, since greedy takes pairs in
// descending score order, so one matching gives exact figures for every threshold.
const SWEEP_BELOW_FLOOR = 0.05;

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

async function synthetic(name: string, scale: number): Promise<Dataset> {
  const dir = join(workDir, `synth-${scale}`);
  if (!existsSync(join(dir, 'truth.csv'))) {
    mkdirSync(dir, { recursive: true });
    // The demo's settings (seed 1, 3.7% overlap, 10% namesakes, 10% relatives) with scaled corruption.
    await synthesize({ registry: 200_000, requests: 20_000, overlap: 0.037, seed: 1, outDir: dir, rates: scaleRates(DEFAULT_CORRUPTION, scale), namesakeRate: 0.1, relativeRate: 0.1 });
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

async function datasets(): Promise<Dataset[]> {
  const list: Dataset[] = [];
  const want = (name: string): boolean => only === undefined || only.some((o) => name.startsWith(o));
  const febrl = join(shared, 'febrl4');
  if (want('febrl4') && existsSync(febrl)) {
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
  if (want('synth-light')) list.push(await synthetic('synth-light', 0.5));
  if (want('synth-heavy')) list.push(await synthetic('synth-heavy', 2));
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

async function evaluate(dataset: Dataset, secret: Uint8Array) {
  const started = performance.now();
  const [a, b] = [await encoded(dataset.a, dataset.schema, secret), await encoded(dataset.b, dataset.schema, secret)];
  const truth = await dataset.truth(a, b);
  const links = truth.reduce((n, row) => n + (row >= 0 ? 1 : 0), 0);
  const auto = await chooseThreshold(set(a), set(b), { workers });
  // Below the floor candidates grow fast (demo scale: over 60 million at floor - 0.05), so large
  // inputs are swept from the floor itself.
  const below = a.count * b.count <= 50_000_000 ? SWEEP_BELOW_FLOOR : 0;
  const floor = Math.max(0.3, Math.round((auto.floor - below) * 100) / 100);
  const candidates = await findCandidates(set(a), set(b), { threshold: floor, workers, maxCandidates: 60_000_000 });
  const matching = greedySolve(candidates, a.count, b.count);
  let best: Point | undefined;
  const sweep: Array<Point & { candidatesPerLink: number }> = [];
  for (let step = Math.round(floor * 100); step <= 100; step++) {
    const point = qualityAt(matching, truth, links, step / 100);
    sweep.push({ ...point, candidatesPerLink: candidatesAtOrAbove(auto.best, step / 100) / links });
    if (best === undefined || point.f1 >= best.f1) best = point;
  }
  if (best === undefined) throw new Error('empty sweep');
  const atAuto = qualityAt(matching, truth, links, auto.threshold);
  const perLink = (t: number): number => candidatesAtOrAbove(auto.best, t) / links;
  // Every method on every source of best scores, for the comparison in docs/QUALITY.md.
  const sources: Record<string, Float64Array> = {
    mutual: mutualBestScores(auto.best),
    'best+second': pooledBestScores(auto.best),
    best: pooledBestScores(auto.best, false),
  };
  const alternatives = Object.entries(sources).flatMap(([source, scores]) =>
    methods.map((method) => {
      const choice = autoThreshold(scores, { floor: auto.floor, method });
      return { source, method: choice.method, threshold: choice.threshold, f1: qualityAt(matching, truth, links, choice.threshold).f1 };
    }),
  );
  return {
    name: dataset.name,
    records: [a.count, b.count],
    links,
    best: { ...best, candidatesPerLink: perLink(best.threshold) },
    auto: { floor: auto.floor, method: auto.method, reason: auto.reason, ...atAuto, candidatesPerLink: perLink(auto.threshold) },
    f1Gap: best.f1 - atAuto.f1,
    alternatives,
    sweep,
    seconds: (performance.now() - started) / 1000,
    loadAtEnd: loadavg()[0],
  };
}

const methods: AutoMethod[] = ['valley', 'otsu', 'minimum-error', 'mixture'];
const f = (x: number, d = 4): string => x.toFixed(d);
mkdirSync(workDir, { recursive: true });
const secretPath = join(workDir, 'secret.key');
if (!existsSync(secretPath)) await writeNewSecret(secretPath);
const secret = await readSecret(secretPath);
console.log(`# bench/quality: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${workers} workers, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const results: Array<Awaited<ReturnType<typeof evaluate>>> = [];
for (const dataset of await datasets()) {
  const r = await evaluate(dataset, secret);
  results.push(r);
  if (process.argv.includes('--sweep')) {
    for (const p of r.sweep) console.error(`  ${r.name} t ${f(p.threshold, 2)} P ${f(p.precision)} R ${f(p.recall)} F1 ${f(p.f1)} FP ${p.fp} FN ${p.fn} cand/link ${f(p.candidatesPerLink, 2)}`);
  }
  console.error(`${r.name}: best F1 ${f(r.best.f1)} at ${r.best.threshold}, auto ${r.auto.threshold} (${r.auto.method}, floor ${r.auto.floor}) F1 ${f(r.auto.f1)}, ${f(r.seconds, 1)} s`);
}
console.log('\n| dataset | records A x B | true links | best t | precision | recall | F1 | cand./link at best t | auto t | auto precision | auto recall | auto F1 | F1 gap | cand./link at auto t |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.records[0].toLocaleString('en-US')} x ${r.records[1].toLocaleString('en-US')} | ${r.links.toLocaleString('en-US')} | ${f(r.best.threshold, 2)} | ${f(r.best.precision)} | ${f(r.best.recall)} | ${f(r.best.f1)} | ${f(r.best.candidatesPerLink, 2)} | ` +
      `${f(r.auto.threshold, 2)}${r.auto.method === 'valley' ? '' : ` (${r.auto.method})`} | ${f(r.auto.precision)} | ${f(r.auto.recall)} | ${f(r.auto.f1)} | ${f(r.f1Gap)} | ${f(r.auto.candidatesPerLink, 2)} |`,
  );
}
console.log('\nAlternatives (threshold / F1 gap to the best threshold):\n');
console.log(`| source, method | ${results.map((r) => r.name).join(' | ')} |`);
console.log(`| --- |${results.map(() => ' --- |').join('')}`);
results[0]?.alternatives.forEach((_, i) => {
  const label = `${results[0].alternatives[i].source}, ${methods[i % methods.length]}`;
  console.log(`| ${label} | ${results.map((r) => `${f(r.alternatives[i].threshold, 2)}${r.alternatives[i].method === 'fallback' ? '*' : r.alternatives[i].method === 'floor' ? '^' : ''} / ${f(r.best.f1 - r.alternatives[i].f1)}`).join(' | ')} |`);
});
if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
