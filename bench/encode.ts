// Encoding throughput (records/s) with 1 and 2 workers: synthetic taxpayer records (default 1M,
// made by `blindlink synth`) and FEBRL4 when ../shared is present, each with a clkhash-compatible
// blakeHash schema and a native blindlink schema. Wall time covers the whole run as the CLI does it:
// worker start-up, CSV reading, encoding and writing the Arrow file.
// Usage: npm run build && node dist/bench/encode.js [--records N] [--runs R]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFile } from '../src/encode-file.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const shared = join(root, '..', 'shared');

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const records = option('--records', 1_000_000);
const runs = option('--runs', 3);
const scratch = mkdtempSync(join(tmpdir(), 'blindlink-bench-encode-'));

interface Case {
  data: string;
  schemaName: string;
  schema: string;
  input: string;
  secret: Uint8Array;
  trim: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function measure(c: Case, workers: number): Promise<{ seconds: number; encoded: number }> {
  const times: number[] = [];
  let encoded = 0;
  for (let run = 0; run < runs; run++) {
    const output = join(scratch, 'out.arrow');
    const started = performance.now();
    const summary = await encodeFile({
      schema: c.schema,
      secret: c.secret,
      input: c.input,
      output,
      workers,
      dialect: { delimiter: ',', trim: c.trim },
      onError: 'fail',
    });
    times.push((performance.now() - started) / 1000);
    encoded = summary.encoded;
    rmSync(output);
  }
  return { seconds: median(times), encoded };
}

async function main(): Promise<void> {
  console.log(`blindlink encode benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, median of ${runs} runs`);
  process.stderr.write(`generating ${records.toLocaleString('en-US')} synthetic taxpayer records...\n`);
  execFileSync(process.execPath, [cli, 'synth', '--registry', String(records), '--requests', '1000', '--seed', '7', '--out-dir', scratch], { stdio: 'inherit' });
  const secret = new TextEncoder().encode(randomBytes(32).toString('hex'));
  const cases: Case[] = [
    { data: `synthetic ${records / 1e6}M`, schemaName: 'clkhash blakeHash', schema: join(root, 'docs/examples/taxpayer-clkhash-schema.json'), input: join(scratch, 'registry.csv'), secret, trim: false },
    { data: `synthetic ${records / 1e6}M`, schemaName: 'native', schema: join(root, 'docs/examples/taxpayer-schema.json'), input: join(scratch, 'registry.csv'), secret, trim: false },
  ];
  const febrl = join(shared, 'data/febrl4');
  if (existsSync(febrl)) {
    const vectorSecret = new Uint8Array(readFileSync(join(shared, 'vectors/clkhash/secret.txt')));
    for (const file of ['dataset4a.csv', 'dataset4b.csv']) {
      cases.push(
        { data: `FEBRL4 ${file}`, schemaName: 'clkhash blakeHash', schema: join(shared, 'vectors/clkhash/schema-blake.json'), input: join(febrl, file), secret: vectorSecret, trim: true },
        { data: `FEBRL4 ${file}`, schemaName: 'native', schema: join(root, 'docs/examples/febrl-schema.json'), input: join(febrl, file), secret: vectorSecret, trim: true },
      );
    }
  } else {
    console.log('(../shared/data/febrl4 absent: FEBRL4 rows skipped)');
  }
  console.log('| data | schema | workers | records | wall s | records/s | records/s per worker |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const c of cases) {
    for (const workers of [1, 2]) {
      const { seconds, encoded } = await measure(c, workers);
      const rate = encoded / seconds;
      const cells = [c.data, c.schemaName, workers, encoded.toLocaleString('en-US'), seconds.toFixed(2), Math.round(rate).toLocaleString('en-US'), Math.round(rate / workers).toLocaleString('en-US')];
      console.log(`| ${cells.join(' | ')} |`);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}

await main();
