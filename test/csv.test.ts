// Tests for the CSV reader: chunker + batch parser must agree with RFC 4180 and keep physical
// line numbers right for any chunking, and error messages must never echo field contents.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { seededRandom as mulberry32 } from '../src/random.js';
import {
  checkDialect,
  CsvChunker,
  parseCsvBatch,
  readCsvRecords,
  type CsvBatch,
  type CsvDialect,
} from '../src/csv/index.js';

interface Parsed {
  records: { fields: string[]; line: number }[];
  errors: { line: number; message: string }[];
}

const COMMA: CsvDialect = { delimiter: ',', trim: false };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function chunkAll(bytes: Uint8Array, chunkSizes: () => number, maxRecords: number, dialect: CsvDialect = COMMA, maxRecordBytes?: number): CsvBatch[] {
  const chunker = new CsvChunker({ maxRecords, dialect, maxRecordBytes });
  const batches: CsvBatch[] = [];
  for (let off = 0; off < bytes.length; ) {
    const size = Math.max(1, chunkSizes());
    batches.push(...chunker.push(bytes.subarray(off, off + size)));
    off += size;
  }
  batches.push(...chunker.end());
  return batches;
}

/** Records, and errors in line order: lines the chunker dropped for broken quoting, and the parser's. */
function parseBatches(batches: readonly CsvBatch[], dialect: CsvDialect): Parsed {
  const out: Parsed = { records: [], errors: [] };
  for (const b of batches) {
    out.errors.push(...b.bad);
    parseCsvBatch(
      b.bytes,
      b.firstLine,
      dialect,
      (fields, line) => out.records.push({ fields: fields.slice(), line }),
      (line, message) => out.errors.push({ line, message }),
    );
  }
  out.errors.sort((x, y) => x.line - y.line);
  return out;
}

/** Parses with several chunk sizes and batch sizes, checks they all agree, returns the result. */
function parse(input: string | Uint8Array, dialect: CsvDialect = COMMA): Parsed {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const whole = parseBatches(chunkAll(bytes, () => bytes.length, 4096, dialect), dialect);
  for (const chunk of [1, 2, 5]) {
    for (const maxRecords of [1, 2, 3]) {
      const other = parseBatches(chunkAll(bytes, () => chunk, maxRecords, dialect), dialect);
      expect(other, `chunk ${chunk}, maxRecords ${maxRecords}`).toEqual(whole);
    }
  }
  return whole;
}

const fieldsOf = (p: Parsed): string[][] => p.records.map((r) => r.fields);
const linesOf = (p: Parsed): number[] => p.records.map((r) => r.line);

