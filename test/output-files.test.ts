// Outputs under hostile conditions: targets that are not regular files (refused for every command
// that writes), disk full (a one-line error, no unhandled rejection, nothing left behind), and
// temporary files a killed writer left (removed by the next run, and only those).
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { writeAtomically, writeChunk } from '../src/io/atomic-file.js';
import { assertOutputTarget } from '../src/io/output-path.js';
import { partialPattern, removeStalePartials } from '../src/io/partial-files.js';
import { runCli, scratchDir } from './helpers/run-cli.js';

const SCHEMA = new URL('../docs/examples/taxpayer-schema.json', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/taxpayers.csv', import.meta.url).pathname;
const SECRET = { BLINDLINK_SECRET: 'ab'.repeat(32) };

let dir: string;
let encoded: string;
let truth: string;
let pairs: string;

function mkfifo(path: string): void {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
}

beforeAll(async () => {
  dir = scratchDir();
  encoded = join(dir, 'people.arrow');
  expect((await runCli(['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', encoded], SECRET)).code).toBe(0);
  truth = join(dir, 'truth.csv');
  writeFileSync(truth, 'request_row,registry_row\n0,0\n1,1\n');
  pairs = join(dir, 'pairs.csv');
  writeFileSync(pairs, 'index_a,index_b,score\n0,0,0.9\n1,2,0.8\n');
});

/** Every command that writes a file, pointed at `target`. */
function writers(target: string): Array<{ name: string; args: string[] }> {
  return [
    { name: 'encode --out', args: ['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', target] },
    { name: 'keygen --out', args: ['keygen', '--out', target] },
    { name: 'match --out', args: ['match', encoded, encoded, '--threshold', '0.9', '--reveal', 'pairs', '--out', target] },
    { name: 'evaluate --plot', args: ['evaluate', '--truth', truth, '--pairs', pairs, '--plot', target] },
  ];
}

describe('outputs that exist and are not regular files are refused', () => {
  const kinds: Array<{ kind: string; make: (path: string) => void; described: RegExp }> = [
    { kind: 'symbolic link to a file', make: (path) => symlinkSync(join(dir, 'victim.txt'), path), described: /is a symbolic link/ },
    { kind: 'dangling symbolic link', make: (path) => symlinkSync(join(dir, 'nowhere', 'x'), path), described: /is a symbolic link/ },
    { kind: 'FIFO', make: mkfifo, described: /is a FIFO/ },
    { kind: 'directory', make: (path) => mkdirSync(path), described: /is a directory/ },
  ];

  it.each(kinds)('$kind: every writing command exits 1 naming the path, and the entry is untouched', async ({ kind, make, described }) => {
    writeFileSync(join(dir, 'victim.txt'), 'keep me\n');
    let n = 0;
    for (const { name, args } of writers('PLACEHOLDER')) {
      const target = join(dir, `target-${kind.replace(/\W/g, '-')}-${n++}`);
      make(target);
      const before = lstatSync(target);
      const result = await runCli(args.map((arg) => (arg === 'PLACEHOLDER' ? target : arg)), SECRET);
      expect(result.code, `${name}: ${result.stderr}`).toBe(1);
      const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('blindlink: warning:'));
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toContain(target);
      expect(lines[0], name).toMatch(described);
      const after = lstatSync(target);
      expect([after.isSymbolicLink(), after.isFIFO(), after.isDirectory(), after.ino], name).toEqual([before.isSymbolicLink(), before.isFIFO(), before.isDirectory(), before.ino]);
    }
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe('keep me\n');
  });

  it('synth refuses an --out-dir whose registry.csv, requests.csv or truth.csv is a symbolic link', async () => {
    for (const name of ['registry.csv', 'requests.csv', 'truth.csv']) {
      const folder = join(dir, `synth-${name}`);
      mkdirSync(folder);
      writeFileSync(join(dir, 'victim.txt'), 'keep me\n');
      symlinkSync(join(dir, 'victim.txt'), join(folder, name));
      const result = await runCli(['synth', '--registry', '20', '--requests', '5', '--out-dir', folder]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`${name}: refusing to write output: it exists and is a symbolic link`));
      expect(readdirSync(folder)).toEqual([name]);
      expect(lstatSync(join(folder, name)).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe('keep me\n');
    }
  });

  it('devices are refused before anything is written (checked without writing to one)', async () => {
    for (const device of ['/dev/null', '/dev/full', '/dev/zero']) {
      if (!existsSync(device)) continue;
      await expect(assertOutputTarget(device)).rejects.toThrow(new UserError(`${device}: refusing to write output: it exists and is a device, not a regular file (outputs replace their target)`));
    }
    await expect(assertOutputTarget(join(dir, 'not-yet.arrow'))).resolves.toBeUndefined();
    await expect(assertOutputTarget(pairs)).resolves.toBeUndefined();
  });

  it('an existing regular file is still replaced, as before', async () => {
    const target = join(dir, 'replace-me.arrow');
    writeFileSync(target, 'old');
    const result = await runCli(['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', target], SECRET);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(target).subarray(0, 6).toString()).toBe('ARROW1');
  });
});

