// Readers for evaluate's two inputs: truth.csv (request_row,registry_row, as `synth` writes it) and
// a pairs file (index_a,index_b,score, as `match --reveal pairs` writes it), validated line by line.
import { inFile } from '../errors.js';
import { readCsvRecords, type CsvRecord } from '../csv/index.js';

/** Which match input the pairs' index_a counts rows of. */
export type SideA = 'requests' | 'registry';

/** True links as keys `request:registry`. */
export type Truth = ReadonlySet<string>;

export interface ScoredPairs {
  scores: Float64Array;
  /** 1 where the pair is in the truth. */
  correct: Uint8Array;
}

export function linkKey(requestRow: number, registryRow: number): string {
  return `${requestRow}:${registryRow}`;
}

const DIALECT = { delimiter: ',', trim: false };
const DECIMAL = /^[+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

interface Columns {
  indices: number[];
  width: number;
}

function headerColumns(path: string, header: CsvRecord | undefined, names: readonly string[]): Columns {
  const expected = names.join(',');
  if (header === undefined) throw inFile(path, `empty file; expected a header line "${expected}"`);
  const found = header.fields.map((field) => field.trim());
  const indices = names.map((name) => found.indexOf(name));
  if (indices.some((index) => index < 0)) {
    // Not the header as read: without a header row it would be a record's values.
    const missing = names.filter((name, i) => indices[i] < 0);
    throw inFile(path, `line ${header.line}: header must name the columns ${expected} (missing: ${missing.join(', ')})`);
  }
  return { indices, width: found.length };
}

function rowIndex(path: string, line: number, column: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw inFile(path, `line ${line}: ${column} must be a 0-based row index (a non-negative integer)`);
  }
  return value;
}

async function* dataRecords(path: string, names: readonly string[]): AsyncGenerator<{ values: string[]; line: number }> {
  const records = readCsvRecords(path, DIALECT);
  const first = await records.next();
  const columns = headerColumns(path, first.done === true ? undefined : first.value, names);
  for await (const record of records) {
    if (record.fields.length !== columns.width) {
      throw inFile(path, `line ${record.line}: expected ${columns.width} fields like the header, found ${record.fields.length}`);
    }
    yield { values: columns.indices.map((index) => record.fields[index].trim()), line: record.line };
  }
}

/**
 * Reads truth.csv: a header naming `request_row` and `registry_row`, then one line per true link.
 * Throws a UserError naming the file and line for a malformed or repeated line.
 */
export async function readTruth(path: string): Promise<Truth> {
  const truth = new Map<string, number>();
  for await (const { values, line } of dataRecords(path, ['request_row', 'registry_row'])) {
    const key = linkKey(rowIndex(path, line, 'request_row', values[0]), rowIndex(path, line, 'registry_row', values[1]));
    const previous = truth.get(key);
    if (previous !== undefined) throw inFile(path, `line ${line}: repeats the link on line ${previous}`);
    truth.set(key, line);
  }
  return new Set(truth.keys());
}

/**
 * Reads a pairs file (`index_a,index_b,score`; other columns are ignored) and marks each pair
 * correct or not against `truth`. `sideA` says whether index_a counts request or registry rows.
 */
export async function readPairs(path: string, truth: Truth, sideA: SideA): Promise<ScoredPairs> {
  const scores: number[] = [];
  const correct: number[] = [];
  const seen = new Map<string, number>();
  for await (const { values, line } of dataRecords(path, ['index_a', 'index_b', 'score'])) {
    const a = rowIndex(path, line, 'index_a', values[0]);
    const b = rowIndex(path, line, 'index_b', values[1]);
    const score = Number(values[2]);
    if (!DECIMAL.test(values[2]) || score > 1) throw inFile(path, `line ${line}: score must be a decimal number between 0 and 1`);
    const [request, registry] = sideA === 'requests' ? [a, b] : [b, a];
    const key = linkKey(request, registry);
    const previous = seen.get(key);
    if (previous !== undefined) throw inFile(path, `line ${line}: repeats the pair on line ${previous}`);
    seen.set(key, line);
    scores.push(score);
    correct.push(truth.has(key) ? 1 : 0);
  }
  return { scores: Float64Array.from(scores), correct: Uint8Array.from(correct) };
}
