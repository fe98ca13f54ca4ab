// `blindlink psi blind|reblind|count` as two parties run it, over files: the count equals the
// plaintext intersection of the exact tokens, and every malformed or mismatched message is a
// one-line exit-1 error that leaves no output behind.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMessage } from '../src/psi/message.js';
import { runCli, scratchDir } from './helpers/run-cli.js';

const SCHEMA = JSON.stringify({
  blindlink: 1,
  fields: [
    { name: 'given_name', normalise: 'name', tokens: { type: 'qgram', q: 2 } },
    { name: 'surname', normalise: 'name', tokens: { type: 'qgram', q: 2 } },
    { name: 'date_of_birth', normalise: 'date', tokens: { type: 'date' } },
  ],
});
const HEADER = 'given_name,surname,date_of_birth\n';
// 40 shared people (12 spelled differently on the requester's side but equal after normalising),
// 20 only the requester has, 30 only the registry has; the requester asks twice about one person.
const shared = Array.from({ length: 40 }, (_, i) => [`Person${i}`, `Family${i % 7}`, `1970-01-${String((i % 28) + 1).padStart(2, '0')}`]);
const requesterRows = [
  ...shared.map((r, i) => (i < 12 ? [` ${r[0].toUpperCase()} `, `Mr ${r[1]}`, r[2].replaceAll('-', '')] : r)),
  ...Array.from({ length: 20 }, (_, i) => [`Asker${i}`, 'Only', '1980-02-03']),
  shared[0],
];
const registryRows = [...shared, ...Array.from({ length: 30 }, (_, i) => [`Tax${i}`, 'Payer', '1960-05-06'])];
const csv = (rows: string[][]): string => HEADER + rows.map((r) => r.join(',')).join('\n') + '\n';

let dir: string;
const path = (name: string): string => join(dir, name);

async function step(args: string[]) {
  return runCli(['psi', ...args]);
}

beforeAll(async () => {
  dir = scratchDir('blindlink-psi-');
  writeFileSync(path('schema.json'), SCHEMA);
  writeFileSync(path('requests.csv'), csv(requesterRows));
  writeFileSync(path('registry.csv'), csv(registryRows));
  for (const party of ['requester', 'registry']) expect((await runCli(['keygen', '--out', path(`${party}.key`)])).code).toBe(0);
  const blind = (role: string, input: string, out: string) =>
    step(['blind', '--role', role, '--key-file', path(`${role}.key`), '--schema', path('schema.json'), '--in', path(input), '--session', 'test 1', '--out', path(out), '--workers', '2', '--json']);
  const a = await blind('requester', 'requests.csv', 'req.psi');
  expect(a.stderr).toBe('');
  expect(JSON.parse(a.stdout)).toMatchObject({ records: 61, elements: 60, duplicates: 1, empty: 0 });
  expect((await blind('registry', 'registry.csv', 'reg.psi')).code).toBe(0);
  expect((await step(['reblind', '--key-file', path('registry.key'), '--in', path('req.psi'), '--session', 'test 1', '--out', path('req2.psi')])).code).toBe(0);
});

