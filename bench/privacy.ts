// Privacy study behind docs/PRIVACY.md: for each hardening option (and combinations), the share of
// records the pattern-mining (Christen et al. 2018) and graph-matching (Vidanage et al. 2019)
// attacks re-identify, and the linkage F1 (best threshold, greedy 1:1 Dice) against no hardening.
//   npm run build && node dist/bench/privacy.js --dataset synth|ncvr [--schema realistic|weak] [--attack-records 1000] [--seed 1]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attackSuite } from '../src/attack/suite.js';
import { popcount32 } from '../src/bits.js';
import { readCsvRecords } from '../src/csv/index.js';
import { encodeRows } from '../src/encoder.js';
import { bestByF1, sweep } from '../src/evaluate/sweep.js';
import { compileSchema } from '../src/schema/load.js';
import type { Json } from '../src/schema/json-checks.js';
import { greedySolve } from '../src/solve/greedy.js';

interface Dataset {
  name: string;
  /** Schema fields (columns named as in the CSVs): a realistic schema and a deliberately weak one. */
  fields: Json[];
  weakFields: Json[];
  /** A stable field to salt with, and how many leading characters. */
  salt: { field: string; prefix: number };
  idColumn: string;
  /** Party A and party B rows (schema columns), and the true links as "a,b" row pairs. */
  load(): Promise<{ a: string[][]; b: string[][]; aIds: string[]; truth: Set<string> }>;
}

