// CSV reading: CsvChunker cuts bytes into batches on the main thread, parseCsvBatch parses a
// batch (usually in a worker); readCsvRecords chains both on one thread for small files.
import { createReadStream } from 'node:fs';
import { inFile, UserError } from '../errors.js';
import { fsReason, hasCode } from '../io/fs-errors.js';
import { CsvChunker, type CsvBatch } from './chunker.js';
import { parseCsvBatch, type CsvDialect } from './parse.js';

export { CsvChunker, type CsvBatch, type CsvChunkerOptions } from './chunker.js';
export {
  checkDialect,
  parseCsvBatch,
  type CsvDialect,
  type CsvErrorHandler,
  type CsvRecordHandler,
} from './parse.js';

export interface CsvRecord {
  fields: string[];
  /** 1-based physical line where the record starts. */
  line: number;
}

const READ_CHUNK_BYTES = 1 << 20;
const BATCH_RECORDS = 4096;

/**
 * Yields every record of the file, header first, each with its own fields array. Throws a
 * UserError naming the file and line at the first malformed record.
 */
export async function* readCsvRecords(
  path: string,
  dialect: CsvDialect,
): AsyncGenerator<CsvRecord> {
  const chunker = new CsvChunker({ maxRecords: BATCH_RECORDS, dialect });
  const parse = (batches: readonly CsvBatch[]): CsvRecord[] => {
    const records: CsvRecord[] = [];
    for (const batch of batches) {
      // The first malformed record in file order: one the chunker dropped, or one the parser found.
      let first: { line: number; message: string } | null = batch.bad[0] ?? null;
      parseCsvBatch(
        batch.bytes,
        batch.firstLine,
        dialect,
        (fields, line) => records.push({ fields: fields.slice(), line }),
        (line, message) => {
          if (first === null || line < first.line) first = { line, message };
        },
      );
      if (first !== null) throw inFile(path, `line ${first.line}: ${first.message}`);
    }
    return records;
  };
  // Chunker errors say "line N: ..."; prefix the file name like the parser errors above.
  const cut = (chunk: Uint8Array | null): CsvBatch[] => {
    try {
      return chunk === null ? chunker.end() : chunker.push(chunk);
    } catch (err) {
      throw err instanceof UserError ? inFile(path, err.message) : err;
    }
  };
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield* parse(cut(chunk));
    yield* parse(cut(null));
  } catch (err) {
    if (hasCode(err)) throw inFile(path, `cannot read (${fsReason(err)})`);
    throw err;
  } finally {
    stream.destroy();
  }
}
