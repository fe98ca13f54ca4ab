// Measures single-thread CSV throughput (chunk + parse) on 1,000,000 synthetic person rows,
// to check the reader leaves headroom for the 300k records/s end-to-end encoding target.
import { CsvChunker, parseCsvBatch, type CsvBatch, type CsvDialect } from '../src/csv/index.js';
import { seededRandom as mulberry32 } from '../src/random.js';

const ROWS = 1_000_000;
const READ_CHUNK = 1 << 20;
const MAX_RECORDS = 4096;
const RUNS = 5;

// A few accented names keep UTF-8 decoding honest: V8 decodes non-ASCII text much slower.
const GIVEN = ['olivia', 'jack', 'charlotte', 'william', 'amelia', 'noah', 'isla', 'oliver']
  .concat(['mia', 'léa', 'zoë', 'thomas']);
const SURNAME = ['smith', 'jones', 'williams', 'brown', 'wilson', 'taylor', 'nguyen', 'martin']
  .concat(["o'brien", 'müller']);
const STREET = ['george street', 'main road', 'high street', 'church street', 'station road'];
const SUBURB = ['richmond', 'carlton', 'fitzroy', 'brunswick', 'kingston', 'st kilda', 'newtown'];
const STATE = ['nsw', 'vic', 'qld', 'wa', 'sa', 'tas', 'act', 'nt'];

function generate(rows: number): Uint8Array {
  const rnd = mulberry32(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const lines = [
    'rec_id,given_name,surname,street_number,address_1,suburb,postcode,state,date_of_birth',
  ];
  const num = (lo: number, span: number, width = 1): string =>
    String(lo + Math.floor(rnd() * span)).padStart(width, '0');
  for (let i = 0; i < rows; i++) {
    // About 1% of addresses carry a comma and must be quoted, as in real extracts.
    const street = pick(STREET);
    const address = rnd() < 0.01 ? `"unit ${num(1, 40)}, ${street}"` : street;
    const dob = `${num(1930, 80)}${num(1, 12, 2)}${num(1, 28, 2)}`;
    lines.push(
      [
        `rec-${i}-org`,
        pick(GIVEN),
        pick(SURNAME),
        num(1, 300),
        address,
        pick(SUBURB),
        num(2000, 7999),
        pick(STATE),
        dob,
      ].join(','),
    );
  }
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

/** Chunks and parses as a stream, the way one worker-less reader would; returns records seen. */
function chunkAndParse(data: Uint8Array, dialect: CsvDialect): number {
  const chunker = new CsvChunker({ maxRecords: MAX_RECORDS });
  let records = 0;
  let chars = 0;
  const onRecord = (fields: string[]): void => {
    records++;
    chars += fields[1].length;
  };
  const onError = (line: number, message: string): void => {
    throw new Error(`line ${line}: ${message}`);
  };
  const parse = (batches: CsvBatch[]): void => {
    for (const b of batches) parseCsvBatch(b.bytes, b.firstLine, dialect, onRecord, onError);
  };
  for (let off = 0; off < data.length; off += READ_CHUNK) {
    parse(chunker.push(data.subarray(off, off + READ_CHUNK)));
  }
  parse(chunker.end());
  if (chars === 0) throw new Error('no field data seen');
  return records;
}

/** Chunks only, to show the main thread's share. */
function chunkOnly(data: Uint8Array): number {
  const chunker = new CsvChunker({ maxRecords: MAX_RECORDS });
  let records = 0;
  for (let off = 0; off < data.length; off += READ_CHUNK) {
    for (const b of chunker.push(data.subarray(off, off + READ_CHUNK))) records += b.records;
  }
  for (const b of chunker.end()) records += b.records;
  return records;
}

function rate(records: number, ms: number): string {
  return `${Math.round((records / ms) * 1000).toLocaleString('en-US')} records/s`;
}

const data = generate(ROWS);
const mb = (data.length / 1e6).toFixed(1);
console.log(`${ROWS.toLocaleString('en-US')} rows, ${mb} MB, ${MAX_RECORDS} records per batch`);
for (let run = 1; run <= RUNS; run++) {
  const t0 = performance.now();
  const records = chunkOnly(data);
  console.log(`chunk only, run ${run}: ${rate(records, performance.now() - t0)}`);
}
for (const trim of [false, true]) {
  for (let run = 1; run <= RUNS; run++) {
    const t0 = performance.now();
    const records = chunkAndParse(data, { delimiter: ',', trim });
    const ms = performance.now() - t0;
    if (records !== ROWS + 1) throw new Error(`expected ${ROWS + 1} records, got ${records}`);
    console.log(`chunk+parse trim=${trim}, run ${run}: ${ms.toFixed(0)} ms, ${rate(records, ms)}`);
  }
}
