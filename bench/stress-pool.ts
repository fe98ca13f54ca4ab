// Stress test for worker-pool start-up and tear-down (issue 11): runs scenarios that destroy a
// piscina pool while some of its workers are still loading their ES module, each in a fresh child
// process, and counts the processes Node aborted (SIGABRT, "v8::Module::IsGraphAsync ... must be
// used on an instantiated module") and any other unexpected ending. docs/ROBUSTNESS.md has figures.
//
//   npm run stress:pool -- [--runs 200] [--scenarios match-limit,lsh-limit,encode-small,encode-bad,heavy-graph] [--json]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { popcounts } from '../src/bits.js';
import { writeEncodedFile } from '../src/io/encoded-file.js';
import { createPool } from '../src/pool.js';
import { seededRandom } from '../src/random.js';
import { packagePath } from '../src/worker-path.js';

const CLI = packagePath('dist/src/cli/main.js');
// The compiled script, also when a test imports this module from its TypeScript source.
const SELF = packagePath('dist/bench/stress-pool.js');
const SECRET = 'ab'.repeat(32);
// Modules in the synthetic worker graph, and the names each re-exports from five predecessors:
// resolving `export *` chains makes instantiation (the window the abort needs) last long enough
// to be hit often; the graph itself is plain ESM, loaded the way piscina loads our workers.
const GRAPH_MODULES = 300;
const RUN_TIMEOUT_MS = 60_000;

export interface Scenario {
  name: string;
  /** What a correct run ends with. */
  expectStatus: number;
  expectStderr?: RegExp;
  command: (dir: string) => string[];
}

export const SCENARIOS: Scenario[] = [
  {
    // forEachTile: the first tile breaks --max-candidates, the pool is destroyed while others start.
    name: 'match-limit',
    expectStatus: 1,
    expectStderr: /more than 10 candidate pairs/,
    command: (dir) => [CLI, 'match', join(dir, 'a.arrow'), join(dir, 'b.arrow'), '--threshold', '0.8', '--blocking', 'none', '--max-candidates', '10', '--workers', '4'],
  },
  {
    // blockedCandidates: the same through the LSH pool.
    name: 'lsh-limit',
    expectStatus: 1,
    expectStderr: /more than 10 candidate pairs/,
    command: (dir) => [CLI, 'match', join(dir, 'a.arrow'), join(dir, 'b.arrow'), '--threshold', '0.8', '--blocking', 'lsh', '--max-candidates', '10', '--workers', '4'],
  },
  {
    // encodeFile: one batch for four workers, so three may still be loading when the pool goes.
    name: 'encode-small',
    expectStatus: 0,
    command: (dir) => [CLI, 'encode', '--schema', join(dir, 'schema.json'), '--in', join(dir, 'people.csv'), '--out', join(dir, `out-${process.hrtime.bigint()}.arrow`), '--workers', '4'],
  },
  {
    // encodeFile: the only batch holds a bad record.
    name: 'encode-bad',
    expectStatus: 1,
    expectStderr: /line 3/,
    command: (dir) => [CLI, 'encode', '--schema', join(dir, 'schema.json'), '--in', join(dir, 'bad.csv'), '--out', join(dir, 'never.arrow'), '--workers', '4'],
  },
  {
    // createPool itself, on a worker whose module graph takes long to instantiate.
    name: 'heavy-graph',
    expectStatus: 0,
    command: (dir) => [SELF, '--child', 'heavy-graph', '--dir', dir],
  },
];

/** Writes the scenarios' inputs into `dir`. */
export function writeFixtures(dir: string): Promise<void> {
  const random = seededRandom(11);
  const count = 3000;
  const width = 128;
  const a = new Uint8Array(count * width);
  for (let i = 0; i < a.length; i++) a[i] = Math.floor(random() * 256);
  // B: A with about 3% of bits flipped, so every row has one partner near Dice 0.97.
  const b = a.slice();
  for (let i = 0; i < b.length; i++) for (let bit = 0; bit < 8; bit++) if (random() < 0.03) b[i] ^= 1 << bit;
  writeFileSync(join(dir, 'schema.json'), JSON.stringify({ blindlink: 1, filter: { bits: 1024 }, fields: [{ name: 'given_name' }, { name: 'surname' }] }));
  writeFileSync(join(dir, 'people.csv'), 'given_name,surname\nada,lovelace\nalan,turing\ngrace,hopper\n');
  writeFileSync(join(dir, 'bad.csv'), 'given_name,surname\nada,lovelace\nalan,"tur"ing\n');
  const graph = join(dir, 'graph');
  mkdirSync(graph);
  writeFileSync(join(graph, 'package.json'), '{"type":"module"}');
  for (let i = 0; i < GRAPH_MODULES; i++) {
    const lines = Array.from({ length: 20 }, (_, j) => `export const v${i}_${j} = ${j};`);
    for (let k = 1; k <= 5 && i - k >= 0; k++) lines.push(`export * from './m${i - k}.js';`);
    writeFileSync(join(graph, `m${i}.js`), `${lines.join('\n')}\n`);
  }
  const imports = Array.from({ length: Math.ceil(GRAPH_MODULES / 7) }, (_, n) => `import { v${n * 7}_3 as a${n} } from './m${GRAPH_MODULES - 1}.js';`);
  writeFileSync(join(graph, 'worker.js'), `${imports.join('\n')}\nexport default function echo(x) { return x; }\n`);
  const metadata = { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits: 1024, recordCount: count, hardening: 'none' };
  return Promise.all([
    writeEncodedFile(join(dir, 'a.arrow'), { clks: a, popcounts: popcounts(a, width), ids: null, filterBits: 1024, metadata }),
    writeEncodedFile(join(dir, 'b.arrow'), { clks: b, popcounts: popcounts(b, width), ids: null, filterBits: 1024, metadata }),
  ]).then(() => undefined);
}

