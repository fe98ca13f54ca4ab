// Corrupt and surprising encoded files: every one ends in one line naming the file within a bounded
// time (a flipped bit at byte 8, 9 or 16 made the Arrow reader re-read 4 bytes forever), and never
// allocates by a corrupt width. Also what inspect calls a file without metadata, and the warning
// for a file matched against itself.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressionRegistry, CompressionType, Field, FixedSizeBinary, makeData, RecordBatch, RecordBatchFileWriter, Schema, Struct, Table, tableToIPC, Uint16 } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { popcounts } from '../src/bits.js';
import { readEncodedFile, writeEncodedFile } from '../src/io/encoded-file.js';
import { randomFilters, seeded } from './helpers/clk-json.js';
import { CLI, runCli, scratchDir } from './helpers/run-cli.js';

const dir = scratchDir();
const path = (name: string): string => join(dir, name);
// Far above what one of these runs takes; reaching it means the command hung.
const HANG_MS = 20_000;

interface Run {
  code: number | null;
  stderr: string;
  hung: boolean;
}

function runBounded(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let hung = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, hung });
    });
  });
}

function oneLineError(run: Run, file: string): void {
  expect(run.hung, `${file}: hung`).toBe(false);
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.trim().split('\n').filter((line) => !line.startsWith('blindlink: warning:'));
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toContain(file);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

const metadata = { blindlinkVersion: '0.1.0', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits: 1024, recordCount: 40, hardening: 'none' };

beforeAll(async () => {
  const set = randomFilters(40, 1024, 0.5, seeded(5));
  await writeEncodedFile(path('good.arrow'), { clks: set.clks, popcounts: popcounts(set.clks, 128), ids: null, filterBits: 1024, metadata });
  writeFileSync(path('truth.csv'), 'request_row,registry_row\n0,0\n');
});

describe('one flipped bit in a valid Arrow file', () => {
  // Bytes 8-11 are the first message's continuation marker, 12-15 its length, 16 on its metadata.
  it.each([8, 9, 16])('at byte %i: inspect, match and evaluate end in one line, without hanging', async (byte) => {
    const flipped = Buffer.from(readFileSync(path('good.arrow')));
    flipped[byte] ^= 1;
    const file = path(`flip-${byte}.arrow`);
    writeFileSync(file, flipped);
    const runs = await Promise.all([
      runBounded(['inspect', file]),
      runBounded(['match', file, path('good.arrow'), '--threshold', '0.9', '--workers', '1']),
      runBounded(['evaluate', '--truth', path('truth.csv'), '--encoded', file, path('good.arrow'), '--blocking', 'lsh', '--threshold', '0.9', '--workers', '1']),
    ]);
    for (const run of runs) oneLineError(run, file);
  }, 3 * HANG_MS);

  it('anywhere in the first 64 bytes, in a bounded number of reads, in process', async () => {
    const good = readFileSync(path('good.arrow'));
    for (let byte = 0; byte < 64; byte++) {
      for (const bit of [0, 7]) {
        const flipped = Buffer.from(good);
        flipped[byte] ^= 1 << bit;
        const file = path('flip-any.arrow');
        writeFileSync(file, flipped);
        // Either it still reads (a flip in padding or a metadata value) or it fails as a UserError.
        await readEncodedFile(file).then(
          (read) => expect(read.count).toBe(40),
          (error: Error) => expect(error.name, `byte ${byte} bit ${bit}: ${error.message}`).toBe('UserError'),
        );
      }
    }
  });
});

describe('files that are not what they claim', () => {
  it('a clk column of absurd width is refused before anything is allocated for it', async () => {
    const width = 1 << 20; // 8 Mbit: 65536 rows of it were allocated up front (64 GiB)
    const schema = new Schema([new Field('clk', new FixedSizeBinary(width), false), new Field('popcount', new Uint16(), false)]);
    const data = makeData({
      type: new Struct(schema.fields),
      length: 1,
      nullCount: 0,
      children: [makeData({ type: new FixedSizeBinary(width), length: 1, nullCount: 0, data: new Uint8Array(width) }), makeData({ type: new Uint16(), length: 1, nullCount: 0, data: Uint16Array.of(0) })],
    });
    writeFileSync(path('wide.arrow'), tableToIPC(new Table([new RecordBatch(schema, data)]), 'file'));
    const run = await runBounded(['inspect', path('wide.arrow')]);
    oneLineError(run, path('wide.arrow'));
    expect(run.stderr).toMatch(/column 'clk' is 1048576 bytes wide; filters are 1 to 16384 bytes/);
  });

  it('a JSON array is named as such, not as a broken Arrow file', async () => {
    writeFileSync(path('array.json'), '[{"clks": []}]');
    const run = await runBounded(['inspect', path('array.json')]);
    oneLineError(run, path('array.json'));
    expect(run.stderr).toMatch(/a JSON array; an encoded file is Arrow IPC or a clkhash object/);
  });

  it('compressed record batches are named as such', async () => {
    // A stand-in "ZSTD" codec, registered only in this test process: the CLI has none, like for real ZSTD.
    const magic = [0x28, 0xb5, 0x2f, 0xfd, 0, 0];
    compressionRegistry.set(CompressionType.ZSTD, {
      encode: (bytes: Uint8Array) => Uint8Array.from([...magic, ...bytes]),
      decode: (bytes: Uint8Array) => bytes.subarray(magic.length),
    });
    try {
      const set = randomFilters(4, 1024, 0.5, seeded(9));
      const table = new Table({
        clk: makeData({ type: new FixedSizeBinary(128), length: 4, nullCount: 0, data: set.clks }),
        popcount: makeData({ type: new Uint16(), length: 4, nullCount: 0, data: popcounts(set.clks, 128) }),
      });
      const writer = new RecordBatchFileWriter({ compressionType: CompressionType.ZSTD });
      writeFileSync(path('zstd.arrow'), await writer.writeAll(table).toUint8Array());
    } finally {
      compressionRegistry.set(CompressionType.ZSTD, {});
    }
    const run = await runBounded(['inspect', path('zstd.arrow')]);
    oneLineError(run, path('zstd.arrow'));
    expect(run.stderr).toMatch(/record batches say they are compressed \(LZ4 or ZSTD\)/);
  });

  it('a directory given as an encoded file, to inspect, match or evaluate, is one line', async () => {
    mkdirSync(path('folder.arrow'));
    oneLineError(await runBounded(['inspect', path('folder.arrow')]), path('folder.arrow'));
    oneLineError(await runBounded(['match', path('folder.arrow'), path('good.arrow'), '--threshold', '0.9']), path('folder.arrow'));
    const evaluate = await runBounded(['evaluate', '--truth', path('folder.arrow'), '--pairs', path('truth.csv')]);
    oneLineError(evaluate, path('folder.arrow'));
    expect(evaluate.stderr).toMatch(/is a directory, EISDIR/);
  });
});

describe('inspect and match on files without blindlink metadata', () => {
  it('inspect says an Arrow file lacks metadata, and calls only JSON files clkhash JSON', async () => {
    const set = randomFilters(3, 1024, 0.5, seeded(3));
    const table = new Table({
      clk: makeData({ type: new FixedSizeBinary(128), length: 3, nullCount: 0, data: set.clks }),
      popcount: makeData({ type: new Uint16(), length: 3, nullCount: 0, data: popcounts(set.clks, 128) }),
    });
    writeFileSync(path('bare.arrow'), tableToIPC(table, 'file'));
    const result = await runCli(['inspect', path('bare.arrow')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/metadata {10}none \(an Arrow file without blindlink metadata\)/);
    expect(result.stdout).not.toMatch(/clkhash JSON/);
    const json = await runCli(['inspect', path('bare.arrow'), '--json']);
    expect((JSON.parse(json.stdout) as { warnings: string[] }).warnings[0]).toMatch(/^no metadata \(an Arrow file without blindlink metadata\)/);
  });

  it('match warns when a file is matched against itself or a copy', async () => {
    writeFileSync(path('copy.arrow'), readFileSync(path('good.arrow')));
    for (const other of ['good.arrow', 'copy.arrow']) {
      const result = await runCli(['match', path('good.arrow'), path(other), '--threshold', '0.9']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/warning: .*good\.arrow and .*\.arrow hold the same encodings: every record will match itself/);
    }
    const set = randomFilters(40, 1024, 0.5, seeded(6));
    await writeEncodedFile(path('other.arrow'), { clks: set.clks, popcounts: popcounts(set.clks, 128), ids: null, filterBits: 1024, metadata });
    expect((await runCli(['match', path('good.arrow'), path('other.arrow'), '--threshold', '0.9'])).stderr).toBe('');
  });
});
