// encode's input as a stream (standard input, FIFOs, pipes), bad quoting that costs one line, and
// messages that name schema columns but never the values in the input.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEncodedFile } from '../src/io/encoded-file.js';
import { CLI, runCli, scratchDir, type CliResult } from './helpers/run-cli.js';

const SCHEMA = new URL('../docs/examples/taxpayer-schema.json', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/taxpayers.csv', import.meta.url).pathname;
const SECRET = { BLINDLINK_SECRET: 'ab'.repeat(32) };
const HEADER = 'record_id,given_name,middle_name,surname,date_of_birth,street_address,city,state,zip';
const row = (i: number): string => `R${i},Ann${i},,Lee,1/2/1980,${i} Main St,Austin,TX,73301`;

const dir = scratchDir();
const path = (name: string): string => join(dir, name);
let reference: Uint8Array;

const encode = (input: string, out: string, extra: string[] = [], stdin?: string | Uint8Array): Promise<CliResult> =>
  runCli(['encode', '--schema', SCHEMA, '--in', input, '--out', out, ...extra], SECRET, undefined, stdin);

function oneLine(result: CliResult): string {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0];
}

beforeAll(async () => {
  const result = await encode(FIXTURE, path('reference.arrow'));
  expect(result.code, result.stderr).toBe(0);
  reference = (await readEncodedFile(path('reference.arrow'))).clks;
});