/**
 * Child: measures how long two workers of the synthetic graph take to become ready, then twice
 * destroys a fresh pool at a random moment inside that window, while the workers load.
 */
async function heavyGraphChild(dir: string): Promise<void> {
  const filename = join(dir, 'graph', 'worker.js');
  const first = createPool<number, number>(filename, { threads: 2 });
  const started = performance.now();
  await Promise.all([first.run(1), first.run(2)]);
  const ready = performance.now() - started;
  await first.destroy();
  for (let round = 0; round < 2; round++) {
    const pool = createPool<number, number>(filename, { threads: 2 });
    await new Promise((resolve) => setTimeout(resolve, ready * (0.2 + 0.9 * Math.random())));
    await pool.destroy();
  }
}

export interface StressOutcome {
  scenario: string;
  runs: number;
  aborts: number;
  /** Exits other than the expected status (and not an abort), timeouts included. */
  unexpected: number;
  examples: string[];
}

/** Runs each scenario `runs` times in turn, each run a fresh `node` process. */
export function stress(dir: string, scenarios: readonly Scenario[], runs: number, onRun?: (done: number) => void): StressOutcome[] {
  const outcomes = scenarios.map((scenario) => ({ scenario: scenario.name, runs: 0, aborts: 0, unexpected: 0, examples: [] as string[] }));
  for (let run = 0; run < runs; run++) {
    const index = run % scenarios.length;
    const scenario = scenarios[index];
    const outcome = outcomes[index];
    const child = spawnSync(process.execPath, scenario.command(dir), {
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
      env: { ...process.env, BLINDLINK_SECRET: SECRET },
    });
    outcome.runs++;
    const aborted = child.signal === 'SIGABRT' || child.status === 134;
    const expected = child.status === scenario.expectStatus && (scenario.expectStderr === undefined || scenario.expectStderr.test(child.stderr));
    if (aborted) outcome.aborts++;
    else if (!expected) outcome.unexpected++;
    if ((aborted || !expected) && outcome.examples.length < 3) {
      const firstLine = child.stderr.split('\n').find((line) => line.trim() !== '') ?? '';
      outcome.examples.push(`status ${child.status} signal ${child.signal}: ${firstLine.trim().slice(0, 160)}`);
    }
    onRun?.(run + 1);
  }
  return outcomes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '200' },
      scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
      dir: { type: 'string' },
    },
  });
  if (values.child === 'heavy-graph') return heavyGraphChild(values.dir!);
  const names = values.scenarios.split(',');
  const chosen = SCENARIOS.filter((s) => names.includes(s.name));
  if (chosen.length !== names.length) throw new Error(`unknown scenario in ${values.scenarios}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const runs = Number(values.runs);
  const dir = mkdtempSync(join(tmpdir(), 'blindlink-stress-pool-'));
  try {
    await writeFixtures(dir);
    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    const started = performance.now();
    const outcomes = stress(dir, chosen, runs, (done) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${runs} runs`);
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const seconds = (performance.now() - started) / 1000;
    const summary = { date: new Date().toISOString(), node: process.version, loadStart: load, loadEnd: loadavg().map((x) => x.toFixed(2)).join(' '), seconds, outcomes };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      process.stdout.write(`${summary.date}  node ${summary.node}  load ${summary.loadStart} -> ${summary.loadEnd}  ${seconds.toFixed(0)} s\n`);
      process.stdout.write('| scenario | runs | aborts | other unexpected |\n| --- | ---: | ---: | ---: |\n');
      for (const o of outcomes) process.stdout.write(`| ${o.scenario} | ${o.runs} | ${o.aborts} | ${o.unexpected} |\n`);
      for (const o of outcomes) for (const example of o.examples) process.stdout.write(`  ${o.scenario}: ${example}\n`);
    }
    if (outcomes.some((o) => o.aborts > 0 || o.unexpected > 0)) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
