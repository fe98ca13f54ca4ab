// Cuts a CSV byte stream into batches of whole records on the main thread, without decoding,
// so that worker threads can parse the batches in parallel and still report exact line numbers.
// It is also where broken quoting is caught: a record whose quotes are malformed (a quote inside an
// unquoted field, text after a closing quote, a quoted field never closed or too long) costs only
// its first line. That line is reported, left in the batch as a blank line (so line numbers stay
// right), and reading resumes at the next line: one stray quote no longer swallows the rows after
// it into one bad record.
import { Buffer } from 'node:buffer';
import type { CsvDialect } from './parse.js';

/** A record dropped for broken quoting: its first physical line, and why (never its content). */
export interface CsvBadRecord {
  line: number;
  message: string;
}

/** A run of complete records, copied out of the stream so it can be transferred to a worker. */
export interface CsvBatch {
  /** Whole records only, each ending in LF except possibly the file's last one. */
  bytes: Uint8Array;
  /** 1-based physical line (every LF counts, even inside quotes) where the first record starts. */
  firstLine: number;
  /** Records in `bytes`, blank lines (and dropped bad lines) included. */
  records: number;
  /** Lines inside this batch's span dropped for broken quoting; each is a blank line in `bytes`. */
  bad: CsvBadRecord[];
}

export interface CsvChunkerOptions {
  /** Records per batch; the last batch of the file may hold fewer. */
  maxRecords: number;
  /** Longest record accepted, in bytes; guards memory against a quote that is never closed. */
  maxRecordBytes?: number;
  /** A batch is cut early once it holds this many bytes, so long records cannot pile up gigabytes. */
  maxBatchBytes?: number;
  /** Delimiter and trimming, which decide where a quoted field may start; default comma, no trim. */
  dialect?: CsvDialect;
}

const LF = 10;
const CR = 13;
const QUOTE = 34;
const SPACE = 32;
const TAB = 9;
const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
const DEFAULT_MAX_BATCH_BYTES = 16 << 20;
const MIN_CAPACITY = 1 << 16;

// Where the scan stands inside the current record.
const UNQUOTED = 0; // in an unquoted field, or at the start of a field
const QUOTED = 1; // inside a quoted field
const CLOSING = 2; // at a quote inside a quoted field: an escaped quote or the closing one

/**
 * Feed it the file's bytes in any chunk sizes; it returns full batches as soon as they are
 * complete, and `end()` returns whatever is left. The header is simply the first record of the
 * first batch. Quoting follows RFC 4180 as parseCsvBatch reads it: a quoted field starts at the
 * start of a field (after blanks, with trim), and its closing quote is followed by the delimiter or
 * the end of the record (after blanks, with trim).
 */
export class CsvChunker {
  private readonly maxRecords: number;
  private readonly maxRecordBytes: number;
  private readonly maxBatchBytes: number;
  private readonly delimiter: number;
  private readonly trim: boolean;
  // Pending bytes: the current batch from batchStart, then the record being read.
  private buf = Buffer.alloc(0);
  private len = 0;
  /** File offset of buf[0], to recognise the file's first record (and its BOM). */
  private consumed = 0;
  private batchStart = 0;
  private batchLine = 1;
  private records = 0;
  /** Bad lines of the pending batch, as [from, to) ranges of buf left out of its bytes. */
  private holes: number[] = [];
  private bad: CsvBadRecord[] = [];
  private pos = 0;
  private line = 1;
  private recordStart = 0;
  private recordLine = 1;
  private state = UNQUOTED;
  /** A bad line longer than maxRecordBytes is being discarded until its LF. */
  private skipping = false;
  private ended = false;

