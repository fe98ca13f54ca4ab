// Reading the shared secret: the size cap (a wrong path such as /dev/zero must stop after one small
// read), file-system errors as one line, and the warning when both sources are set.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { keyCheckValue } from '../src/keys.js';
import { MAX_SECRET_BYTES, readSecret } from '../src/secret.js';
import { runCli, scratchDir } from './helpers/run-cli.js';

const SCHEMA = new URL('../docs/examples/taxpayer-schema.json', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/taxpayers.csv', import.meta.url).pathname;

describe('readSecret', () => {
  const dir = scratchDir();
  const file = (name: string, content: string | Uint8Array): string => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it('accepts secrets up to the cap, with or without a trailing newline, and refuses longer ones', async () => {
    const longest = 'k'.repeat(MAX_SECRET_BYTES);
    expect((await readSecret(file('max.key', longest))).length).toBe(MAX_SECRET_BYTES);
    expect((await readSecret(file('max-lf.key', `${longest}\n`))).length).toBe(MAX_SECRET_BYTES);
    expect((await readSecret(file('max-crlf.key', `${longest}\r\n`))).length).toBe(MAX_SECRET_BYTES);
    for (const content of [`${longest}k`, `${longest}k\n`, `${longest}\n\n`, 'k'.repeat(10 * MAX_SECRET_BYTES)]) {
      await expect(readSecret(file('long.key', content))).rejects.toThrow(/the secret is longer than 4096 bytes: is this the secret file\?/);
    }
    await expect(readSecret(undefined, { BLINDLINK_SECRET: `${longest}k` })).rejects.toThrow(/environment variable BLINDLINK_SECRET: the secret is longer than 4096 bytes/);
  });

  it('reads an endless device only up to the cap', async () => {
    await expect(readSecret('/dev/zero')).rejects.toThrow(new UserError('/dev/zero: the secret is longer than 4096 bytes: is this the secret file? (keygen writes 64 hex digits)'));
  });

  it('names file-system errors in words: a directory, a missing file', async () => {
    mkdirSync(join(dir, 'folder.key'));
    await expect(readSecret(join(dir, 'folder.key'))).rejects.toThrow(new UserError(`${join(dir, 'folder.key')}: cannot read secret (is a directory, EISDIR)`));
    await expect(readSecret(join(dir, 'nope.key'))).rejects.toThrow(new UserError(`${join(dir, 'nope.key')}: cannot read secret (no such file, ENOENT)`));
  });
});

describe('encode with both --secret-file and BLINDLINK_SECRET', () => {
  it('warns that it uses the file, and does', async () => {
    const dir = scratchDir();
    const fileSecret = 'cd'.repeat(32);
    writeFileSync(join(dir, 'secret.key'), `${fileSecret}\n`);
    const out = join(dir, 'out.arrow');
    const result = await runCli(['encode', '--schema', SCHEMA, '--secret-file', join(dir, 'secret.key'), '--in', FIXTURE, '--out', out, '--json'], { BLINDLINK_SECRET: 'ab'.repeat(32) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('blindlink: warning: both --secret-file and BLINDLINK_SECRET are set; using --secret-file\n');
    expect((JSON.parse(result.stdout) as { keyCheck: string }).keyCheck).toBe(keyCheckValue(new TextEncoder().encode(fileSecret)));
  });

  it('a secret file of /dev/zero ends at once with one line', async () => {
    const dir = scratchDir();
    const result = await runCli(['encode', '--schema', SCHEMA, '--secret-file', '/dev/zero', '--in', FIXTURE, '--out', join(dir, 'out.arrow')]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['blindlink: /dev/zero: the secret is longer than 4096 bytes: is this the secret file? (keygen writes 64 hex digits)']);
  });
});
