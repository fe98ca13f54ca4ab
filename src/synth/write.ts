// Writes registry.csv, requests.csv and truth.csv for `blindlink synth`, streaming: each row is
// regenerated from (seed, row) on demand, so memory holds two index arrays and never the rows.
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { WriteStream } from 'node:fs';
import { UserError } from '../errors.js';
import { assertWritable, writeAtomically, writeChunk } from '../io/atomic-file.js';
import { startProgress } from '../progress.js';
import { corruptPerson, type CorruptionRates } from './corrupt.js';
import { drawNamesake, drawPerson, drawRelative, PERSON_COLUMNS, type Person } from './people.js';
import { Random, STREAM } from './random.js';
import { loadVocabulary, type Vocabulary } from './vocabulary.js';

export interface SynthOptions {
  /** Registry rows (N). */
  registry: number;
  /** Request rows (M). */
  requests: number;
  /** Fraction of requests that are registry members; round(overlap * requests) of them. */
  overlap: number;
  /** Unsigned 32-bit seed; the same seed and options give byte-identical files. */
  seed: number;
  outDir: string;
  /** Applied to every request, member or not, so data quality does not reveal membership. */
  rates: Readonly<CorruptionRates>;
  /** Fraction of non-member requests sharing a surname and city with a registry person. */
  namesakeRate: number;
  /** Fraction of non-member requests that are relatives at a registry person's address. */
  relativeRate: number;
}

export interface SynthSummary {
  registryPath: string;
  requestsPath: string;
  truthPath: string;
  registryRows: number;
  requestRows: number;
  members: number;
  namesakes: number;
  relatives: number;
  seconds: number;
}

export const MAX_ROWS = 100_000_000;
export const HEADER = `record_id,${PERSON_COLUMNS.join(',')}\n`;
export const TRUTH_HEADER = 'request_row,registry_row\n';
const CHUNK_CHARS = 1 << 16;

/** Number of requests drawn from the registry. */
export function memberCount(requests: number, overlap: number): number {
  return Math.round(overlap * requests);
}

/**
 * `count` distinct indices in [0, total), ascending, each subset equally likely (Knuth's
 * selection sampling, Algorithm S): one pass, no set of already chosen indices.
 */
export function chooseMembers(total: number, count: number, rng: Random): Uint32Array {
  const chosen = new Uint32Array(count);
  let taken = 0;
  for (let i = 0; i < total && taken < count; i++) {
    if (rng.float() * (total - i) < count - taken) chosen[taken++] = i;
  }
  return chosen;
}

/** The registry's row `index` for this seed. */
export function registryPerson(seed: number, index: number, vocab: Vocabulary): Person {
  return drawPerson(Random.forKey(seed, STREAM.registry, index), vocab);
}

function digits(n: number): number {
  return String(Math.max(0, n)).length;
}