  constructor(options: CsvChunkerOptions) {
    const { maxRecords, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES, maxBatchBytes = DEFAULT_MAX_BATCH_BYTES } = options;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
    }
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1) {
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${maxRecordBytes}`);
    }
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1) {
      throw new RangeError(`maxBatchBytes must be a positive integer, got ${maxBatchBytes}`);
    }
    this.maxRecords = maxRecords;
    this.maxRecordBytes = maxRecordBytes;
    this.maxBatchBytes = maxBatchBytes;
    this.delimiter = (options.dialect?.delimiter ?? ',').charCodeAt(0);
    this.trim = options.dialect?.trim ?? false;
  }

  /** Scans `chunk`; the chunk is not retained, so the caller may reuse its buffer. */
  push(chunk: Uint8Array): CsvBatch[] {
    if (this.ended) throw new Error('CsvChunker.push() called after end()');
    let from = 0;
    if (this.skipping) {
      // Discard the rest of an over-long bad line; its LF stays, as the blank line it leaves.
      const lf = chunk.indexOf(LF);
      if (lf === -1) return [];
      this.skipping = false;
      from = lf;
    }
    this.append(chunk, from);
    const out: CsvBatch[] = [];
    this.run(false, out);
    return out;
  }

  /** Flushes the last batch, including a final record that lacks its newline. */
  end(): CsvBatch[] {
    if (this.ended) return [];
    this.ended = true;
    const out: CsvBatch[] = [];
    this.run(true, out);
    if (this.len > this.recordStart && !this.skipping) this.records++;
    if (this.records > 0 || this.bad.length > 0) out.push(this.emit(this.len));
    this.buf = Buffer.alloc(0);
    this.len = 0;
    return out;
  }

  /** Scans until the data runs out, resuming after each record dropped at the end of the data. */
  private run(final: boolean, out: CsvBatch[]): void {
    for (;;) {
      this.scan(final, out);
      if (this.skipping) return;
      if (final && this.state !== UNQUOTED && this.len > this.recordStart) {
        this.badRecord('unterminated quoted field', true, out);
      } else if (this.len - this.recordStart > this.maxRecordBytes) {
        this.badRecord(`record longer than ${this.maxRecordBytes} bytes (unterminated quote?)`, final, out);
      } else {
        return;
      }
    }
  }

  private append(chunk: Uint8Array, from: number): void {
    const n = chunk.length - from;
    if (n <= 0) return;
    if (this.len + n > this.buf.length && this.batchStart > 0) this.compact();
    if (this.len + n > this.buf.length) {
      // Doubling keeps byte-at-a-time input linear instead of quadratic.
      const grown = Buffer.allocUnsafe(Math.max(this.len + n, this.buf.length * 2, MIN_CAPACITY));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    this.buf.set(chunk.subarray(from), this.len);
    this.len += n;
  }

  /** Drops the bytes of batches already emitted from the front of the buffer. */
  private compact(): void {
    const shift = this.batchStart;
    this.buf.copy(this.buf, 0, shift, this.len);
    this.len -= shift;
    this.pos -= shift;
    this.recordStart -= shift;
    this.consumed += shift;
    this.batchStart = 0;
    for (let i = 0; i < this.holes.length; i++) this.holes[i] -= shift;
  }

  /**
   * Moves through the buffered bytes, ending records and emitting full batches. Without `final`,
   * it stops where the next byte decides (a closing quote at the end of the data) and waits.
   */
  private scan(final: boolean, out: CsvBatch[]): void {
    // A view of the data only: searches must not run into the spare capacity behind it.
    const buf = this.buf.subarray(0, this.len);
    const delimiter = this.delimiter;
    // Next LF and quote at or after pos (-1: none in the buffer, -2: not searched yet).
    let nextLf = -2;
    let nextQuote = -2;
    while (this.pos < this.len && !this.skipping) {
      const len = this.len;
      if (this.state === UNQUOTED) {
        if (nextLf !== -1 && nextLf < this.pos) nextLf = buf.indexOf(LF, this.pos);
        if (nextQuote !== -1 && nextQuote < this.pos) nextQuote = buf.indexOf(QUOTE, this.pos);
        if (nextQuote !== -1 && (nextLf === -1 || nextQuote < nextLf)) {
          if (this.atFieldStart(nextQuote)) {
            this.state = QUOTED;
            this.pos = nextQuote + 1;
          } else {
            this.badRecord('unexpected quote inside unquoted field', final, out);
            nextLf = nextQuote = -2;
          }
          continue;
        }
        if (nextLf === -1) {
          this.pos = len;
          break;
        }
        this.endRecord(nextLf + 1, final, out);
        if (this.pos !== nextLf + 1) nextLf = nextQuote = -2;
        continue;
      }
      if (this.state === QUOTED) {
        const close = buf.indexOf(QUOTE, this.pos);
        const stop = close === -1 ? len : close;
        for (let lf = buf.indexOf(LF, this.pos); lf !== -1 && lf < stop; lf = buf.indexOf(LF, lf + 1)) this.line++;
        this.pos = stop;
        if (close === -1) break;
        this.state = CLOSING;
      }
      // CLOSING: buf[pos] is a quote inside a quoted field.
      let k = this.pos + 1;
      if (k < len && buf[k] === QUOTE) {
        this.state = QUOTED;
        this.pos = k + 1;
        continue;
      }
      if (this.trim) while (k < len && (buf[k] === SPACE || buf[k] === TAB)) k++;
      if (k < len && buf[k] === CR && k + 1 >= len && !final) break;
      if (k >= len) {
        if (!final) break;
        // The file ends right after the closing quote: a last record without its newline.
        this.state = UNQUOTED;
        this.pos = len;
        break;
      }
      const c = buf[k];
      if (c === delimiter) {
        this.state = UNQUOTED;
        this.pos = k + 1;
      } else if (c === LF) {
        this.state = UNQUOTED;
        this.endRecord(k + 1, final, out);
      } else if (c === CR && (k + 1 >= len || buf[k + 1] === LF)) {
        this.state = UNQUOTED;
        if (k + 1 >= len) this.pos = len;
        else this.endRecord(k + 2, final, out);
      } else {
        this.badRecord('text after closing quote', final, out);
      }
      nextLf = nextQuote = -2;
    }
  }

  /** True when a quote at `q` opens a quoted field: nothing but blanks (with trim) since a field began. */
  private atFieldStart(q: number): boolean {
    const buf = this.buf;
    let floor = this.recordStart;
    // The file's BOM is not part of the first field (the parser strips it).
    if (this.consumed + floor === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) floor = 3;
    let b = q - 1;
    if (this.trim) {
      while (b >= floor && (buf[b] === SPACE || buf[b] === TAB)) {
        if (buf[b] === this.delimiter) return true;
        b--;
      }
    }
    return b < floor || buf[b] === this.delimiter;
  }

  /** The record ended just before `next` (after its LF). */
  private endRecord(next: number, final: boolean, out: CsvBatch[]): void {
    if (next - 1 - this.recordStart > this.maxRecordBytes) {
      this.badRecord(`record longer than ${this.maxRecordBytes} bytes`, final, out);
      return;
    }
    this.line++;
    this.startRecord(next, out);
  }

  private startRecord(at: number, out: CsvBatch[]): void {
    this.pos = at;
    this.recordStart = at;
    this.recordLine = this.line;
    this.state = UNQUOTED;
    this.records++;
    if (this.records === this.maxRecords || at - this.batchStart >= this.maxBatchBytes) {
      out.push(this.emit(at));
      this.batchStart = at;
      this.batchLine = this.line;
    }
  }

  /**
   * Drops the current record's first line, reports it, and resumes at the next line. When that
   * line has not fully arrived, what there is of it is dropped and the rest skipped as it comes.
   */
  private badRecord(message: string, final: boolean, out: CsvBatch[]): void {
    this.bad.push({ line: this.recordLine, message });
    const lf = this.buf.subarray(0, this.len).indexOf(LF, this.recordStart);
    if (lf !== -1) {
      this.holes.push(this.recordStart, lf);
      this.line = this.recordLine + 1;
      this.startRecord(lf + 1, out);
      return;
    }
    this.state = UNQUOTED;
    if (final) {
      this.holes.push(this.recordStart, this.len);
      this.line = this.recordLine;
      this.startRecord(this.len, out);
      return;
    }
    this.len = this.recordStart;
    this.pos = this.len;
    this.line = this.recordLine;
    this.skipping = true;
  }

  /** The pending batch up to `end`, without its bad lines, and the bad lines it reports. */
  private emit(end: number): CsvBatch {
    let size = end - this.batchStart;
    for (let i = 0; i < this.holes.length; i += 2) size -= this.holes[i + 1] - this.holes[i];
    const bytes = new Uint8Array(size);
    let at = 0;
    let from = this.batchStart;
    for (let i = 0; i < this.holes.length; i += 2) {
      bytes.set(this.buf.subarray(from, this.holes[i]), at);
      at += this.holes[i] - from;
      from = this.holes[i + 1];
    }
    bytes.set(this.buf.subarray(from, end), at);
    const batch: CsvBatch = { bytes, firstLine: this.batchLine, records: this.records, bad: this.bad };
    this.records = 0;
    this.holes = [];
    this.bad = [];
    return batch;
  }
}
