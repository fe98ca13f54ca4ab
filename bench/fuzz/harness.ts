// The fuzz harness: a seed corpus with canary values planted in every record and in the secret,
// cases that mutate one input and run one command, and the oracle every case must pass. Most cases
// run the library in process (milliseconds each); a sample runs the real CLI in a child process
// (about 0.3 s each), which alone shows exit codes, stderr and files left behind.
//
// The oracle, for every case:
//   - it ends within the time bound (a child still running is killed: a hang is a failure);
//   - CLI: exit 0, 1 or 2, never a signal; in process: success or a UserError, nothing else;
//   - on failure, exactly one line on stderr besides warnings (lines starting "blindlink: warning:"),
//     starting "blindlink: ", and no stack trace; on success, only warnings on stderr;
//   - on failure, no output file created and nothing new in the output folder (no partials);
//   - no canary (a record value or the secret) in stdout, stderr, messages or output files.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { popcounts } from '../../src/bits.js';
import { fileStatistics, fileWarnings } from '../../src/cli/inspect-command.js';
import { CsvChunker, parseCsvBatch } from '../../src/csv/index.js';
import { recordEncoder } from '../../src/encoder.js';
import { UserError } from '../../src/errors.js';
import { readTruth, readPairs } from '../../src/evaluate/read.js';
import { deriveHardeningKey } from '../../src/harden.js';
import { readEncodedFile, writeEncodedBatches, writeEncodedFile } from '../../src/io/encoded-file.js';
import { deriveFieldKeys } from '../../src/keys.js';
import { InvalidValue, makePreparer } from '../../src/prepare.js';
import { seededRandom } from '../../src/random.js';
import { loadSchema } from '../../src/schema/load.js';
import { packagePath } from '../../src/worker-path.js';
import { mutateBytes, mutateCsv, mutateEncoding, mutateJson, type Mutation, type Random } from './mutate.js';

const CLI = packagePath('dist/src/cli/main.js');
const HEADER = ['record_id', 'given_name', 'middle_name', 'surname', 'date_of_birth', 'street_address', 'city', 'state', 'zip'];

export interface Corpus {
  dir: string;
  /** Strings that must never appear in any output: every planted record value, and the secret. */
  canaries: string[];
  secretHex: string;
  files: Record<'csv' | 'native' | 'clkhash' | 'inputArrow' | 'encoded' | 'encodedIds' | 'clkJson' | 'truth' | 'pairs' | 'secret', string>;
}

export interface Finding {
  target: string;
  seed: number;
  index: number;
  did: string;
  problem: string;
  /** The mutated input, kept for reproduction. */
  input: string;
}