describe('parsing', () => {
  it('parses plain records with LF and the header as the first record', () => {
    const p = parse('id,name\n1,ann\n2,bob\n');
    expect(fieldsOf(p)).toEqual([['id', 'name'], ['1', 'ann'], ['2', 'bob']]);
    expect(linesOf(p)).toEqual([1, 2, 3]);
    expect(p.errors).toEqual([]);
  });

  it('handles CRLF files and a missing final newline', () => {
    const p = parse('id,name\r\n1,ann\r\n2,bob');
    expect(fieldsOf(p)).toEqual([['id', 'name'], ['1', 'ann'], ['2', 'bob']]);
    expect(linesOf(p)).toEqual([1, 2, 3]);
    expect(fieldsOf(parse('a,b\r\n1,2\r'))).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('keeps delimiters, escaped quotes and empty values inside quoted fields', () => {
    const p = parse('a,b,c\n"x, y","say ""hi""",""\n"",,"z"\n');
    expect(fieldsOf(p)).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', ''],
      ['', '', 'z'],
    ]);
  });

  it('counts newlines inside quoted fields in later line numbers', () => {
    const p = parse('id,note\n1,"two\nlines"\n2,"crlf\r\ninside\r\nthree"\r\n3,plain\n4,"\n"\n5,x');
    expect(fieldsOf(p)).toEqual([
      ['id', 'note'],
      ['1', 'two\nlines'],
      ['2', 'crlf\r\ninside\r\nthree'],
      ['3', 'plain'],
      ['4', '\n'],
      ['5', 'x'],
    ]);
    expect(linesOf(p)).toEqual([1, 2, 4, 7, 8, 10]);
  });

  it('strips a BOM at the start of the file only', () => {
    const p = parse('\uFEFFid,name\n1,\uFEFFann\n');
    expect(fieldsOf(p)).toEqual([['id', 'name'], ['1', '\uFEFFann']]);
    const bomOnly = parse('\uFEFF"id",x\n');
    expect(fieldsOf(bomOnly)).toEqual([['id', 'x']]);
  });

  it('skips empty lines but keeps counting them', () => {
    const p = parse('\nid\n\n\r\n1\n\n2\n\n');
    expect(fieldsOf(p)).toEqual([['id'], ['1'], ['2']]);
    expect(linesOf(p)).toEqual([2, 5, 7]);
  });

  it('keeps spaces unless trimming, and trims only unquoted values', () => {
    const row = 'rec-3945-dup-0,  elie, smith ,\t"  kept  " ,x\t\n';
    expect(fieldsOf(parse('a, b\n', COMMA))).toEqual([['a', ' b']]);
    const trimmed = parse(row, { delimiter: ',', trim: true });
    expect(fieldsOf(trimmed)).toEqual([['rec-3945-dup-0', 'elie', 'smith', '  kept  ', 'x']]);
    const untrimmed = parse(row, COMMA);
    expect(untrimmed.records).toEqual([]);
    expect(untrimmed.errors).toEqual([
      { line: 1, message: 'unexpected quote inside unquoted field' },
    ]);
  });

  it('supports other one-byte delimiters', () => {
    for (const delimiter of [';', '\t', '|']) {
      const d = delimiter;
      const text = ['a', 'b,c', `"d${d}e"`].join(d) + `\n1${d}2\n`;
      const p = parse(text, { delimiter, trim: false });
      expect(fieldsOf(p)).toEqual([['a', 'b,c', 'd' + delimiter + 'e'], ['1', '2']]);
    }
  });

  it('rejects unusable delimiters', () => {
    for (const delimiter of ['', ';;', '"', '\n', '\r', 'é']) {
      expect(() => checkDialect({ delimiter, trim: false })).toThrow(UserError);
      const parseWith = (): void =>
        parseCsvBatch(utf8('a\n'), 1, { delimiter, trim: false }, () => {}, () => {});
      expect(parseWith).toThrow(UserError);
    }
  });

  it('decodes non-ASCII text', () => {
    const p = parse('name,city\nélodie,"中文, 北京"\n😀,x😀y\n');
    expect(fieldsOf(p)).toEqual([
      ['name', 'city'],
      ['élodie', '中文, 北京'],
      ['😀', 'x😀y'],
    ]);
  });

  it('reports invalid UTF-8 for that record only, with its line', () => {
    const bytes = Uint8Array.from([
      ...utf8('id,name\n1,"multi\nline"\n2,'),
      0xff,
      0xfe,
      ...utf8('\n3,é\n4,'),
      0xc3, // truncated two-byte sequence
      ...utf8(',z\n5,ok'),
    ]);
    const p = parse(bytes);
    expect(fieldsOf(p)).toEqual([['id', 'name'], ['1', 'multi\nline'], ['3', 'é'], ['5', 'ok']]);
    expect(linesOf(p)).toEqual([1, 2, 5, 7]);
    expect(p.errors).toEqual([
      { line: 4, message: 'invalid UTF-8' },
      { line: 6, message: 'invalid UTF-8' },
    ]);
  });

  it('reports each malformed quote case at the record start line, without its text', () => {
    const cases: [string, string][] = [
      ['1,SEC"RET"VALUE\n', 'unexpected quote inside unquoted field'],
      ['1,"SECRET"VALUE\n', 'text after closing quote'],
      ['1,"SECRET" ,x\n', 'text after closing quote'],
      ['1,"SECRET\nVALUE', 'unterminated quoted field'],
    ];
    for (const [bad, message] of cases) {
      const p = parse(`id,v\n"a\nb",c\n${bad}${bad.endsWith('\n') ? '2,after\n' : ''}`);
      expect(p.errors).toEqual([{ line: 4, message }]);
      for (const e of p.errors) expect(e.message).not.toMatch(/SECRET|VALUE/);
      // Only the bad record's first line is lost: reading resumes on line 5.
      expect(linesOf(p)).toEqual([1, 2, 5]);
    }
  });

  it('a stray quote costs its own line only: the rows after it are read (issue 11: "skipped 1", 140 rows lost)', () => {
    const rows = Array.from({ length: 140 }, (_, i) => `${i + 3},row`);
    for (const stray of ['1,5" SECRET', '1,"SECRET', '1,"SEC"RET', 'x"']) {
      const p = parse(`id,v\n${stray}\n${rows.join('\n')}\n`);
      expect(p.errors.map((e) => e.line), stray).toEqual([2]);
      expect(p.records.length, stray).toBe(141);
      expect(linesOf(p).slice(0, 3), stray).toEqual([1, 3, 4]);
    }
  });

  it('resynchronises at the line after the start of a malformed record that spans lines', () => {
    // Line 2 opens a quoted field that line 3 closes, followed by text: line 2 is dropped, and
    // line 3, read again on its own, shows its own stray quote.
    const p = parse('id,v\n1,"a\nb"c\n2,ok\n');
    expect(p.errors).toEqual([
      { line: 2, message: 'text after closing quote' },
      { line: 3, message: 'unexpected quote inside unquoted field' },
    ]);
    expect(fieldsOf(p)).toEqual([['id', 'v'], ['2', 'ok']]);
    expect(linesOf(p)).toEqual([1, 4]);
  });

  it('an unterminated quote at the end of the file loses one line, however far it reaches', () => {
    const p = parse('id,v\n1,"open\n2,b\n3,c');
    expect(p.errors).toEqual([{ line: 2, message: 'unterminated quoted field' }]);
    expect(fieldsOf(p)).toEqual([['id', 'v'], ['2', 'b'], ['3', 'c']]);
  });

  it('passes one reused fields array within a batch', () => {
    const seen: string[][] = [];
    parseCsvBatch(utf8('a,b\nc,d\n'), 1, COMMA, (fields) => seen.push(fields), () => {});
    expect(seen[0]).toBe(seen[1]);
  });

  it('parses large batches, whose text is decoded in pieces, exactly like small ones', () => {
    const rnd = mulberry32(7);
    const rows: string[] = ['id,note,name'];
    for (let i = 0; i < 12000; i++) {
      const note = rnd() < 0.3 ? `"line ${i}\nnext ""q"", end"` : `n${i}`;
      rows.push(`${i},${note},${rnd() < 0.1 ? 'zoë' : 'ann'}`);
    }
    const bytes = utf8(rows.join('\r\n'));
    expect(bytes.length).toBeGreaterThan(3 * 65536);
    const big = parseBatches(chunkAll(bytes, () => 1 << 20, 1_000_000), COMMA);
    const small = parseBatches(chunkAll(bytes, () => 4093, 1), COMMA);
    expect(big.records.length).toBe(12001);
    expect(big).toEqual(small);
  });
});

