// Cuts a CSV byte stream into batches of whole records on the main thread, without decoding,
// so that worker threads can parse the batches in parallel and still report exact line numbers.
import { Buffer } from 'node:buffer';
import { UserError } from '../errors.js';

/** A run of complete records, copied out of the stream so it can be transferred to a worker. */
export interface CsvBatch {
  /** Whole records only, each ending in LF except possibly the file's last one. */
  bytes: Uint8Array;
  /** 1-based physical line (every LF counts, even inside quotes) where the first record starts. */
  firstLine: number;
  /** Records in `bytes`, blank lines included (the parser skips those). */
  records: number;
}

export interface CsvChunkerOptions {
  /** Records per batch; the last batch of the file may hold fewer. */
  maxRecords: number;
  /** Longest record accepted, in bytes; guards memory against a quote that is never closed. */
  maxRecordBytes?: number;
}

const LF = 10;
const QUOTE = 34;
const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
const MIN_CARRY_CAPACITY = 1 << 16;

/**
 * Feed it the file's bytes in any chunk sizes; it returns full batches as soon as they are
 * complete, and `end()` returns whatever is left. The header is simply the first record of the
 * first batch. A thrown error leaves the chunker unusable.
 */
export class CsvChunker {
  private readonly maxRecords: number;
  private readonly maxRecordBytes: number;
  // Bytes of the pending batch carried over from earlier chunks: complete records, then the
  // partial record. Reused across batches so a long file costs no per-chunk allocations.
  private carry = new Uint8Array(0);
  private carryLen = 0;
  private carryRecords = 0;
  private partialStart = 0;
  private inQuote = false;
  private line = 1;
  private batchLine = 1;
  private recordLine = 1;
  private ended = false;

  constructor(options: CsvChunkerOptions) {
    const { maxRecords, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES } = options;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
    }
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1) {
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${maxRecordBytes}`);
    }
    this.maxRecords = maxRecords;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Scans `chunk`; the chunk is not retained, so the caller may reuse its buffer. */
  push(chunk: Uint8Array): CsvBatch[] {
    if (this.ended) throw new Error('CsvChunker.push() called after end()');
    const out: CsvBatch[] = [];
    const n = chunk.length;
    const maxRecords = this.maxRecords;
    let records = this.carryRecords;
    let inQuote = this.inQuote;
    let line = this.line;
    let recordLine = this.recordLine;
    // Start of the partial record relative to `chunk`; negative while it lies in the carry.
    let recordStart = this.partialStart - this.carryLen;
    // chunk[segStart..] is the part of the chunk that belongs to the pending batch.
    let segStart = 0;
    let pos = 0;
    // Cached positions of the next quote and LF: -1 means none left in the chunk, -2 not yet
    // searched. The cache keeps scans linear when one of them is rare or absent.
    let nextQuote = -2;
    let nextLf = -2;

    // Buffer#indexOf is a native byte search: several times faster than Uint8Array#indexOf or a JS
    // byte loop, and this scan is the main thread's whole share of the CSV work.
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, n);

    while (pos < n) {
      if (nextLf !== -1 && nextLf < pos) nextLf = buf.indexOf(LF, pos);
      if (inQuote) {
        const close = buf.indexOf(QUOTE, pos);
        const stop = close === -1 ? n : close;
        while (nextLf !== -1 && nextLf < stop) {
          line++;
          nextLf = buf.indexOf(LF, nextLf + 1);
        }
        if (close === -1) break;
        inQuote = false;
        pos = close + 1;
        continue;
      }
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buf.indexOf(QUOTE, pos);
      const lf = nextLf;
      if (nextQuote !== -1 && (lf === -1 || nextQuote < lf)) {
        inQuote = true;
        pos = nextQuote + 1;
        continue;
      }
      if (lf === -1) break;
      if (lf - recordStart > this.maxRecordBytes) throw this.tooLong(recordLine);
      line++;
      records++;
      pos = lf + 1;
      recordStart = pos;
      recordLine = line;
      if (records === maxRecords) {
        out.push(this.emit(chunk, segStart, pos, records));
        this.batchLine = line;
        segStart = pos;
        records = 0;
      }
    }

    if (n - recordStart > this.maxRecordBytes) throw this.tooLong(recordLine);
    const keptFrom = this.carryLen;
    this.append(chunk, segStart, n);
    this.partialStart = keptFrom + (recordStart - segStart);
    this.carryRecords = records;
    this.inQuote = inQuote;
    this.line = line;
    this.recordLine = recordLine;
    return out;
  }

  /** Flushes the last batch, including a final record that lacks its newline. */
  end(): CsvBatch[] {
    if (this.ended) return [];
    this.ended = true;
    const records = this.carryRecords + (this.carryLen > this.partialStart ? 1 : 0);
    if (records === 0) return [];
    const bytes = this.carry.slice(0, this.carryLen);
    this.carry = new Uint8Array(0);
    this.carryLen = 0;
    return [{ bytes, firstLine: this.batchLine, records }];
  }

  private emit(chunk: Uint8Array, from: number, to: number, records: number): CsvBatch {
    const bytes = new Uint8Array(this.carryLen + (to - from));
    if (this.carryLen > 0) bytes.set(this.carry.subarray(0, this.carryLen));
    bytes.set(chunk.subarray(from, to), this.carryLen);
    this.carryLen = 0;
    return { bytes, firstLine: this.batchLine, records };
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const len = to - from;
    if (len === 0) return;
    const need = this.carryLen + len;
    if (need > this.carry.length) {
      // Doubling keeps byte-at-a-time input linear instead of quadratic.
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2, MIN_CARRY_CAPACITY));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(chunk.subarray(from, to), this.carryLen);
    this.carryLen = need;
  }

  private tooLong(line: number): UserError {
    return new UserError(
      `line ${line}: record longer than ${this.maxRecordBytes} bytes (unterminated quote?)`,
    );
  }
}