/** Builds the seed corpus in `dir`: valid inputs of every kind, canaries in every text field. */
export async function buildCorpus(dir: string, seed: number): Promise<Corpus> {
  mkdirSync(dir, { recursive: true });
  const random = seededRandom(seed);
  const token = (): string => Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0');
  const canaries: string[] = [];
  const canary = (kind: string): string => {
    const value = `Cq${kind}${token()}`;
    canaries.push(value);
    return value;
  };
  const rows: string[][] = [];
  for (let i = 0; i < 12; i++) {
    const street = `${10 + i} ${canary('st')} Street`;
    rows.push([`R${canary('id')}`, canary('gn'), i % 3 === 0 ? '' : canary('mn'), canary('sn'), `${1 + (i % 12)}/${1 + i}/19${50 + i}`, i % 4 === 0 ? `"${street}, Apt ${i}"` : street, canary('ct'), 'IL', String(60601 + i)]);
  }
  const csv = `${HEADER.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
  const secretHex = Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('');
  const files = {
    csv: join(dir, 'people.csv'),
    native: join(dir, 'native-schema.json'),
    clkhash: join(dir, 'clkhash-schema.json'),
    inputArrow: join(dir, 'people-input.arrow'),
    encoded: join(dir, 'encoded.arrow'),
    encodedIds: join(dir, 'encoded-ids.arrow'),
    clkJson: join(dir, 'encoded.json'),
    truth: join(dir, 'truth.csv'),
    pairs: join(dir, 'pairs.csv'),
    secret: join(dir, 'secret.key'),
  };
  writeFileSync(files.csv, csv);
  writeFileSync(files.native, readFileSync(packagePath('docs/examples/taxpayer-schema.json')));
  // The clkhash example, with a pattern on the state: patterns come from the other party.
  const clkhash = JSON.parse(readFileSync(packagePath('docs/examples/taxpayer-clkhash-schema.json'), 'utf8')) as { features: Array<{ identifier: string; format?: Record<string, unknown> }> };
  for (const feature of clkhash.features) if (feature.identifier === 'state' && feature.format) feature.format = { type: 'string', encoding: 'utf-8', pattern: '[A-Z]{2}' };
  writeFileSync(files.clkhash, JSON.stringify(clkhash, null, 2));
  const unquoted = rows.map((r) => r.map((cell) => cell.replace(/^"|"$/g, '')));
  writeFileSync(files.inputArrow, tableToIPC(tableFromArrays(Object.fromEntries(HEADER.map((name, c) => [name, unquoted.map((r) => r[c])]))), 'file'));
  const count = 12;
  const clks = new Uint8Array(count * 128);
  for (let i = 0; i < clks.length; i++) clks[i] = Math.floor(random() * 256);
  const metadata = { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits: 1024, recordCount: count, hardening: 'none' };
  await writeEncodedFile(files.encoded, { clks, popcounts: popcounts(clks, 128), ids: null, filterBits: 1024, metadata });
  await writeEncodedFile(files.encodedIds, { clks, popcounts: popcounts(clks, 128), ids: unquoted.map((r) => r[0]), filterBits: 1024, metadata });
  await writeEncodedBatches(files.clkJson, [{ clks, popcounts: popcounts(clks, 128), ids: null }], 1024, metadata);
  writeFileSync(files.truth, 'request_row,registry_row\n0,0\n1,1\n2,5\n');
  writeFileSync(files.pairs, 'index_a,index_b,score\n0,0,0.95\n1,1,0.9\n2,3,0.81\n');
  writeFileSync(files.secret, `${secretHex}\n`);
  canaries.push(secretHex);
  return { dir, canaries, secretHex, files };
}

function leaks(text: string, corpus: Corpus): string | null {
  const lower = text.toLowerCase();
  return corpus.canaries.find((canary) => lower.includes(canary.toLowerCase())) ?? null;
}

/** The in-process oracle for a library call: success or one UserError of one clean line. */
async function inProcess(run: () => Promise<string[]>, corpus: Corpus, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), timeoutMs)));
  try {
    const outcome = await Promise.race([run(), bound]);
    if (outcome === 'hang') return `no answer within ${timeoutMs} ms`;
    for (const text of outcome) {
      const leaked = leaks(text, corpus);
      if (leaked !== null) return `output holds a canary: ${text.slice(0, 120)}`;
    }
    return null;
  } catch (error) {
    if (!(error instanceof UserError)) return `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`.slice(0, 300);
    if (/[\n\r]/.test(error.message)) return 'a message of more than one line';
    if (leaks(error.message, corpus) !== null) return `message holds a canary: ${error.message.slice(0, 160)}`;
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Encodes parsed records with a plan, in process: what a worker does, checked for leaks. */
function encodeRecords(plan: Awaited<ReturnType<typeof loadSchema>>, records: string[][], header: string[], secret: Uint8Array): string[] {
  const keys = deriveFieldKeys(secret, plan.kdf);
  const encoder = recordEncoder(plan, keys, deriveHardeningKey(secret, plan.kdf));
  const out = new Uint8Array(encoder.width);
  const columns = plan.fields.map((field) => header.indexOf(field.column));
  const texts: string[] = [];
  for (const record of records) {
    for (const field of plan.fields) {
      const prepared = makePreparer(field)(record[header.indexOf(field.column)] ?? '');
      if (prepared instanceof InvalidValue) texts.push(prepared.reason);
    }
    const result = encoder.encode(columns.map((c) => record[c] ?? ''), out, 0);
    if (typeof result !== 'number') texts.push(`field ${result.field}: ${result.reason}`);
  }
  return texts;
}

function parseAll(bytes: Uint8Array, random: Random): { records: string[][]; messages: string[] } {
  const chunker = new CsvChunker({ maxRecords: 1 + Math.floor(random() * 8) });
  const records: string[][] = [];
  const messages: string[] = [];
  const batches = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * 4096);
    batches.push(...chunker.push(bytes.subarray(at, at + size)));
    at += size;
  }
  batches.push(...chunker.end());
  for (const batch of batches) {
    for (const bad of batch.bad) messages.push(bad.message);
    parseCsvBatch(batch.bytes, batch.firstLine, { delimiter: ',', trim: false }, (fields) => records.push(fields.slice()), (_line, message) => messages.push(message));
  }
  return { records, messages };
}

type InProcessTarget = 'schema' | 'encoded' | 'csv' | 'truth';

/** One in-process case: mutate one input, run the library over it, judge. */
export async function runInProcessCase(corpus: Corpus, seed: number, index: number, timeoutMs = 10_000): Promise<Finding | null> {
  const random = seededRandom((seed * 100_003 + index) >>> 0);
  const target = (['schema', 'encoded', 'csv', 'truth'] as const)[index % 4] as InProcessTarget;
  const secret = new TextEncoder().encode(corpus.secretHex);
  const file = join(corpus.dir, `case-${index}`);
  let mutation: Mutation;
  let run: () => Promise<string[]>;
  if (target === 'schema') {
    const source = readFileSync(random() < 0.5 ? corpus.files.native : corpus.files.clkhash, 'utf8');
    mutation = random() < 0.6 ? mutateJson(source, random) : random() < 0.5 ? mutateEncoding(source, random) : mutateBytes(new TextEncoder().encode(source), random);
    run = async () => {
      const plan = await loadSchema(file);
      const { records } = parseAll(readFileSync(corpus.files.csv), random);
      return encodeRecords(plan, records.slice(1), records[0], secret);
    };
  } else if (target === 'encoded') {
    const source = random() < 0.15 ? corpus.files.clkJson : random() < 0.5 ? corpus.files.encodedIds : corpus.files.encoded;
    const bytes = readFileSync(source);
    mutation = source.endsWith('.json') && random() < 0.5 ? mutateJson(bytes.toString('utf8'), random) : mutateBytes(bytes, random);
    run = async () => {
      const read = await readEncodedFile(file);
      return [JSON.stringify(fileStatistics(read)), ...fileWarnings(read), JSON.stringify(read.metadata)];
    };
  } else if (target === 'csv') {
    const source = readFileSync(corpus.files.csv, 'utf8');
    mutation = random() < 0.5 ? mutateCsv(source, random) : random() < 0.5 ? mutateEncoding(source, random) : mutateBytes(new TextEncoder().encode(source), random);
    run = async () => {
      const { records, messages } = parseAll(readFileSync(file), random);
      const plan = await loadSchema(corpus.files.native);
      return [...messages, ...encodeRecords(plan, records.slice(1), HEADER, secret)];
    };
  } else {
    const source = readFileSync(random() < 0.5 ? corpus.files.truth : corpus.files.pairs, 'utf8');
    mutation = random() < 0.5 ? mutateCsv(source, random) : mutateBytes(new TextEncoder().encode(source), random);
    run = async () => {
      const truth = await readTruth(file);
      await readPairs(file, truth, 'requests').catch((error: unknown) => {
        if (!(error instanceof UserError)) throw error;
      });
      return [];
    };
  }
  writeFileSync(file, mutation.bytes);
  const problem = await inProcess(run, corpus, timeoutMs);
  return problem === null ? null : { target, seed, index, did: mutation.did, problem, input: file };
}

type CliTarget = 'encode-csv' | 'encode-schema' | 'encode-arrow' | 'encode-secret' | 'inspect' | 'match' | 'evaluate';
const CLI_TARGETS: readonly CliTarget[] = ['encode-csv', 'encode-schema', 'encode-arrow', 'encode-secret', 'inspect', 'match', 'evaluate'];

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

/** What is wrong with a CLI run, or null. */
export function judgeCli(run: CliRun, corpus: Corpus, outputs: { dir: string; before: string[]; target: string | null }, timeoutMs: number): string | null {
  if (run.hung) return `still running after ${timeoutMs} ms`;
  if (run.signal !== null) return `ended by ${run.signal}`;
  if (run.code !== 0 && run.code !== 1 && run.code !== 2) return `exit code ${run.code}: ${run.stderr.slice(0, 200)}`;
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  const errors = lines.filter((line) => !line.startsWith('blindlink: warning: '));
  if (/^\s+at |node:internal|^\w*Error: /m.test(run.stderr)) return `stack trace: ${run.stderr.slice(0, 300)}`;
  if (run.code === 0 && errors.length > 0) return `exit 0 with errors on stderr: ${errors[0].slice(0, 200)}`;
  if (run.code !== 0) {
    if (errors.length !== 1) return `${errors.length} error lines on stderr: ${run.stderr.slice(0, 300)}`;
    if (!errors[0].startsWith('blindlink: ') && run.code === 1) return `error line without the blindlink prefix: ${errors[0].slice(0, 200)}`;
    const after = readdirSync(outputs.dir).filter((name) => !outputs.before.includes(name));
    if (after.length > 0) return `failed but left ${after.join(', ')}`;
  }
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
    const leaked = leaks(text, corpus);
    if (leaked !== null) return `${where} holds a canary (${leaked})`;
  }
  if (run.code === 0 && outputs.target !== null) {
    const leaked = leaks(readFileSync(outputs.target).toString('latin1'), corpus);
    if (leaked !== null) return `the output file holds a canary (${leaked})`;
  }
  return null;
}

/** One CLI case: mutate one input, run one command in a child process, judge. */
export async function runCliCase(corpus: Corpus, seed: number, index: number, timeoutMs = 30_000): Promise<Finding | null> {
  const random = seededRandom((seed * 7_919 + index * 104_729 + 1) >>> 0);
  const target = CLI_TARGETS[index % CLI_TARGETS.length];
  const caseDir = join(corpus.dir, `cli-${index}`);
  mkdirSync(caseDir, { recursive: true });
  const input = join(caseDir, 'input');
  const out = join(caseDir, 'out.arrow');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.BLINDLINK_SECRET;
  let mutation: Mutation;
  let args: string[];
  let target_out: string | null = null;
  const csvText = readFileSync(corpus.files.csv, 'utf8');
  switch (target) {
    case 'encode-csv':
      mutation = random() < 0.6 ? mutateCsv(csvText, random) : random() < 0.5 ? mutateEncoding(csvText, random) : mutateBytes(new TextEncoder().encode(csvText), random);
      args = ['encode', '--schema', random() < 0.7 ? corpus.files.native : corpus.files.clkhash, '--secret-file', corpus.files.secret, '--in', input, '--out', out, '--workers', '1'];
      if (random() < 0.4) args.push('--on-error', 'skip');
      target_out = out;
      break;
    case 'encode-schema': {
      const source = readFileSync(random() < 0.5 ? corpus.files.native : corpus.files.clkhash, 'utf8');
      mutation = random() < 0.7 ? mutateJson(source, random) : mutateBytes(new TextEncoder().encode(source), random);
      args = ['encode', '--schema', input, '--secret-file', corpus.files.secret, '--in', corpus.files.csv, '--out', out, '--workers', '1'];
      target_out = out;
      break;
    }
    case 'encode-arrow':
      mutation = mutateBytes(readFileSync(corpus.files.inputArrow), random);
      args = ['encode', '--schema', corpus.files.native, '--secret-file', corpus.files.secret, '--in', `${input}.arrow`, '--out', out, '--workers', '1'];
      target_out = out;
      break;
    case 'encode-secret':
      mutation = mutateBytes(readFileSync(corpus.files.secret), random);
      args = ['encode', '--schema', corpus.files.native, '--secret-file', input, '--in', corpus.files.csv, '--out', out, '--workers', '1'];
      target_out = out;
      break;
    case 'inspect':
      mutation = mutateBytes(readFileSync(random() < 0.5 ? corpus.files.encodedIds : corpus.files.clkJson), random);
      args = ['inspect', input, ...(random() < 0.5 ? ['--json'] : [])];
      break;
    case 'match':
      mutation = mutateBytes(readFileSync(corpus.files.encoded), random);
      args = ['match', input, corpus.files.encoded, '--threshold', random() < 0.5 ? '0.9' : '0.5', '--workers', '1', ...(random() < 0.3 ? ['--reveal', 'histogram'] : [])];
      break;
    default:
      mutation = random() < 0.5 ? mutateCsv(readFileSync(corpus.files.pairs, 'utf8'), random) : mutateBytes(readFileSync(corpus.files.pairs), random);
      args = ['evaluate', '--truth', corpus.files.truth, '--pairs', input, '--plot', join(caseDir, 'plot.svg')];
      break;
  }
  const written = target === 'encode-arrow' ? `${input}.arrow` : input;
  writeFileSync(written, mutation.bytes);
  const before = readdirSync(caseDir);
  const run = await runCli(args, env, timeoutMs);
  const problem = judgeCli(run, corpus, { dir: caseDir, before, target: target_out !== null && run.code === 0 ? target_out : null }, timeoutMs);
  return problem === null ? null : { target, seed, index, did: mutation.did, problem, input: written };
}

export interface FuzzReport {
  seed: number;
  inProcessCases: number;
  cliCases: number;
  seconds: number;
  findings: Finding[];
}

/** Runs `inProcessCases` library cases, then `cliCases` CLI cases `concurrency` at a time. */
export async function fuzz(corpus: Corpus, options: { seed: number; inProcessCases: number; cliCases: number; concurrency?: number; timeoutMs?: number }): Promise<FuzzReport> {
  const started = performance.now();
  const findings: Finding[] = [];
  for (let i = 0; i < options.inProcessCases; i++) {
    const finding = await runInProcessCase(corpus, options.seed, i, options.timeoutMs);
    if (finding) findings.push(finding);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.cliCases) {
      const finding = await runCliCase(corpus, options.seed, next++, options.timeoutMs);
      if (finding) findings.push(finding);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker));
  return { seed: options.seed, inProcessCases: options.inProcessCases, cliCases: options.cliCases, seconds: (performance.now() - started) / 1000, findings };
}
