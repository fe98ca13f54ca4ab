// Parses one batch of whole CSV records (as cut by CsvChunker) into fields; runs in workers.
// Error messages name a line and a cause but never field contents, which are personal data.
import { Buffer } from 'node:buffer';
import { UserError } from '../errors.js';

export interface CsvDialect {
  /** Field separator: one ASCII character other than a quote, CR or LF. */
  delimiter: string;
  /** Strip spaces and tabs around unquoted values (FEBRL files use ", " between fields). */
  trim: boolean;
}

/**
 * Receives each record. `fields` is one array reused for every call of a batch: copy it
 * (`fields.slice()`) to keep it. `line` is the 1-based physical line where the record starts;
 * `lines` how many physical lines it spans (more than one when a quoted field holds line breaks).
 */
export type CsvRecordHandler = (fields: string[], line: number, lines: number) => void;
/** Receives a malformed record (starting at `line`, spanning `lines`), which is then skipped. */
export type CsvErrorHandler = (line: number, message: string, lines: number) => void;

const LF = 10;
const CR = 13;
const QUOTE = 34;
const SPACE = 32;
const TAB = 9;
const BOM = 0xfeff;
const PIECE_BYTES = 64 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface Sink {
  delim: string;
  delimCode: number;
  trim: boolean;
  fields: string[];
  onRecord: CsvRecordHandler;
  onError: CsvErrorHandler;
}

/** Throws UserError unless the delimiter is a single usable ASCII character. */
export function checkDialect(dialect: CsvDialect): void {
  const d = dialect.delimiter;
  const c = d.charCodeAt(0);
  if (d.length !== 1 || c > 127 || c === QUOTE || c === CR || c === LF) {
    throw new UserError('delimiter must be one ASCII character other than ", CR or LF');
  }
}

/**
 * Parses the records in `bytes`, which start at physical line `firstLine`. Blank lines are
 * skipped. There is no separate header parser: the header is the first record passed to
 * `onRecord` for the batch whose `firstLine` is 1 (a BOM there is stripped). Field counts are
 * not checked here; the caller compares them with the header.
 */
export function parseCsvBatch(
  bytes: Uint8Array,
  firstLine: number,
  dialect: CsvDialect,
  onRecord: CsvRecordHandler,
  onError: CsvErrorHandler,
): void {
  checkDialect(dialect);
  const sink: Sink = {
    delim: dialect.delimiter,
    delimCode: dialect.delimiter.charCodeAt(0),
    trim: dialect.trim,
    fields: [],
    onRecord,
    onError,
  };
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const n = buf.length;
  let line = firstLine;
  let from = 0;
  // Next quote at or after `from` (-1: none left, -2: not searched); pieces end on record
  // boundaries, so quote parity is even at each `from`.
  let nextQuote = -2;
  while (from < n) {
    // Decode in pieces of about PIECE_BYTES: strings over ~128 KB go to V8's large-object space,
    // where decoding measured several times slower; and a field sliced from a piece keeps only
    // that piece alive, not the whole batch.
    let to = n;
    if (n - from > PIECE_BYTES) {
      if (nextQuote !== -1 && nextQuote < from) nextQuote = buf.indexOf(QUOTE, from);
      let inQuote = false;
      for (let lf = buf.indexOf(LF, from + PIECE_BYTES); ; lf = buf.indexOf(LF, lf + 1)) {
        if (lf === -1) break;
        while (nextQuote !== -1 && nextQuote < lf) {
          inQuote = !inQuote;
          nextQuote = buf.indexOf(QUOTE, nextQuote + 1);
        }
        if (!inQuote) {
          to = lf + 1;
          break;
        }
      }
    }
    line = parsePiece(buf.subarray(from, to), from === 0 && firstLine === 1, line, sink);
    from = to;
  }
}

/** Decodes and parses whole records; returns the line after them. */
function parsePiece(bytes: Uint8Array, atFileStart: boolean, line: number, sink: Sink): number {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    // Some record holds invalid UTF-8: decode record by record to report just that one.
    return parseRecordByRecord(bytes, atFileStart, line, sink);
  }
  const start = atFileStart && text.charCodeAt(0) === BOM ? 1 : 0;
  return parseText(text, start, line, sink);
}

