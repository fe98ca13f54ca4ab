// Matching throughput on seeded synthetic filters: the Dice kernel per core (tinybench), candidate
// generation on 1 and 2 workers, and the wall time of a 100k x 100k count-only match.
// Run: npm run bench:match [-- kernel|workers|febrl|full ...]  (figures: docs/BENCHMARKS.md, ## Matching)
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { findCandidates } from '../src/match/candidates.js';
import { layoutViews, loadSharedFilters, type FilterSet } from '../src/match/shared-filters.js';
import { release } from '../src/reveal/release.js';
import { META_BYTES, type KernelVariant } from '../src/similarity/dice-kernel-source.js';
import { compileDiceKernel, instantiateDiceKernel } from '../src/similarity/dice-kernel.js';
import { greedySolve } from '../src/solve/greedy.js';
import { seededRandom as mulberry32 } from '../src/random.js';

const BITS = 1024;
const THRESHOLD = 0.8;

/** Filters whose bits are set with probability `fill(row)`. */
function filters(count: number, fill: (row: number) => number, random: () => number): FilterSet {
  const bytes = BITS / 8;
  const clks = new Uint8Array(count * bytes);
  for (let row = 0; row < count; row++) {
    const p = fill(row);
    for (let i = row * bytes; i < (row + 1) * bytes; i++) {
      let byte = 0;
      for (let bit = 0; bit < 8; bit++) if (random() < p) byte |= 1 << bit;
      clks[i] = byte;
    }
  }
  return { filterBits: BITS, count, clks };
}

const millions = (perSecond: number): string => (perSecond / 1e6).toFixed(0);

/** Process CPU time in milliseconds: on a shared machine, time this thread actually ran. */
const cpuNow = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * Kernel alone, one thread: 2048 A rows against 8192 B rows, B taken in L2-sized blocks of 2048
 * as the tiles do, with the early-exit checkpoints the matcher tunes for these inputs. Timed by the
 * wall clock and by CPU time (other processes on a shared machine inflate only the former).
 */
async function kernelRates(): Promise<string[]> {
  const rows: string[] = [
    '| kernel | fill | clock | comparisons/s per core (median) | samples |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const clock of ['wall', 'cpu'] as const) rows.push(...(await kernelBench(clock)));
  return rows;
}

const checkpointsByFill = new Map<string, number[]>();

async function kernelBench(clock: 'wall' | 'cpu'): Promise<string[]> {
  const rows: string[] = [];
  const bench = new Bench({ time: 3000, warmupTime: 500, iterations: 10, ...(clock === 'cpu' ? { now: cpuNow } : {}) });
  const countA = 2048;
  const countB = 8192;
  for (const fill of [0.5, 0.7]) {
    const random = mulberry32(fill * 100);
    const shared = loadSharedFilters(filters(countA, () => fill, random), filters(countB, () => fill, random), THRESHOLD, 1);
    const { layout } = shared;
    checkpointsByFill.set(String(fill), layout.checkpoints);
    const views = layoutViews(shared.memory.buffer, layout);
    const out = layout.scratch;
    for (const variant of ['i64', 'simd'] as KernelVariant[]) {
      // The simd variant has no early exits; it ignores the checkpoint metadata.
      const scan = instantiateDiceKernel(compileDiceKernel(BITS, variant, variant === 'i64' ? layout.checkpoints : []), shared.memory);
      bench.add(`${variant} ${fill}`, () => {
        for (let block = 0; block < countB; block += 2048) {
          for (let i = 0; i < countA; i++) {
            const pa = views.aMeta[i * (META_BYTES / 2)];
            scan(layout.aFilters + (i * BITS) / 8, layout.aMeta + i * META_BYTES, layout.bFilters + (block * BITS) / 8,
              layout.bMeta + block * META_BYTES, Math.min(2048, countB - block), layout.table + 4 * pa, out);
          }
        }
      });
    }
  }
  await bench.run();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
    const [variant, fill] = task.name.split(' ');
    const perSecond = (countA * countB) / (result.latency.p50 / 1000);
    rows.push(`| ${variant}${variant === 'i64' ? ` (checkpoints ${checkpointsByFill.get(fill)?.join(', ')})` : ''} | ${fill} | ${clock} | ${millions(perSecond)} M | ${result.latency.samplesCount} |`);
  }
  return rows;
}