describe('streaming input', () => {
  it('--in - reads standard input, giving the same encodings as the file', async () => {
    const result = await encode('-', path('stdin.arrow'), [], readFileSync(FIXTURE));
    expect(result.code, result.stderr).toBe(0);
    expect((await readEncodedFile(path('stdin.arrow'))).clks).toEqual(reference);
    expect(result.stdout).toMatch(/encoded 5 records/);
  });

  it('reads a FIFO as a stream (it said "input is empty")', async () => {
    const fifo = path('people.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', `cat "${FIXTURE}" > "${fifo}"`]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const result = await encode(fifo, path('fifo.arrow'));
    await written;
    expect(result.code, result.stderr).toBe(0);
    expect((await readEncodedFile(path('fifo.arrow'))).clks).toEqual(reference);
  });

  it('reads a pipe named by path (/dev/stdin), and a long stream across many batches', async () => {
    const many = `${HEADER}\n${Array.from({ length: 20_000 }, (_, i) => row(i)).join('\n')}\n`;
    writeFileSync(path('many.csv'), many);
    const fromFile = await encode(path('many.csv'), path('many-file.arrow'));
    // A shell pipe: Node's own child stdin is a socket, which cannot be opened by path.
    const piped = spawnSync('sh', ['-c', `cat "$1" | "$2" "$3" encode --schema "$4" --in /dev/stdin --out "$5"`, 'sh', path('many.csv'), process.execPath, CLI, SCHEMA, path('many-pipe.arrow')], {
      env: { ...process.env, ...SECRET },
      encoding: 'utf8',
    });
    expect([fromFile.code, piped.status], fromFile.stderr + piped.stderr).toEqual([0, 0]);
    const [pipe, file] = await Promise.all([readEncodedFile(path('many-pipe.arrow')), readEncodedFile(path('many-file.arrow'))]);
    expect(pipe.count).toBe(20_000);
    // Buffer comparison: a deep equality over 5 MB of elements would take minutes.
    expect(Buffer.from(pipe.clks).equals(Buffer.from(file.clks))).toBe(true);
  });

  it('reads Arrow input from standard input, told from its first bytes', async () => {
    // The fixture's one quoted value holds a comma; split it by hand.
    const rows = readFileSync(FIXTURE, 'utf8').trim().split('\n').slice(1)
      .map((line) => line.match(/("[^"]*"|[^,]*)(,|$)/g)!.slice(0, 9).map((cell) => cell.replace(/,$/, '').replace(/^"|"$/g, '')));
    const columns = Object.fromEntries(HEADER.split(',').map((name, c) => [name, rows.map((r) => r[c])]));
    const result = await encode('-', path('arrow-stdin.arrow'), [], tableToIPC(tableFromArrays(columns), 'file'));
    expect(result.code, result.stderr).toBe(0);
    expect((await readEncodedFile(path('arrow-stdin.arrow'))).clks).toEqual(reference);
  });

  it('an empty stream, a directory and a missing file are one line each', async () => {
    expect(oneLine(await encode('-', path('x.arrow'), [], ''))).toBe('blindlink: standard input: input is empty');
    mkdirSync(path('folder.csv'));
    expect(oneLine(await encode(path('folder.csv'), path('x.arrow')))).toBe(`blindlink: ${path('folder.csv')}: cannot read input (is a directory, EISDIR)`);
    expect(oneLine(await encode(path('absent.csv'), path('x.arrow')))).toBe(`blindlink: ${path('absent.csv')}: cannot read input (no such file, ENOENT)`);
  });
});

describe('--on-error skip counts the lines lost', () => {
  it('a stray quote costs its own line: the 140 rows after it are encoded (it said "skipped 1" and lost them)', async () => {
    const lines = [HEADER, row(0), 'R1,"Ann,,Lee,1/2/1980,1 Main St,Austin,TX,73301', ...Array.from({ length: 140 }, (_, i) => row(i + 2))];
    writeFileSync(path('stray.csv'), `${lines.join('\n')}\n`);
    const result = await encode(path('stray.csv'), path('stray.arrow'), ['--on-error', 'skip', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { encoded: number; skipped: number; skippedLines: number };
    expect(summary).toMatchObject({ encoded: 141, skipped: 1, skippedLines: 1 });
    const human = await encode(path('stray.csv'), path('stray.arrow'), ['--on-error', 'skip']);
    expect(human.stdout).toMatch(/skipped 1 bad record \(1 input line\), e\.g\.:\n {2}line 3: unterminated quoted field\n/);
    const failing = oneLine(await encode(path('stray.csv'), path('stray-fail.arrow')));
    expect(failing).toBe(`blindlink: ${path('stray.csv')}: line 3: unterminated quoted field (use --on-error skip to skip bad records)`);
  });

  it('a well-quoted record spanning lines with the wrong number of fields counts all its lines', async () => {
    const lines = [HEADER, row(0), 'R1,"multi\nline\nname"', row(2)];
    writeFileSync(path('span.csv'), `${lines.join('\n')}\n`);
    const result = await encode(path('span.csv'), path('span.arrow'), ['--on-error', 'skip']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/encoded 2 records/);
    expect(result.stdout).toMatch(/skipped 1 bad record \(3 input lines\), e\.g\.:\n {2}line 3: expected 9 fields, found 2\n/);
  });

  it('broken quoting on the header line is a header error', async () => {
    writeFileSync(path('bad-header.csv'), `record_id,"given_name\n${row(0)}\n`);
    expect(oneLine(await encode(path('bad-header.csv'), path('x.arrow'), ['--on-error', 'skip']))).toMatch(/bad-header\.csv: header line 1: unterminated quoted field$/);
  });
});

describe('messages name schema columns, never input values', () => {
  it('a file without a header row: the missing-column message does not print its first record', async () => {
    writeFileSync(path('no-header.csv'), `${row(7).replace('Ann7', 'SECRETGIVEN')}\n${row(8)}\n`);
    const line = oneLine(await encode(path('no-header.csv'), path('x.arrow')));
    expect(line).toMatch(/missing columns given_name, surname, date_of_birth, street_address, city, state, zip \(the header has 9 columns; is the first line a header\?\)$/);
    expect(line).not.toMatch(/SECRETGIVEN|Lee|Austin|73301/);
  });

  it('CR-only line endings: the whole file is one header line, and none of it is printed', async () => {
    const text = [HEADER, row(1).replace('Ann1', 'SECRETGIVEN'), row(2)].join('\r');
    writeFileSync(path('cr-only.csv'), text);
    const line = oneLine(await encode(path('cr-only.csv'), path('x.arrow')));
    expect(line).toMatch(/cr-only\.csv: missing column zip \(the header has 25 columns/);
    expect(line).not.toMatch(/SECRETGIVEN|Austin/);
  });

  it('a column the schema reads, named twice in the header, is refused by name', async () => {
    writeFileSync(path('twice.csv'), `${HEADER},surname\n${row(0)},Other\n`);
    expect(oneLine(await encode(path('twice.csv'), path('x.arrow')))).toBe(`blindlink: ${path('twice.csv')}: the header names column surname more than once: which one to read is ambiguous`);
    // Repeated columns the schema does not read are harmless.
    writeFileSync(path('twice-unused.csv'), `${HEADER},notes,notes\n${row(0)},a,b\n`);
    expect((await encode(path('twice-unused.csv'), path('x.arrow'))).code).toBe(0);
  });

  it('a long message is cut, and control characters in a path do not break the line', async () => {
    const long = `${'c'.repeat(3000)}`;
    writeFileSync(path('long-schema.json'), JSON.stringify({ blindlink: 1, fields: [{ name: long }] }));
    const result = await runCli(['encode', '--schema', path('long-schema.json'), '--in', FIXTURE, '--out', path('x.arrow')], SECRET);
    const line = oneLine(result);
    expect(line.length).toBeLessThanOrEqual('blindlink: '.length + 500);
    expect(line.endsWith('…')).toBe(true);
    const odd = path('new\nline.csv');
    const missing = oneLine(await encode(odd, path('x.arrow')));
    expect(missing).toBe(`blindlink: ${path('new line.csv')}: cannot read input (no such file, ENOENT)`);
  });
});