/** Parses decoded text of whole records, the first at `start` on `line`; returns the next line. */
function parseText(text: string, start: number, line: number, sink: Sink): number {
  // Hot loop: dialect and callbacks live in locals, and fields are assigned by index so the
  // array keeps its shape instead of being truncated and regrown for every record.
  const { delim, trim, fields, onRecord } = sink;
  const n = text.length;
  let pos = start;
  // Cached next quote and delimiter (-1: none left, -2: not searched yet). Without the cache a
  // file with no quotes, or one column, would rescan to the end of the batch for every record.
  let nextQuote = -2;
  let nextDelim = -2;
  while (pos < n) {
    const lf = text.indexOf('\n', pos);
    const end = lf === -1 ? n : lf;
    if (nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
    if (nextQuote === -1 || nextQuote >= end) {
      const e = end > pos && text.charCodeAt(end - 1) === CR ? end - 1 : end;
      if (e > pos) {
        let k = 0;
        let p = pos;
        for (;;) {
          if (nextDelim !== -1 && nextDelim < p) nextDelim = text.indexOf(delim, p);
          const d = nextDelim === -1 || nextDelim > e ? e : nextDelim;
          fields[k++] = trim ? trimmedSlice(text, p, d) : text.slice(p, d);
          if (d === e) break;
          p = d + 1;
        }
        if (fields.length !== k) fields.length = k;
        onRecord(fields, line, 1);
      }
      line++;
      pos = end + 1;
      continue;
    }
    // A record with quotes: its end is the first LF outside quotes when every quote simply
    // toggles, the rule CsvChunker uses, so both agree on boundaries even for malformed records.
    const recordEnd = quotedRecordEnd(text, pos);
    const stop = recordEnd === -1 ? n : recordEnd;
    const recordLine = line;
    const lines = 1 + countLf(text, pos, stop);
    line += lines;
    if (recordEnd === -1) {
      sink.onError(recordLine, 'unterminated quoted field', lines);
    } else {
      const e = text.charCodeAt(stop - 1) === CR ? stop - 1 : stop;
      const problem = splitQuoted(text, pos, e, sink);
      if (problem === undefined) onRecord(fields, recordLine, lines);
      else sink.onError(recordLine, problem, lines);
    }
    pos = stop + 1;
  }
  return line;
}

function trimmedSlice(text: string, a: number, b: number): string {
  while (a < b && isBlank(text.charCodeAt(a))) a++;
  while (b > a && isBlank(text.charCodeAt(b - 1))) b--;
  return text.slice(a, b);
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** The LF ending the record at `s`, or the text length if none; -1 if a quote is left open. */
function quotedRecordEnd(text: string, s: number): number {
  const n = text.length;
  let inQuote = false;
  for (let i = s; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuote = !inQuote;
    else if (c === LF && !inQuote) return i;
  }
  return inQuote ? -1 : n;
}

function countLf(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** Splits a record with quotes, given without its line ending; returns a problem, if any. */
function splitQuoted(text: string, s: number, e: number, sink: Sink): string | undefined {
  const { fields, delimCode, trim } = sink;
  fields.length = 0;
  let p = s;
  for (;;) {
    let a = p;
    if (trim) while (a < e && isBlank(text.charCodeAt(a))) a++;
    if (a < e && text.charCodeAt(a) === QUOTE) {
      let value = '';
      let k = a + 1;
      for (;;) {
        const q = text.indexOf('"', k);
        if (q === -1 || q >= e) return 'unterminated quoted field';
        if (q + 1 < e && text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(k, q + 1);
          k = q + 2;
          continue;
        }
        value += text.slice(k, q);
        k = q + 1;
        break;
      }
      if (trim) while (k < e && isBlank(text.charCodeAt(k))) k++;
      fields.push(value);
      if (k === e) return undefined;
      if (text.charCodeAt(k) !== delimCode) return 'text after closing quote';
      p = k + 1;
      continue;
    }
    let d = p;
    for (; d < e; d++) {
      const c = text.charCodeAt(d);
      if (c === delimCode) break;
      if (c === QUOTE) return 'unexpected quote inside unquoted field';
    }
    fields.push(trim ? trimmedSlice(text, p, d) : text.slice(p, d));
    if (d === e) return undefined;
    p = d + 1;
  }
}

/** Fallback for batches with invalid UTF-8: decode each record alone so only bad ones are lost. */
function parseRecordByRecord(
  bytes: Uint8Array,
  atFileStart: boolean,
  line: number,
  sink: Sink,
): number {
  const n = bytes.length;
  let pos = atFileStart && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (pos < n) {
    let inQuote = false;
    let lfs = 0;
    let i = pos;
    for (; i < n; i++) {
      const b = bytes[i];
      if (b === QUOTE) inQuote = !inQuote;
      else if (b === LF) {
        if (!inQuote) break;
        lfs++;
      }
    }
    let text: string | undefined;
    try {
      text = decoder.decode(bytes.subarray(pos, i));
    } catch {
      sink.onError(line, 'invalid UTF-8', lfs + 1);
    }
    if (text !== undefined) parseText(text, 0, line, sink);
    line += lfs + 1;
    pos = i + 1;
  }
  return line;
}