/** Candidate generation end to end (load, sort, tiles, kernel, results) on 1 and 2 workers. */
async function workerRates(): Promise<string[]> {
  const rows = [
    '| fill | workers | wall s (best of 2) | CPU s (all threads) | A×B pairs/s | pairs after popcount bound /s | speed-up |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const size = 40_000;
  for (const fill of [0.5, 0.7]) {
    const random = mulberry32(fill * 1000);
    const a = filters(size, () => fill, random);
    const b = filters(size, () => fill, random);
    let single = 0;
    for (const workers of [1, 2]) {
      let best = Infinity;
      let cpu = 0;
      let scanned = 0;
      for (let run = 0; run < 2; run++) {
        const started = performance.now();
        const cpuStarted = cpuNow();
        const found = await findCandidates(a, b, { threshold: THRESHOLD, workers });
        const wall = (performance.now() - started) / 1000;
        if (wall < best) {
          best = wall;
          cpu = (cpuNow() - cpuStarted) / 1000;
        }
        scanned = found.pairsScanned;
      }
      if (workers === 1) single = best;
      rows.push(
        `| ${fill} | ${workers} | ${best.toFixed(2)} | ${cpu.toFixed(2)} | ${millions((size * size) / best)} M | ${millions(scanned / best)} M | ${(single / best).toFixed(2)}x |`,
      );
    }
  }
  return rows;
}

/**
 * 100k x 100k, count only, 2 workers: B has fills spread over 40-70%, A holds noisy copies
 * (5% of bits flipped) of half of B plus 50k unrelated records.
 */
async function fullMatch(): Promise<string[]> {
  const size = 100_000;
  const random = mulberry32(99);
  const b = filters(size, () => 0.4 + 0.3 * random(), random);
  const a = filters(size, () => 0.4 + 0.3 * random(), random);
  const bytes = BITS / 8;
  for (let row = 0; row < size / 2; row++) {
    a.clks.set(b.clks.subarray(row * bytes, (row + 1) * bytes), row * bytes);
    for (let f = 0; f < BITS * 0.05; f++) {
      const bit = Math.floor(random() * BITS);
      a.clks[row * bytes + (bit >> 3)] ^= 0x80 >> (bit & 7);
    }
  }
  const started = performance.now();
  const cpuStarted = cpuNow();
  const found = await findCandidates(a, b, { threshold: THRESHOLD, workers: 2 });
  const generated = performance.now();
  const matching = greedySolve(found, size, size);
  const report = release({
    reveal: 'count',
    threshold: THRESHOLD,
    epsilon: null,
    inputs: { a: { path: 'a', records: size, format: 'arrow' }, b: { path: 'b', records: size, format: 'arrow' } },
    candidates: found,
    matching,
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = (cpuNow() - cpuStarted) / 1000;
  return [
    '| pairs | candidates | count | pairs after popcount bound | candidate generation s | total wall s | CPU s | A×B pairs/s | RSS after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| 100k × 100k | ${found.length} | ${report.count} | ${(found.pairsScanned / 1e9).toFixed(2)} G | ${((generated - started) / 1000).toFixed(2)} | ${seconds.toFixed(2)} | ${cpu.toFixed(1)} | ${millions((size * size) / seconds)} M | ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB |`,
  ];
}

/**
 * FEBRL 4 CLKs from ../shared/vectors/anonlink (skipped when absent): candidate generation in
 * one thread, best of 5, beside anonlink 0.15.3's median from febrl4-results.json.
 */
async function febrl(): Promise<string[]> {
  const folder = new URL('../../../shared/vectors/anonlink/', import.meta.url);
  if (!existsSync(fileURLToPath(new URL('febrl4-results.json', folder)))) return ['(../shared/vectors/anonlink not present: skipped)'];
  const read = (name: string): FilterSet => {
    const clks = (JSON.parse(readFileSync(new URL(name, folder), 'utf8')) as { clks: string[] }).clks.map((c) => Buffer.from(c, 'base64'));
    const out = new Uint8Array(clks.length * clks[0].length);
    clks.forEach((clk, i) => out.set(clk, i * clk.length));
    return { filterBits: clks[0].length * 8, count: clks.length, clks: out };
  };
  const a = read('febrl4-clks-a.json');
  const b = read('febrl4-clks-b.json');
  const results = (JSON.parse(readFileSync(new URL('febrl4-results.json', folder), 'utf8')) as {
    thresholds: Array<{ threshold: number; candidate_pairs: number; candidate_generation_wall_s: { median: number } }>;
  }).thresholds;
  const rows = [
    '| threshold | candidates (anonlink) | blindlink s (best of 5) | anonlink s (median of 5) | blindlink A×B pairs/s |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    let best = Infinity;
    let found = 0;
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      found = (await findCandidates(a, b, { threshold: r.threshold, workers: 1 })).length;
      best = Math.min(best, (performance.now() - started) / 1000);
    }
    rows.push(
      `| ${r.threshold.toFixed(2)} | ${found} (${r.candidate_pairs}) | ${best.toFixed(3)} | ${r.candidate_generation_wall_s.median.toFixed(3)} | ${millions((a.count * b.count) / best)} M |`,
    );
  }
  return rows;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
// Sections to run: all by default, or any of kernel, workers, febrl, full as arguments.
const wanted = new Set(process.argv.slice(2));
const run = (name: string): boolean => wanted.size === 0 || wanted.has(name);
console.log(`# bench/match: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores, load average at start ${load()}`);
if (run('kernel')) {
  console.log('\n## Kernel, one thread, 1024-bit, threshold 0.8\n');
  console.log((await kernelRates()).join('\n'));
}
if (run('workers')) {
  console.log('\n## Candidate generation, 40k × 40k, 1024-bit, threshold 0.8\n');
  console.log((await workerRates()).join('\n'));
}
if (run('febrl')) {
  console.log('\n## FEBRL 4 (5,000 × 5,000), one thread, against anonlink on this VM\n');
  console.log((await febrl()).join('\n'));
}
if (run('full')) {
  console.log('\n## Count-only match, 100k × 100k, threshold 0.8, 2 workers\n');
  console.log((await fullMatch()).join('\n'));
}
console.log(`\nload average at end ${load()}`);
