// The streaming writer behind `encode`: files written a batch at a time read like the files the
// whole-in-memory writer made before it (fixtures from blindlink 0.1 in test/fixtures), byte for
// byte, and keep the reader's corruption checks (truncation, record count, popcounts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { popcounts } from '../src/bits.js';
import { readEncodedChunks, readEncodedFile, writeEncodedStream, type EncodedFile } from '../src/io/encoded-file.js';
import { scratchDir } from './helpers/run-cli.js';

const OLD_PLAIN = new URL('./fixtures/encoded-v0.1.arrow', import.meta.url).pathname;
const OLD_WITH_IDS_AND_KEYS = new URL('./fixtures/encoded-v0.1-ids-keys.arrow', import.meta.url).pathname;

/** Re-writes a file's records through the streaming writer in batches of `rows`, the count left to the writer. */
async function restream(file: EncodedFile, path: string, rows: number): Promise<void> {
  const { recordCount: _count, ...opening } = file.metadata!;
  const width = file.filterBits / 8;
  const keyWidth = file.blockKeys === null ? 0 : file.blockKeys.length / file.count;
  await writeEncodedStream(path, file.filterBits, opening, file.ids !== null, async (sink) => {
    for (let start = 0; start < file.count; start += rows) {
      const end = Math.min(file.count, start + rows);
      await sink.write({
        clks: file.clks.slice(start * width, end * width),
        popcounts: file.popcounts.slice(start, end),
        blockKeys: file.blockKeys === null ? null : file.blockKeys.slice(start * keyWidth, end * keyWidth),
        ids: file.ids === null ? null : file.ids.slice(start, end),
      });
    }
  });
}

describe('streaming encoded-file writer', () => {
  it('still reads files written by blindlink 0.1', async () => {
    const plain = await readEncodedFile(OLD_PLAIN);
    expect(plain.count).toBe(300);
    expect(plain.filterBits).toBe(256);
    expect(plain.metadata?.recordCount).toBe(300);
    expect(Array.from(plain.popcounts)).toEqual(Array.from(popcounts(plain.clks, 32)));
    const full = await readEncodedFile(OLD_WITH_IDS_AND_KEYS);
    expect(full.ids?.slice(0, 2)).toEqual(['id-0', 'id-1']);
    expect(full.blockKeys?.length).toBe(300 * 16);
    expect(full.metadata?.blocking?.rules).toHaveLength(2);
    expect(Buffer.from(full.clks).equals(Buffer.from(plain.clks))).toBe(true);
  });

  it('writes the old bytes for the old batching, and the same records for any batching, the count known only at the end', async () => {
    const dir = scratchDir();
    for (const fixture of [OLD_PLAIN, OLD_WITH_IDS_AND_KEYS]) {
      const file = await readEncodedFile(fixture);
      // blindlink 0.1 wrote these fixtures as one record batch.
      const same = join(dir, 'one-batch.arrow');
      await restream(file, same, 300);
      expect(readFileSync(same).equals(readFileSync(fixture)), fixture).toBe(true);
      for (const rows of [1, 7, 64]) {
        const path = join(dir, `restreamed-${rows}.arrow`);
        await restream(file, path, rows);
        const back = await readEncodedFile(path);
        expect(back.metadata).toEqual(file.metadata);
        expect(Buffer.from(back.clks).equals(Buffer.from(file.clks))).toBe(true);
        expect(back.ids).toEqual(file.ids);
        expect(back.blockKeys === null ? null : Buffer.from(back.blockKeys).equals(Buffer.from(file.blockKeys!))).toBe(file.blockKeys === null ? null : true);
      }
    }
  });

  it('keeps truncation and a wrong record count as clear errors', async () => {
    const dir = scratchDir();
    const file = await readEncodedFile(OLD_PLAIN);
    const path = join(dir, 'whole.arrow');
    await restream(file, path, 50);
    const bytes = readFileSync(path);
    for (const keep of [bytes.length - 1, Math.floor(bytes.length / 2), 100]) {
      const cut = join(dir, `cut-${keep}.arrow`);
      writeFileSync(cut, bytes.subarray(0, keep));
      await expect(readEncodedFile(cut)).rejects.toThrow(/cut-\d+\.arrow: not a readable Arrow IPC file \(truncated or corrupt\)/);
    }
    const { recordCount: _count, ...opening } = file.metadata!;
    const short = join(dir, 'short.arrow');
    await writeEncodedStream(short, 256, { ...opening, recordCount: 301 }, false, async (sink) => {
      await sink.write({ clks: file.clks, popcounts: file.popcounts, ids: null });
    });
    await expect(readEncodedFile(short)).rejects.toThrow(/short\.arrow: metadata says 301 records, file holds 300/);
  });

  it('streams clkhash JSON with the same filters', async () => {
    const dir = scratchDir();
    const file = await readEncodedFile(OLD_PLAIN);
    const { recordCount: _count, hardening, ...rest } = file.metadata!;
    const path = join(dir, 'clks.json');
    const written = await writeEncodedStream(path, 256, { ...rest, hardening }, false, async (sink) => {
      await sink.write({ clks: file.clks.slice(0, 32 * 10), popcounts: file.popcounts.slice(0, 10), ids: null });
      await sink.write({ clks: new Uint8Array(0), popcounts: new Uint16Array(0), ids: null });
      await sink.write({ clks: file.clks.slice(32 * 10), popcounts: file.popcounts.slice(10), ids: null });
    });
    expect(written.recordCount).toBe(300);
    const json = await readEncodedFile(path);
    expect(json.format).toBe('clkhash-json');
    expect(Buffer.from(json.clks).equals(Buffer.from(file.clks))).toBe(true);
  });
});

