// The long fuzz run: `npm run fuzz -- [--cases 5000] [--cli-cases 300] [--seed 1] [--timeout 30]`.
// Mutated CSV, schemas (native and clkhash), Arrow files, clkhash JSON, truth and pairs files and
// secrets, each through the library in process and a sample through the real CLI; see
// bench/fuzz/harness.ts for the oracle. Failing inputs are kept in the printed folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCorpus, fuzz } from './fuzz/harness.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '5000' },
    'cli-cases': { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'blindlink-fuzz-'));
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadStart = load();
const corpus = await buildCorpus(join(dir, 'corpus'), Number(values.seed));
const report = await fuzz(corpus, {
  seed: Number(values.seed),
  inProcessCases: Number(values.cases),
  cliCases: Number(values['cli-cases']),
  concurrency: Number(values.concurrency),
  timeoutMs: Number(values.timeout) * 1000,
});
const summary = { ...report, date: new Date().toISOString(), node: process.version, loadStart, loadEnd: load(), kept: report.findings.length > 0 ? dir : null };
if (values.json) {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} else {
  process.stdout.write(
    `${summary.date}  node ${summary.node}  load ${loadStart} -> ${summary.loadEnd}\n` +
      `seed ${report.seed}: ${report.inProcessCases} in-process cases and ${report.cliCases} CLI cases in ${report.seconds.toFixed(1)} s, ${report.findings.length} findings\n`,
  );
  for (const f of report.findings) process.stdout.write(`  [${f.target} #${f.index}] ${f.did}: ${f.problem}\n    input: ${f.input}\n`);
}
if (report.findings.length > 0) {
  process.stdout.write(`inputs kept in ${dir}\n`);
  process.exitCode = 1;
} else {
  rmSync(dir, { recursive: true, force: true });
}
