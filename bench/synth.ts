// Times `blindlink synth --registry 1000000 --requests 100000` (the library call behind it) and
// prints rows/s and peak RSS. Usage: node dist/bench/synth.js [registry] [requests]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CORRUPTION } from '../src/synth/corrupt.js';
import { synthesize } from '../src/synth/write.js';

const registry = Number(process.argv[2] ?? 1_000_000);
const requests = Number(process.argv[3] ?? 100_000);
const outDir = await mkdtemp(join(tmpdir(), 'blindlink-bench-synth-'));
try {
  const started = performance.now();
  const summary = await synthesize({ registry, requests, overlap: 0.037, seed: 1, outDir, rates: DEFAULT_CORRUPTION, namesakeRate: 0.1, relativeRate: 0.1 });
  const seconds = (performance.now() - started) / 1000;
  const bytes = (await stat(summary.registryPath)).size + (await stat(summary.requestsPath)).size + (await stat(summary.truthPath)).size;
  const rows = registry + requests;
  const n = (value: number): string => Math.round(value).toLocaleString('en-US');
  console.log(`synth --registry ${n(registry)} --requests ${n(requests)} (${n(summary.members)} members)`);
  console.log(`wall time   ${seconds.toFixed(2)} s`);
  console.log(`throughput  ${n(rows / seconds)} rows/s, ${(bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s written (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
  console.log(`peak RSS    ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  await rm(outDir, { recursive: true, force: true });
}