const qgram = (name: string, k: number): Json => ({ name, normalise: 'name', tokens: { type: 'qgram', q: 2 }, bitsPerToken: k });
const NCVR_DIR = fileURLToPath(new URL('../../../shared/data/ncvr_multiparty_anonlink/', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function readCsv(path: string, columns: readonly string[]): Promise<string[][]> {
  const rows: string[][] = [];
  let index: number[] | null = null;
  for await (const { fields } of readCsvRecords(path, { delimiter: ',', trim: false })) {
    if (index === null) index = columns.map((c) => fields.indexOf(c));
    else rows.push(index.map((i) => fields[i]));
  }
  return rows;
}

const DATASETS: Record<string, Dataset> = {
  // Names, date of birth and address as in docs/examples/taxpayer-schema.json (street and state left out).
  synth: {
    name: 'synthetic (blindlink synth, Zipf surnames)',
    fields: [
      qgram('given_name', 20),
      qgram('surname', 20),
      { name: 'date_of_birth', normalise: 'date', dateOrder: 'YMD', tokens: { type: 'date' }, bitsPerToken: 30 },
      { name: 'city', normalise: 'text', tokens: { type: 'qgram', q: 2 }, bitsPerToken: 10 },
      { name: 'zip', normalise: 'digits', digits: 5, tokens: { type: 'qgram', q: 1, positional: true, padded: false }, bitsPerToken: 8 },
    ],
    // Two names and the birth date at k = 5: few bits per token, so frequent q-grams stand out.
    weakFields: [
      qgram('given_name', 5),
      qgram('surname', 5),
      { name: 'date_of_birth', normalise: 'date', dateOrder: 'YMD', tokens: { type: 'date' }, bitsPerToken: 5 },
    ],
    salt: { field: 'date_of_birth', prefix: 4 },
    idColumn: 'record_id',
    async load() {
      const dir = mkdtempSync(join(tmpdir(), 'blindlink-privacy-'));
      execFileSync(process.execPath, [CLI, 'synth', '--registry', '3000', '--requests', '1000', '--overlap', '0.5', '--seed', '7', '--out-dir', dir]);
      const columns = ['given_name', 'surname', 'date_of_birth', 'city', 'zip'];
      const registry = await readCsv(join(dir, 'registry.csv'), [...columns, 'record_id']);
      const requests = await readCsv(join(dir, 'requests.csv'), columns);
      const truth = new Set((await readCsv(join(dir, 'truth.csv'), ['registry_row', 'request_row'])).map((r) => `${r[0]},${r[1]}`));
      return { a: registry.map((r) => r.slice(0, 5)), b: requests, aIds: registry.map((r) => r[5]), truth };
    },
  },
  ncvr: {
    name: 'NCVR ocp_20, party 0 vs party 1',
    fields: [qgram('givenname', 20), qgram('surname', 20), { name: 'suburb', normalise: 'text', tokens: { type: 'qgram', q: 2 }, bitsPerToken: 10 }, { name: 'postcode', normalise: 'digits', digits: 5, tokens: { type: 'qgram', q: 1, positional: true, padded: false }, bitsPerToken: 8 }],
    weakFields: [qgram('givenname', 5), qgram('surname', 5), { name: 'suburb', normalise: 'text', tokens: { type: 'qgram', q: 2 }, bitsPerToken: 5 }, { name: 'postcode', normalise: 'digits', digits: 5, tokens: { type: 'qgram', q: 1, positional: true, padded: false }, bitsPerToken: 5 }],
    salt: { field: 'postcode', prefix: 3 },
    idColumn: 'recid',
    async load() {
      const columns = ['givenname', 'surname', 'suburb', 'postcode', 'recid'];
      const a = await readCsv(join(NCVR_DIR, 'ncvr_numrec_5000_modrec_2_ocp_20_myp_0_nump_10.csv'), columns);
      const b = await readCsv(join(NCVR_DIR, 'ncvr_numrec_5000_modrec_2_ocp_20_myp_1_nump_10.csv'), columns);
      const rowOf = new Map(b.map((r, i) => [Number(r[4]), i]));
      const truth = new Set<string>();
      a.forEach((r, i) => {
        const j = rowOf.get(Number(r[4]));
        if (j !== undefined) truth.add(`${i},${j}`);
      });
      return { a: a.map((r) => r.slice(0, 4)), b: b.map((r) => r.slice(0, 4)), aIds: a.map((r) => String(Number(r[4]))), truth };
    },
  },
};

function configurations(salt: Dataset['salt']): Array<[string, Json | undefined]> {
  return [
    ['none', undefined],
    [`salt ${salt.field}[:${salt.prefix}]`, { salt }],
    ['balance', { balance: true }],
    ['blip 0.02', { blip: 0.02 }],
    ['xor-fold x1', { xorFolds: 1 }],
    ['rule90', { rule90: true }],
    ['diffusion t=4', { diffusion: { taps: 4 } }],
    ['balance, blip 0.02', { balance: true, blip: 0.02 }],
    ['salt, balance', { salt, balance: true }],
    ['salt, blip 0.02', { salt, blip: 0.02 }],
    ['salt, balance, blip 0.02', { salt, balance: true, blip: 0.02 }],
  ];
}

function encode(schema: Json, rows: readonly (readonly string[])[]) {
  const plan = compileSchema(schema);
  return { plan, encodings: encodeRows(plan, new TextEncoder().encode('privacy-bench-secret-0123456789abcdef'), rows) };
}

/** Best-threshold F1 of greedy 1:1 all-pairs Dice matching (pairs scoring >= 0.5 are candidates). */
function linkageF1(a: ReturnType<typeof encode>['encodings'], b: ReturnType<typeof encode>['encodings'], truth: Set<string>): { f1: number; threshold: number } {
  const words = a.filterBits / 32;
  const wa = new Uint32Array(a.clks.slice().buffer);
  const wb = new Uint32Array(b.clks.slice().buffer);
  const ca: number[] = [];
  const cb: number[] = [];
  const cs: number[] = [];
  for (let i = 0; i < a.count; i++) {
    for (let j = 0; j < b.count; j++) {
      const total = a.popcounts[i] + b.popcounts[j];
      let common = 0;
      for (let w = 0; w < words; w++) common += popcount32(wa[i * words + w] & wb[j * words + w]);
      const dice = total === 0 ? 0 : (2 * common) / total;
      if (dice >= 0.5) {
        ca.push(i);
        cb.push(j);
        cs.push(dice);
      }
    }
  }
  const matching = greedySolve({ length: ca.length, a: Int32Array.from(ca), b: Int32Array.from(cb), score: Float64Array.from(cs) }, a.count, b.count);
  const correct = Uint8Array.from({ length: matching.length }, (_, k) => (truth.has(`${matching.a[k]},${matching.b[k]}`) ? 1 : 0));
  const best = bestByF1(sweep(matching.score, correct, truth.size));
  return { f1: best?.f1 ?? 0, threshold: best?.threshold ?? 0 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string): string => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : fallback;
  };
  const datasetName = option('--dataset', 'synth');
  const attackRecords = Number(option('--attack-records', '1000'));
  const seed = Number(option('--seed', '1'));
  const weak = option('--schema', 'realistic') === 'weak';
  const dataset = DATASETS[datasetName];
  if (!dataset) throw new Error(`--dataset must be one of ${Object.keys(DATASETS).join(', ')}`);
  if (datasetName === 'ncvr' && !existsSync(NCVR_DIR)) {
    console.log(`skipped: ${NCVR_DIR} is absent`);
    return;
  }
  const loaded = await dataset.load();
  // Schema fields are the leading columns of the loaded rows.
  const width = (weak ? dataset.weakFields : dataset.fields).length;
  const data = { ...loaded, a: loaded.a.map((r) => r.slice(0, width)), b: loaded.b.map((r) => r.slice(0, width)) };
  // The attacker's best case: the reference is exactly the encoded people (first N of party A).
  const attacked = data.a.slice(0, attackRecords);
  const attackedIds = data.aIds.slice(0, attackRecords);
  const fields = weak ? dataset.weakFields : dataset.fields;
  console.log(`# ${dataset.name}, ${weak ? 'weak' : 'realistic'} schema: attack on ${attacked.length} records with the same people as reference; linkage ${data.a.length} x ${data.b.length}, ${data.truth.size} true links; seed ${seed}`);
  console.log('| hardening | pattern mining: re-identified | q-grams identified | graph matching: re-identified | GM precision | best F1 | F1 loss | threshold | seconds |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  let baseline: number | null = null;
  for (const [label, hardening] of configurations(dataset.salt)) {
    const started = performance.now();
    const schema: Json = { blindlink: 1, filter: { bits: 1024 }, fields, hardening: hardening ?? 'none' };
    const target = encode(schema, attacked);
    const [mining, graph] = attackSuite({ plan: target.plan, encodings: target.encodings, reference: attacked, seed }, { encodedIds: attackedIds, referenceIds: attackedIds });
    const link = linkageF1(encode(schema, data.a).encodings, encode(schema, data.b).encodings, data.truth);
    baseline ??= link.f1;
    const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
    console.log(
      `| ${label} | ${pct(mining.reidentified)} | ${pct(mining.qgramsIdentified ?? 0)} | ${pct(graph.reidentified)} | ${pct(graph.precision)} | ${link.f1.toFixed(4)} | ${(baseline - link.f1).toFixed(4)} | ${link.threshold.toFixed(2)} | ${((performance.now() - started) / 1000).toFixed(0)} |`,
    );
  }
}

await main();