describe('CsvChunker', () => {
  it('cuts batches of at most maxRecords whole records, counting blank lines as records', () => {
    const batches = chunkAll(utf8('h\n"a\nb"\n\nc\nd'), () => 3, 2);
    const shown = batches.map((b) => [new TextDecoder().decode(b.bytes), b.firstLine, b.records]);
    expect(shown).toEqual([
      ['h\n"a\nb"\n', 1, 2],
      ['\nc\n', 4, 2],
      ['d', 6, 1],
    ]);
  });

  it('copies its output so the input buffer can be reused', () => {
    const chunker = new CsvChunker({ maxRecords: 1 });
    const chunk = utf8('ab\ncd\n');
    const [first] = chunker.push(chunk);
    chunk.fill(0);
    expect(new TextDecoder().decode(first.bytes)).toBe('ab\n');
  });

  it('emits nothing for empty input', () => {
    const chunker = new CsvChunker({ maxRecords: 10 });
    expect(chunker.push(new Uint8Array(0))).toEqual([]);
    expect(chunker.end()).toEqual([]);
  });

  it('drops a runaway quoted field at the line where its record starts, and reads on from the next', () => {
    const data = utf8('id,v\n1,"a\nb"\n2,"never closed' + '\nSECRET'.repeat(40) + '\n3,x\n');
    const p = parseBatches(chunkAll(data, () => 10, 10, COMMA, 100), COMMA);
    expect(p.errors).toEqual([{ line: 4, message: 'record longer than 100 bytes (unterminated quote?)' }]);
    expect(linesOf(p)).toEqual([1, 2, ...Array.from({ length: 40 }, (_, i) => 5 + i), 45]);
    expect(fieldsOf(p).at(-1)).toEqual(['3', 'x']);
  });

  it('uses a 1 MiB record limit by default, and accepts records up to it', () => {
    const ok = new CsvChunker({ maxRecords: 10 });
    const long = 'x'.repeat(1 << 20);
    expect(ok.push(utf8(`${long}\n`))).toEqual([]);
    expect(ok.end()[0].records).toBe(1);
    const runaway = new CsvChunker({ maxRecords: 10 });
    expect(runaway.push(utf8(`a\n"${long}`))).toEqual([]);
    const [last] = runaway.end();
    expect(last.bad).toEqual([{ line: 2, message: 'record longer than 1048576 bytes (unterminated quote?)' }]);
    expect(new TextDecoder().decode(last.bytes)).toBe('a\n');
  });

  it('discards an over-long line as it streams past, holding at most the limit in memory', () => {
    const chunker = new CsvChunker({ maxRecords: 10, maxRecordBytes: 64 });
    const batches: CsvBatch[] = [...chunker.push(utf8('h\n'))];
    for (let i = 0; i < 100; i++) batches.push(...chunker.push(utf8('y'.repeat(1000))));
    batches.push(...chunker.push(utf8('\nlast\n')), ...chunker.end());
    const p = parseBatches(batches, COMMA);
    expect(p.errors).toEqual([{ line: 2, message: 'record longer than 64 bytes (unterminated quote?)' }]);
    expect(p.records).toEqual([{ fields: ['h'], line: 1 }, { fields: ['last'], line: 3 }]);
  });

  it('cuts a batch early once it holds maxBatchBytes, at a record boundary', () => {
    const chunker = new CsvChunker({ maxRecords: 1000, maxBatchBytes: 10 });
    const batches = [...chunker.push(utf8('aaaa\nbbbb\ncccc\ndddd\n')), ...chunker.end()];
    expect(batches.map((b) => [new TextDecoder().decode(b.bytes), b.firstLine, b.records])).toEqual([
      ['aaaa\nbbbb\n', 1, 2],
      ['cccc\ndddd\n', 3, 2],
    ]);
  });

  it('rejects bad options', () => {
    expect(() => new CsvChunker({ maxRecords: 0 })).toThrow(RangeError);
    expect(() => new CsvChunker({ maxRecords: 1, maxRecordBytes: 0.5 })).toThrow(RangeError);
  });
});

