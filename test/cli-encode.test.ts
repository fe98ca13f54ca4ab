// keygen, encode and inspect through the CLI, as custodians use them: outputs, determinism
// across worker counts, and every bad-input case from DESIGN.md with its one-line error.
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEncodedFile } from '../src/io/encoded-file.js';
import { CLI, runCli, scratchDir } from './helpers/run-cli.js';

const SCHEMA = new URL('../docs/examples/taxpayer-schema.json', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/taxpayers.csv', import.meta.url).pathname;
const HEADER = 'record_id,given_name,middle_name,surname,date_of_birth,street_address,city,state,zip';

/** Deterministic varied rows, enough for several worker batches. */
function syntheticCsv(rows: number): string {
  const given = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'José', 'Zoë'];
  const surnames = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', "O'Brien", 'García', 'Miller', 'Davis', 'Nguyễn'];
  const streets = ['Main St', 'Oak Avenue', 'North Elm Road', 'Lake Blvd', '3rd Street'];
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const month = (i % 12) + 1;
    const day = (i % 28) + 1;
    lines.push(
      [`R${i}`, given[i % 10], '', surnames[(i * 7) % 10], `${month}/${day}/${1940 + (i % 60)}`,
        `"${(i % 997) + 1} ${streets[i % 5]}"`, 'Springfield', 'IL', String(62700 + (i % 50))].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

let dir: string;
let secretFile: string;

beforeAll(async () => {
  dir = scratchDir();
  secretFile = join(dir, 'secret.key');
  const result = await runCli(['keygen', '--out', secretFile]);
  expect(result.code).toBe(0);
});

const encodeArgs = (input: string, output: string, ...extra: string[]) =>
  ['encode', '--schema', SCHEMA, '--secret-file', secretFile, '--in', input, '--out', output, ...extra];

describe('keygen', () => {
  it('writes 256 random bits as hex with mode 0600 and never prints them', async () => {
    const path = join(dir, 'fresh.key');
    const result = await runCli(['keygen', '--out', path]);
    const content = readFileSync(path, 'utf8');
    expect(content).toMatch(/^[0-9a-f]{64}\n$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(content.trim());
  });

  it('refuses to overwrite an existing file', async () => {
    const before = readFileSync(secretFile, 'utf8');
    const result = await runCli(['keygen', '--out', secretFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already exists; refusing to overwrite/);
    expect(readFileSync(secretFile, 'utf8')).toBe(before);
  });
});

describe('encode', () => {
  it('writes an Arrow file with no plaintext, and inspect reports it', async () => {
    const out = join(dir, 'taxpayers.arrow');
    const result = await runCli(encodeArgs(FIXTURE, out));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(''); // no progress output when stderr is not a terminal
    const bytes = readFileSync(out).toString('latin1').toLowerCase();
    for (const plaintext of ['connor', 'springfield', 'portland', '1962', 'oak', 't001']) expect(bytes).not.toContain(plaintext);
    const file = await readEncodedFile(out);
    expect(file.count).toBe(5);
    expect(file.ids).toBeNull();
    // Rows 1 and 2 are the same person spelt differently: identical encodings.
    const width = file.filterBits / 8;
    expect(Buffer.from(file.clks.subarray(0, width)).equals(Buffer.from(file.clks.subarray(width, 2 * width)))).toBe(true);
    const inspect = await runCli(['inspect', out, '--json']);
    const report = JSON.parse(inspect.stdout) as { records: number; metadata: { keyCheck: string; schemaFingerprint: string } };
    expect(report.records).toBe(5);
    expect(report.metadata.keyCheck).toMatch(/^[0-9a-f]{32}$/);
    expect(report.metadata.schemaFingerprint).toMatch(/^[0-9a-f]{64}$/);
    const human = await runCli(['inspect', out]);
    expect(human.stdout).toMatch(/records\s+5/);
    expect(human.stdout).toMatch(/fill rate\s+\d+\.\d%/);
    expect(human.stdout).toMatch(/hardening\s+balance, blip 0.02/);
    expect(human.stdout).not.toMatch(/warning/);
  });

  it('inspect warns about unhardened encodings, popcounts that reveal lengths, and passphrase secrets', async () => {
    const schema = join(dir, 'plain-schema.json');
    writeFileSync(schema, JSON.stringify({ ...JSON.parse(readFileSync(SCHEMA, 'utf8')), hardening: 'none' }));
    const out = join(dir, 'plain.arrow');
    const input = join(dir, 'varied.csv');
    writeFileSync(input, syntheticCsv(2000));
    const result = await runCli(['encode', '--schema', schema, '--in', input, '--out', out], { BLINDLINK_SECRET: 'a passphrase' });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse((await runCli(['inspect', out, '--json'])).stdout) as { warnings: string[] };
    expect(report.warnings.join('\n')).toMatch(/no hardening/);
    expect(report.warnings.join('\n')).toMatch(/popcount reveals value lengths/);
    expect(report.warnings.join('\n')).toMatch(/not made by keygen/);
  });

  it('carries ids only when asked, and the secret never reaches any output', async () => {
    const out = join(dir, 'with-ids.arrow');
    const result = await runCli(encodeArgs(FIXTURE, out, '--id-column', 'record_id'));
    expect(result.code, result.stderr).toBe(0);
    expect((await readEncodedFile(out)).ids).toEqual(['T001', 'T002', 'T003', 'T004', 'T005']);
    const secret = readFileSync(secretFile, 'utf8').trim();
    expect(result.stdout + result.stderr + readFileSync(out).toString('latin1')).not.toContain(secret);
  });

  it('gives identical output whatever the worker count, and clkhash JSON with the same filters', async () => {
    const input = join(dir, 'many.csv');
    writeFileSync(input, syntheticCsv(10_000));
    const one = join(dir, 'one.arrow');
    const two = join(dir, 'two.arrow');
    const json = join(dir, 'two.json');
    expect((await runCli(encodeArgs(input, one, '--workers', '1'))).code).toBe(0);
    expect((await runCli(encodeArgs(input, two, '--workers', '2'))).code).toBe(0);
    expect((await runCli(encodeArgs(input, json, '--workers', '2'))).code).toBe(0);
    const [a, b, c] = await Promise.all([readEncodedFile(one), readEncodedFile(two), readEncodedFile(json)]);
    expect(a.count).toBe(10_000);
    // The encoder streams batches to disk in input order: the whole files agree, footer included.
    expect(readFileSync(one).equals(readFileSync(two))).toBe(true);
    expect(Buffer.from(a.clks).equals(Buffer.from(b.clks))).toBe(true);
    expect(Buffer.from(a.clks).equals(Buffer.from(c.clks))).toBe(true);
    expect(c.format).toBe('clkhash-json');
  });

  it('reads the secret from BLINDLINK_SECRET exactly as from a file', async () => {
    const fromEnv = join(dir, 'env.arrow');
    const args = ['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', fromEnv];
    const result = await runCli(args, { BLINDLINK_SECRET: readFileSync(secretFile, 'utf8').trim() });
    expect(result.code, result.stderr).toBe(0);
    const fromFile = join(dir, 'file.arrow');
    await runCli(encodeArgs(FIXTURE, fromFile));
    expect(Buffer.from((await readEncodedFile(fromEnv)).clks).equals(Buffer.from((await readEncodedFile(fromFile)).clks))).toBe(true);
  });

  it('warns when the secret is not a keygen secret, and records that in the metadata', async () => {
    const out = join(dir, 'passphrase.arrow');
    const result = await runCli(['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', out], { BLINDLINK_SECRET: 'correct horse battery staple' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: the secret is not a keygen secret/);
    expect(result.stderr).not.toContain('horse');
    expect((await readEncodedFile(out)).metadata?.secretSource).toBe('other');
    expect((await readEncodedFile(join(dir, 'taxpayers.arrow'))).metadata?.secretSource).toBe('keygen');
  });

  it('encodes Arrow input like the same CSV', async () => {
    const rows = readFileSync(FIXTURE, 'utf8').trim().split('\n').slice(1);
    const columns = HEADER.split(',');
    // The fixture's one quoted value holds a comma; split it by hand.
    const parsed = rows.map((row) => row.match(/("[^"]*"|[^,]*)(,|$)/g)!.slice(0, columns.length).map((cell) => cell.replace(/,$/, '').replace(/^"|"$/g, '')));
    const table = tableFromArrays(Object.fromEntries(columns.map((name, c) => [name, parsed.map((row) => row[c])])));
    const input = join(dir, 'people.arrow');
    writeFileSync(input, tableToIPC(table, 'file'));
    const fromArrow = join(dir, 'from-arrow.arrow');
    const result = await runCli(encodeArgs(input, fromArrow));
    expect(result.code, result.stderr).toBe(0);
    const fromCsv = join(dir, 'from-csv.arrow');
    await runCli(encodeArgs(FIXTURE, fromCsv));
    expect(Buffer.from((await readEncodedFile(fromArrow)).clks).equals(Buffer.from((await readEncodedFile(fromCsv)).clks))).toBe(true);
  });
});

describe('encode with keyed signature block keys', () => {
  const SIGNATURE_SCHEMA = new URL('../docs/examples/taxpayer-signature-schema.json', import.meta.url).pathname;
  const args = (input: string, output: string, ...extra: string[]) =>
    ['encode', '--schema', SIGNATURE_SCHEMA, '--secret-file', secretFile, '--in', input, '--out', output, ...extra];

  it('writes block_keys identically for 1 and 2 workers, leaving the filters as without blocking', async () => {
    const input = join(dir, 'keyed.csv');
    writeFileSync(input, syntheticCsv(10_000));
    const one = join(dir, 'keyed-1.arrow');
    const two = join(dir, 'keyed-2.arrow');
    const again = join(dir, 'keyed-again.arrow');
    const plain = join(dir, 'keyed-plain.arrow');
    for (const [out, workers] of [[one, '1'], [two, '2'], [again, '2']] as const) {
      const result = await runCli(args(input, out, '--workers', workers));
      expect(result.code, result.stderr).toBe(0);
    }
    expect((await runCli(encodeArgs(input, plain, '--workers', '2'))).code).toBe(0);
    const [a, b, c, d] = await Promise.all([one, two, again, plain].map((path) => readEncodedFile(path)));
    expect(a.blockKeys?.length).toBe(10_000 * 16);
    expect(Buffer.from(a.blockKeys ?? []).equals(Buffer.from(b.blockKeys ?? []))).toBe(true);
    expect(Buffer.from(a.blockKeys ?? []).equals(Buffer.from(c.blockKeys ?? []))).toBe(true);
    expect(Buffer.from(a.clks).equals(Buffer.from(b.clks))).toBe(true);
    // Blocking adds a column; the encodings themselves do not change.
    expect(Buffer.from(a.clks).equals(Buffer.from(d.clks))).toBe(true);
    expect(d.blockKeys).toBeNull();
    expect(a.metadata?.blocking).toEqual({ scheme: 'signature-v1', rules: ['soundex(surname)+birth-year', 'given-initial+zip5'] });
    expect(a.metadata?.schemaFingerprint).not.toBe(d.metadata?.schemaFingerprint);
  });

  it('gives the same person spelt two ways the same keys, and inspect shows keys are carried but never their values', async () => {
    const out = join(dir, 'keyed-fixture.arrow');
    expect((await runCli(args(FIXTURE, out))).code).toBe(0);
    const file = await readEncodedFile(out);
    const keys = file.blockKeys ?? new Uint8Array(0);
    // Rows 1 and 2 of the fixture are the same person (José O'Connor / JOSE OCONNOR).
    expect(Buffer.from(keys.subarray(0, 16)).equals(Buffer.from(keys.subarray(16, 32)))).toBe(true);
    expect(Buffer.from(keys.subarray(0, 16)).equals(Buffer.from(keys.subarray(32, 48)))).toBe(false);
    const human = await runCli(['inspect', out]);
    expect(human.stdout).toMatch(/block keys\s+signature-v1 \(rules: soundex\(surname\)\+birth-year, given-initial\+zip5\)/);
    expect(human.stdout).toMatch(/warning: carries keyed block keys: .* learns which records share a block/);
    const machine = JSON.parse((await runCli(['inspect', out, '--json'])).stdout) as { hasBlockKeys: boolean; metadata: { blocking: unknown } };
    expect(machine.hasBlockKeys).toBe(true);
    expect(machine.metadata.blocking).toEqual({ scheme: 'signature-v1', rules: ['soundex(surname)+birth-year', 'given-initial+zip5'] });
    for (let row = 0; row < 5; row++) {
      for (const slot of [0, 8]) {
        const value = keys.subarray(row * 16 + slot, row * 16 + slot + 8);
        if (value.every((byte) => byte === 0)) continue;
        for (const text of [human.stdout, JSON.stringify(machine)]) {
          expect(text).not.toContain(Buffer.from(value).toString('hex'));
          expect(text).not.toContain(Buffer.from(value).toString('base64'));
        }
      }
    }
    expect((await runCli(['inspect', join(dir, 'taxpayers.arrow')])).stdout).toMatch(/block keys\s+none/);
  });

  it('refuses clkhash JSON output, which has no place for the keys, before any work', async () => {
    const before = new Set(readdirSync(dir));
    const result = await runCli(args(FIXTURE, join(dir, 'keyed.json')));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/keyed\.json: clkhash JSON has no place for block keys.*write \.arrow/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir).filter((name) => !before.has(name))).toEqual([]);
  });
});

describe('encode: bad input', () => {
  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const good = 'T1,Ann,,Lee,1/2/1980,1 Main St,Austin,TX,73301';

  async function expectFailure(args: string[], pattern: RegExp, code = 1): Promise<void> {
    const before = new Set(readdirSync(dir));
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr.trim().split('\n').length).toBe(1); // one line, no stack trace
    const after = readdirSync(dir).filter((name) => !before.has(name));
    expect(after).toEqual([]); // no output, no temporary file
  }

  it('names the line of a malformed CSV row and writes nothing', async () => {
    const input = write('bad-quote.csv', `${HEADER}\n${good}\n${good}\nT3,"Ann,,Lee,1/2/1980,1 Main St,Austin,TX,73301\n`);
    await expectFailure(encodeArgs(input, join(dir, 'x.arrow')), /bad-quote\.csv: line 4: unterminated quoted field/);
  });

  it('names the line of a record that is not valid UTF-8', async () => {
    const input = join(dir, 'latin1.csv');
    writeFileSync(input, Buffer.concat([Buffer.from(`${HEADER}\n${good}\nT2,Ren`), Buffer.from([0xe9]), Buffer.from(',,Lee,1/2/1980,1 Main St,Austin,TX,73301\n')]));
    await expectFailure(encodeArgs(input, join(dir, 'x.arrow')), /latin1\.csv: line 3: invalid UTF-8/);
  });

  it('names the line of a row with the wrong number of fields, without quoting it', async () => {
    const input = write('short.csv', `${HEADER}\n${good}\nT2,Ann,Lee\n`);
    await expectFailure(encodeArgs(input, join(dir, 'x.arrow')), /short\.csv: line 3: expected 9 fields, found 3 \(use --on-error skip/);
  });

  it('lists schema columns missing from the input before any work', async () => {
    const input = write('cols.csv', `record_id,given_name,surname\nT1,Ann,Lee\n`);
    await expectFailure(encodeArgs(input, join(dir, 'x.arrow')), /cols\.csv: missing columns date_of_birth, street_address, city, state, zip/);
  });

  it('rejects an invalid schema naming the JSON path', async () => {
    const schema = write('bad-schema.json', JSON.stringify({ blindlink: 1, fields: [{ name: 'a', tokens: { type: 'qgram', q: 99 } }] }));
    await expectFailure(['encode', '--schema', schema, '--secret-file', secretFile, '--in', FIXTURE, '--out', join(dir, 'x.arrow')], /bad-schema\.json: \$\.fields\[0\]\.tokens\.q: must be an integer/);
  });

  it('rejects a missing secret, an empty secret file and a secret on the command line', async () => {
    await expectFailure(['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', join(dir, 'x.arrow')], /no secret: give --secret-file FILE or set BLINDLINK_SECRET/);
    const empty = write('empty.key', '\n');
    await expectFailure(['encode', '--schema', SCHEMA, '--secret-file', empty, '--in', FIXTURE, '--out', join(dir, 'x.arrow')], /empty\.key: the secret is empty/);
    await expectFailure(['encode', '--schema', SCHEMA, '--secret', 'hunter2', '--in', FIXTURE, '--out', join(dir, 'x.arrow')], /never accepted on the command line/, 2);
  });

  it('rejects empty input and header-only input', async () => {
    await expectFailure(encodeArgs(write('empty.csv', ''), join(dir, 'x.arrow')), /empty\.csv: input is empty/);
    await expectFailure(encodeArgs(write('header.csv', `${HEADER}\n`), join(dir, 'x.arrow')), /header\.csv: no records/);
  });

  it('rejects an unwritable output before any work', async () => {
    await expectFailure(encodeArgs(FIXTURE, join(dir, 'no-such-folder', 'x.arrow')), /cannot write output: folder .* does not exist/);
    const locked = scratchDir();
    chmodSync(locked, 0o500);
    if (process.getuid?.() !== 0) {
      await expectFailure(encodeArgs(FIXTURE, join(locked, 'x.arrow')), /cannot write output/);
    }
  });

  it('skips bad rows with --on-error skip and reports how many', async () => {
    const input = write('mixed.csv', `${HEADER}\n${good}\nT2,Ann\n${good}\nT4,"x\n`);
    const out = join(dir, 'mixed.arrow');
    const result = await runCli(encodeArgs(input, out, '--on-error', 'skip'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/skipped 2 bad records/);
    expect(result.stdout).toMatch(/line 3: expected 9 fields, found 2/);
    expect((await readEncodedFile(out)).count).toBe(2);
  });

  it('treats unknown options as usage errors (exit 2)', async () => {
    const result = await runCli(['encode', '--schema', SCHEMA, '--bogus']);
    expect(result.code).toBe(2);
  });

  it('leaves no file behind when killed mid-run', async () => {
    const input = write('big.csv', syntheticCsv(200_000));
    const folder = scratchDir();
    const out = join(folder, 'big.arrow');
    const child = spawn(process.execPath, [CLI, ...encodeArgs(input, out, '--workers', '1')], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(folder)).toEqual([]);
  });
});