// Request ids are an affine bijection of the row on [0, 10^width): unique and random-looking,
// and the row order is shuffled anyway, so neither reveals membership.
function requestIdMaker(rows: number, seed: number): (row: number) => string {
  const width = Math.max(7, digits(rows - 1));
  const modulus = 10 ** width;
  const multiplier = 2654435761; // ends in 1: coprime to 10, so the map is a bijection
  const high = Math.floor(multiplier / 65536);
  const low = multiplier % 65536;
  const offset = Random.forKey(seed, STREAM.sampling, 2).int(modulus);
  return (row) => {
    // Split multiplication: every intermediate stays below 2^53.
    const scrambled = ((((row * high) % modulus) * 65536 + row * low + offset) % modulus);
    return `Q${String(scrambled).padStart(width, '0')}`;
  };
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(id: string, p: Person): string {
  return `${id},${csvField(p.givenName)},${csvField(p.middleName)},${csvField(p.surname)},${p.dateOfBirth},${csvField(p.streetAddress)},${csvField(p.city)},${p.state},${p.zip}\n`;
}

function shuffledRows(count: number, rng: Random): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/** Throws UserError (exit 2) for options that cannot describe a population. */
export function checkSynthOptions(options: SynthOptions): void {
  const usage = (message: string): never => {
    throw new UserError(message, 2);
  };
  if (!Number.isInteger(options.registry) || options.registry < 1 || options.registry > MAX_ROWS) usage(`--registry must be an integer between 1 and ${MAX_ROWS}`);
  if (!Number.isInteger(options.requests) || options.requests < 1 || options.requests > MAX_ROWS) usage(`--requests must be an integer between 1 and ${MAX_ROWS}`);
  const members = memberCount(options.requests, options.overlap);
  if (members > options.registry) {
    usage(`--overlap ${options.overlap} of ${options.requests} requests needs ${members} registry members but --registry is ${options.registry}`);
  }
  if (options.namesakeRate + options.relativeRate > 1) usage('--namesake-rate plus --relative-rate must not exceed 1');
}

async function writeRegistry(out: WriteStream, options: SynthOptions, vocab: Vocabulary): Promise<void> {
  const width = Math.max(7, digits(options.registry - 1));
  const progress = startProgress('registry', 'rows');
  let chunk = HEADER;
  for (let i = 0; i < options.registry; i++) {
    chunk += csvLine(`T${String(i).padStart(width, '0')}`, registryPerson(options.seed, i, vocab));
    if (chunk.length >= CHUNK_CHARS) {
      await writeChunk(out, chunk);
      chunk = '';
      progress.update(i + 1, (i + 1) / options.registry);
    }
  }
  await writeChunk(out, chunk);
  progress.finish();
}

interface RequestPlan {
  members: Uint32Array;
  /** order[row] < members.length: a member; otherwise non-member number order[row] - members.length. */
  order: Uint32Array;
  namesakes: number;
  relatives: number;
}

function planRequests(options: SynthOptions): RequestPlan {
  const members = chooseMembers(options.registry, memberCount(options.requests, options.overlap), Random.forKey(options.seed, STREAM.sampling, 0));
  const outsiders = options.requests - members.length;
  return {
    members,
    order: shuffledRows(options.requests, Random.forKey(options.seed, STREAM.sampling, 1)),
    namesakes: Math.round(options.namesakeRate * outsiders),
    relatives: Math.round(options.relativeRate * outsiders),
  };
}

function requestPerson(row: number, plan: RequestPlan, options: SynthOptions, vocab: Vocabulary): Person {
  const slot = plan.order[row];
  if (slot < plan.members.length) return registryPerson(options.seed, plan.members[slot], vocab);
  const outsider = slot - plan.members.length;
  if (outsider >= plan.namesakes + plan.relatives) return drawPerson(Random.forKey(options.seed, STREAM.outsider, row), vocab);
  // The base may itself be a member: a relative of someone asked about is the hardest non-match.
  const rng = Random.forKey(options.seed, STREAM.close, row);
  const base = registryPerson(options.seed, rng.int(options.registry), vocab);
  return outsider < plan.namesakes ? drawNamesake(rng, vocab, base) : drawRelative(rng, vocab, base);
}

async function writeRequests(requestsOut: WriteStream, truthOut: WriteStream, plan: RequestPlan, options: SynthOptions, vocab: Vocabulary): Promise<void> {
  const requestId = requestIdMaker(options.requests, options.seed);
  const progress = startProgress('requests', 'rows');
  let requests = HEADER;
  let truth = TRUTH_HEADER;
  for (let row = 0; row < options.requests; row++) {
    const person = requestPerson(row, plan, options, vocab);
    const corrupted = corruptPerson(person, options.rates, Random.forKey(options.seed, STREAM.corrupt, row), vocab);
    requests += csvLine(requestId(row), corrupted);
    const slot = plan.order[row];
    if (slot < plan.members.length) truth += `${row},${plan.members[slot]}\n`;
    if (requests.length >= CHUNK_CHARS) {
      await writeChunk(requestsOut, requests);
      await writeChunk(truthOut, truth);
      requests = '';
      truth = '';
      progress.update(row + 1, (row + 1) / options.requests);
    }
  }
  await writeChunk(requestsOut, requests);
  await writeChunk(truthOut, truth);
  progress.finish();
}

/**
 * Writes `registry.csv`, `requests.csv` and `truth.csv` into `options.outDir` (created if
 * missing). Each file goes to a temporary name first; if any step fails, none of the three is left.
 *
 * @example await synthesize({ registry: 1000, requests: 100, overlap: 0.5, seed: 7, outDir: 'out',
 *   rates: DEFAULT_CORRUPTION, namesakeRate: 0.1, relativeRate: 0.1 });
 */
export async function synthesize(options: SynthOptions): Promise<SynthSummary> {
  checkSynthOptions(options);
  const started = performance.now();
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (error) {
    throw new UserError(`${options.outDir}: cannot create output folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const registryPath = join(options.outDir, 'registry.csv');
  const requestsPath = join(options.outDir, 'requests.csv');
  const truthPath = join(options.outDir, 'truth.csv');
  for (const path of [registryPath, requestsPath, truthPath]) await assertWritable(path);
  const vocab = await loadVocabulary();
  const plan = planRequests(options);
  const finished: string[] = [];
  try {
    // Nested so the registry is renamed last, after requests and truth are complete.
    await writeAtomically(registryPath, async (registryOut) => {
      await writeRegistry(registryOut, options, vocab);
      await writeAtomically(requestsPath, async (requestsOut) => {
        await writeAtomically(truthPath, (truthOut) => writeRequests(requestsOut, truthOut, plan, options, vocab));
        finished.push(truthPath);
      });
      finished.push(requestsPath);
    });
  } catch (error) {
    await Promise.all(finished.map((path) => unlink(path).catch(() => undefined)));
    throw error;
  }
  return {
    registryPath,
    requestsPath,
    truthPath,
    registryRows: options.registry,
    requestRows: options.requests,
    members: plan.members.length,
    namesakes: plan.namesakes,
    relatives: plan.relatives,
    seconds: (performance.now() - started) / 1000,
  };
}