describe('chunked encoded-file reader', () => {
  it('gives the whole file back in chunks of any size, batch boundaries or not', async () => {
    const dir = scratchDir();
    const whole = await readEncodedFile(OLD_WITH_IDS_AND_KEYS);
    const path = join(dir, 'batches-of-7.arrow');
    await restream(whole, path, 7);
    for (const source of [OLD_WITH_IDS_AND_KEYS, path]) {
      for (const [rows, reuseBuffers] of [[1, false], [13, true], [299, false], [300, true], [1000, false]] as const) {
        const clks: Buffer[] = [];
        const ids: string[] = [];
        let next = 0;
        for await (const chunk of readEncodedChunks(source, rows, { shared: true, reuseBuffers })) {
          expect(chunk.start).toBe(next);
          expect(chunk.count).toBe(Math.min(rows, 300 - next));
          expect(chunk.clks.buffer).toBeInstanceOf(SharedArrayBuffer);
          expect(chunk.blockKeys?.length).toBe(chunk.count * 16);
          next += chunk.count;
          clks.push(Buffer.from(chunk.clks));
          ids.push(...chunk.ids!);
        }
        expect(next).toBe(300);
        expect(Buffer.concat(clks).equals(Buffer.from(whole.clks))).toBe(true);
        expect(ids).toEqual(whole.ids);
      }
    }
  });

  it('checks the record count before it hands over the last chunk', async () => {
    const dir = scratchDir();
    const file = await readEncodedFile(OLD_PLAIN);
    const { recordCount: _count, ...opening } = file.metadata!;
    const long = join(dir, 'long.arrow');
    await writeEncodedStream(long, 256, { ...opening, recordCount: 299 }, false, async (sink) => {
      await sink.write({ clks: file.clks, popcounts: file.popcounts, ids: null });
    });
    const seen: number[] = [];
    const read = async (): Promise<void> => {
      for await (const chunk of readEncodedChunks(long, 100)) seen.push(chunk.start);
    };
    await expect(read()).rejects.toThrow(/long\.arrow: metadata says 299 records, file holds 300/);
    expect(seen).toEqual([0, 100]);
  });

  it('cuts the per-record presence column with the filters', async () => {
    const dir = scratchDir();
    const file = await readEncodedFile(OLD_PLAIN);
    const { recordCount: _count, ...opening } = file.metadata!;
    const path = join(dir, 'presence.arrow');
    const presence = Uint8Array.from({ length: 300 }, (_, i) => i % 8);
    await writeEncodedStream(path, 256, { ...opening, presenceFields: ['given', 'surname', 'zip'] }, false, async (sink) => {
      for (let start = 0; start < 300; start += 64) {
        const end = Math.min(300, start + 64);
        await sink.write({ clks: file.clks.slice(start * 32, end * 32), popcounts: file.popcounts.slice(start, end), presence: presence.slice(start, end), ids: null });
      }
    });
    const parts: number[] = [];
    for await (const chunk of readEncodedChunks(path, 7, { reuseBuffers: true })) parts.push(...chunk.presence!);
    expect(parts).toEqual(Array.from(presence));
    expect((await readEncodedFile(path)).metadata?.presenceFields).toEqual(['given', 'surname', 'zip']);
  });
});