describe('psi over files', () => {
  it('counts exactly the shared normalised tokens, and says who learns what', async () => {
    const result = await step(['count', '--key-file', path('requester.key'), '--reblinded', path('req2.psi'), '--other', path('reg.psi'), '--session', 'test 1', '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ step: 'count', session: 'test 1', intersection: 40, ownElements: 60, otherElements: 70 });
  });

  it('writes messages with the protocol header and no plaintext', () => {
    const bytes = readFileSync(path('req.psi'));
    const header = JSON.parse(bytes.subarray(0, bytes.indexOf(10)).toString('utf8'));
    expect(header).toMatchObject({ protocol: 'blindlink-psi-cardinality', version: 1, step: 'blinded', set: 'requester', session: 'test 1', count: 60 });
    expect(bytes.length).toBe(bytes.indexOf(10) + 1 + 60 * 32);
    expect(bytes.includes(Buffer.from('Person1'))).toBe(false);
    expect(bytes.includes(Buffer.from('person1'))).toBe(false);
  });

  it("counts nothing when the count step uses the other party's key", async () => {
    const result = await step(['count', '--key-file', path('registry.key'), '--reblinded', path('req2.psi'), '--other', path('reg.psi'), '--session', 'test 1', '--json']);
    expect(JSON.parse(result.stdout).intersection).toBe(0);
  });
});

describe('psi refuses bad messages and mismatches', () => {
  const good = (): Buffer => readFileSync(path('req.psi'));
  const newline = (): number => good().indexOf(10);
  const withHeader = (edit: (h: Record<string, unknown>) => void): Buffer => {
    const bytes = good();
    const header = JSON.parse(bytes.subarray(0, newline()).toString('utf8')) as Record<string, unknown>;
    edit(header);
    return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), bytes.subarray(newline() + 1)]);
  };
  const cases: Array<[string, () => Buffer, RegExp]> = [
    ['an empty file', () => Buffer.alloc(0), /not a blindlink PSI message \(the file is empty\)/],
    ['a CSV file', () => Buffer.from(csv(registryRows)), /not a blindlink PSI message \(the header line is not JSON\)/],
    ['another protocol', () => withHeader((h) => (h.protocol = 'openmined-psi')), /protocol "openmined-psi"/],
    ['a future version', () => withHeader((h) => (h.version = 2)), /version 2 is not supported/],
    ['another group', () => withHeader((h) => (h.group = 'p256')), /group "p256"/],
    ['an unknown header field', () => withHeader((h) => (h.extra = 1)), /unknown field extra/],
    ['a bad count', () => withHeader((h) => (h.count = -1)), /count must be a non-negative integer/],
    ['a truncated body', () => good().subarray(0, good().length - 40), /header says 60 elements but the file holds 58\.75/],
    ['a non-canonical element', () => { const b = good(); b[newline() + 1 + 5 * 32 + 31] |= 0x80; return b; }, /element 5 is not a canonical group element/],
    ['a repeated element', () => { const b = good(); b.copyWithin(newline() + 1 + 32, newline() + 1, newline() + 33); return b; }, /element 1 repeats element 0/],
  ];
  it.each(cases)('%s', async (_name, make, message) => {
    writeFileSync(path('bad.psi'), make());
    await expect(readMessage(path('bad.psi'))).rejects.toThrow(message);
  });

  it('ends the command with exit 1, one line on stderr and no output file', async () => {
    writeFileSync(path('bad.psi'), good().subarray(0, good().length - 40));
    const result = await step(['reblind', '--key-file', path('registry.key'), '--in', path('bad.psi'), '--session', 'test 1', '--out', path('never.psi')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^blindlink: .*bad\.psi: header says 60 elements but the file holds 58\.75 \(truncated or corrupt\)\n$/);
    expect(existsSync(path('never.psi'))).toBe(false);
    expect(readdirSync(dir).some((name) => name.includes('partial'))).toBe(false);
  });

  it('refuses a low-order point when blinding it', async () => {
    const bytes = good();
    bytes.fill(0, newline() + 1 + 3 * 32, newline() + 1 + 4 * 32);
    bytes[newline() + 1 + 3 * 32] = 1;
    writeFileSync(path('bad.psi'), bytes);
    const result = await step(['reblind', '--key-file', path('registry.key'), '--in', path('bad.psi'), '--session', 'test 1', '--out', path('never.psi')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\.psi: element 3 is a low-order point/);
  });

  it('refuses a message of another session', async () => {
    const result = await step(['reblind', '--key-file', path('registry.key'), '--in', path('req.psi'), '--session', 'test 2', '--out', path('never.psi')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/belongs to session "test 1", not "test 2"/);
  });

  it('refuses to reblind a reblinded message, and a count over the wrong steps or one party twice', async () => {
    expect((await step(['reblind', '--key-file', path('registry.key'), '--in', path('req2.psi'), '--session', 'test 1', '--out', path('never.psi')])).stderr).toMatch(/is a reblinded message/);
    const count = (reblinded: string, other: string) => step(['count', '--key-file', path('requester.key'), '--reblinded', path(reblinded), '--other', path(other), '--session', 'test 1']);
    expect((await count('req.psi', 'reg.psi')).stderr).toMatch(/req\.psi: is a blinded message/);
    expect((await count('req2.psi', 'req2.psi')).stderr).toMatch(/req2\.psi: is a reblinded message/);
    expect((await count('req2.psi', 'req.psi')).stderr).toMatch(/holds the requester's set, the same party/);
  });

  it('refuses messages made with another schema', async () => {
    writeFileSync(path('other.psi'), (() => {
      const bytes = readFileSync(path('reg.psi'));
      const n = bytes.indexOf(10);
      const header = JSON.parse(bytes.subarray(0, n).toString('utf8')) as Record<string, unknown>;
      header.schema = '0'.repeat(64);
      return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), bytes.subarray(n + 1)]);
    })());
    const result = await step(['count', '--key-file', path('requester.key'), '--reblinded', path('req2.psi'), '--other', path('other.psi'), '--session', 'test 1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/different schema/);
  });

  it('reads the key only from --key-file: no key is a usage error, the shared-secret variable is ignored', async () => {
    const result = await runCli(['psi', 'reblind', '--in', path('req.psi'), '--session', 'test 1', '--out', path('never.psi')], { BLINDLINK_SECRET: 'f'.repeat(64) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--key-file/);
    const missing = await step(['reblind', '--key-file', path('nope.key'), '--in', path('req.psi'), '--session', 'test 1', '--out', path('never.psi')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.key: cannot read secret \(no such file, ENOENT\)/);
  });

  it('names the line and field of a record the schema rejects, and a missing column', async () => {
    writeFileSync(path('badcol.csv'), 'given_name,surname\nann,lee\n');
    const result = await step(['blind', '--role', 'requester', '--key-file', path('requester.key'), '--schema', path('schema.json'), '--in', path('badcol.csv'), '--session', 's', '--out', path('never.psi')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/badcol\.csv: missing column date_of_birth/);
  });
});