describe('property: serialise, chunk randomly, parse', () => {
  const ALPHABET = ['a', 'b', 'Z', '7', ' ', ' ', '\t', '"', ',', ';', '|', '\r', '\n']
    .concat(['é', '中', '😀']);

  function field(rnd: () => number): string {
    let s = '';
    const len = Math.floor(rnd() * 8);
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    return s;
  }

  function serialise(value: string, delimiter: string, rnd: () => number): string {
    const needsQuotes = /["\r\n]/.test(value) || value.includes(delimiter);
    return needsQuotes || rnd() < 0.15 ? `"${value.replaceAll('"', '""')}"` : value;
  }

  it('round-trips fields and line numbers for any chunking', () => {
    const rnd = mulberry32(20240601);
    for (let trial = 0; trial < 300; trial++) {
      const delimiter = [',', ';', '\t', '|'][Math.floor(rnd() * 4)];
      const expected: { fields: string[]; line: number }[] = [];
      let text = rnd() < 0.2 ? '\uFEFF' : '';
      let line = 1;
      const count = Math.floor(rnd() * 60);
      for (let r = 0; r < count; r++) {
        if (rnd() < 0.05) {
          text += rnd() < 0.5 ? '\n' : '\r\n';
          line++;
        }
        const fields = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => field(rnd));
        // A lone empty field would serialise to a blank line, which the parser skips.
        const parts = fields.map((f) =>
          fields.length === 1 && f === '' ? '""' : serialise(f, delimiter, rnd),
        );
        const last = r === count - 1 && rnd() < 0.3;
        const record = parts.join(delimiter) + (last ? '' : rnd() < 0.5 ? '\n' : '\r\n');
        expected.push({ fields, line });
        text += record;
        line += record.split('\n').length - 1;
      }
      const bytes = utf8(text);
      const maxRecords = 1 + Math.floor(rnd() * 50);
      const batches = chunkAll(bytes, () => Math.floor(2 ** (rnd() * 16)), maxRecords, { delimiter, trim: false });
      for (const b of batches.slice(0, -1)) expect(b.records).toBe(maxRecords);
      for (const b of batches) expect(b.records).toBeLessThanOrEqual(maxRecords);
      const got = parseBatches(batches, { delimiter, trim: false });
      expect(got.errors, `trial ${trial}`).toEqual([]);
      expect(got.records, `trial ${trial}`).toEqual(expected);
    }
  });
});

describe('readCsvRecords', () => {
  it('yields copied records from a file and names the file in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blindlink-csv-'));
    try {
      const good = join(dir, 'good.csv');
      await writeFile(good, '\uFEFFid, name\r\n1,  elie\r\n\r\n2,"a\nb"\r\n');
      const got: { fields: string[]; line: number }[] = [];
      for await (const r of readCsvRecords(good, { delimiter: ',', trim: true })) got.push(r);
      expect(got).toEqual([
        { fields: ['id', 'name'], line: 1 },
        { fields: ['1', 'elie'], line: 2 },
        { fields: ['2', 'a\nb'], line: 4 },
      ]);
      expect(got[0].fields).not.toBe(got[1].fields);

      const bad = join(dir, 'bad.csv');
      await writeFile(bad, 'id,name\n1,"SECRET"x\n');
      const read = async (): Promise<void> => {
        for await (const r of readCsvRecords(bad, COMMA)) expect(r.line).toBe(1);
      };
      const message = `${bad}: line 2: text after closing quote`;
      await expect(read()).rejects.toThrow(new UserError(message));

      const missing = readCsvRecords(join(dir, 'nope.csv'), COMMA).next();
      await expect(missing).rejects.toThrow(UserError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