describe('disk full', () => {
  it('a write error while producing rejects once, as a UserError, and removes the temporary file', async () => {
    const folder = scratchDir();
    const target = join(folder, 'out.csv');
    const attempt = writeAtomically(target, async (out) => {
      await writeChunk(out, 'header\n');
      // What the kernel reports when the disk fills up under a write.
      out.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      for (let i = 0; i < 100; i++) await writeChunk(out, 'x'.repeat(65536));
    });
    await expect(attempt).rejects.toThrow(new UserError(`${target}: cannot write output (no space left on device, ENOSPC)`));
    expect(readdirSync(folder)).toEqual([]);
  });

  it('a write error that produce never sees still ends the write with the same error', async () => {
    const folder = scratchDir();
    const target = join(folder, 'out.csv');
    const attempt = writeAtomically(target, async (out) => {
      out.write('header\n');
      out.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('produce failed for its own reason');
    });
    await expect(attempt).rejects.toThrow(/produce failed for its own reason/);
    expect(readdirSync(folder)).toEqual([]);
  });

  // A real full file system needs a mount, which only root can make: the two tests above cover the
  // same code paths anywhere, this one shows the whole command on a 64 KiB tmpfs where possible.
  const tiny = scratchDir();
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', tiny]).status === 0;
  it.skipIf(!mounted)('encode, match --out and synth on a full tmpfs: exit 1, one line, nothing left behind (root only)', async () => {
    try {
      const big = join(dir, 'many.csv');
      const rows = readFileSync(FIXTURE, 'utf8').trim().split('\n');
      writeFileSync(big, [rows[0], ...Array.from({ length: 3000 }, (_, i) => rows[1 + (i % 5)].replace(/^T00\d/, `R${i}`))].join('\n'));
      const runs = [
        await runCli(['encode', '--schema', SCHEMA, '--in', big, '--out', join(tiny, 'full.arrow')], SECRET),
        await runCli(['encode', '--schema', SCHEMA, '--in', big, '--out', join(tiny, 'full.json')], SECRET),
        await runCli(['synth', '--registry', '5000', '--requests', '100', '--out-dir', join(tiny, 'synth')]),
      ];
      for (const result of runs) {
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toMatch(/cannot write output \(no space left on device, ENOSPC\)/);
      }
      expect(readdirSync(tiny).filter((name) => name !== 'synth')).toEqual([]);
      expect(readdirSync(join(tiny, 'synth'))).toEqual([]);
    } finally {
      spawnSync('umount', [tiny]);
    }
  });
});

describe('temporary files a killed writer left behind', () => {
  it('are removed by the next write of the same target: only ours, only dead writers', async () => {
    const folder = scratchDir();
    const target = join(folder, 'out.arrow');
    const stale = ['.out.arrow.4194305.0123456789ab.partial', '.out.arrow.0123456789ab.partial'];
    const kept = [
      `.out.arrow.${process.pid}.0123456789ab.partial`, // a live writer (this test process)
      '.out.arrow.partial',
      '.out.arrow.4194305.0123456789abc.partial',
      '.out.arrow.4194305.0123456789AB.partial',
      '.other.arrow.4194305.0123456789ab.partial',
      '.xout.arrow.0123456789ab.partial',
      'out.arrow.0123456789ab.partial',
      'notes.txt',
    ];
    for (const name of [...stale, ...kept]) writeFileSync(join(folder, name), 'partial');
    mkdirSync(join(folder, '.out.arrow.4194306.0123456789ab.partial'));
    symlinkSync(join(folder, 'notes.txt'), join(folder, '.out.arrow.4194307.0123456789ab.partial'));
    const result = await runCli(['encode', '--schema', SCHEMA, '--in', FIXTURE, '--out', target], SECRET);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(folder).sort()).toEqual(
      ['out.arrow', ...kept, '.out.arrow.4194306.0123456789ab.partial', '.out.arrow.4194307.0123456789ab.partial'].sort(),
    );
    expect(await removeStalePartials(target)).toBe(0);
  });

  it('the pattern matches exactly our naming, with regular-expression characters in the name escaped', () => {
    const pattern = partialPattern('a+b (1).csv');
    expect(pattern.test('.a+b (1).csv.12.0123456789ab.partial')).toBe(true);
    expect(pattern.test('.aab (1).csv.12.0123456789ab.partial')).toBe(false);
    expect(pattern.test('.a+b (1).csv.12.0123456789ab.partial.bak')).toBe(false);
  });
});
