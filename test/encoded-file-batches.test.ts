// Files of many record batches read back whole. The flatbuffer guard once charged every length
// request to the footer's budget, and apache-arrow asks for the record-batch vector's length once
// per batch, so an encoding of about 8 M records or more (thousands of batches) was refused as
// "not a readable Arrow IPC file". Small batches reproduce the count of batches cheaply.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEncodedChunks, readEncodedFile, writeEncodedStream } from '../src/io/encoded-file.js';
import { popcounts } from '../src/bits.js';
import { scratchDir } from './helpers/run-cli.js';

const FILTER_BYTES = 8;

async function writeManyBatches(path: string, batches: number, rows: number): Promise<Uint8Array> {
  const clks = new Uint8Array(batches * rows * FILTER_BYTES);
  for (let i = 0; i < clks.length; i++) clks[i] = (i * 2654435761) >>> 24;
  await writeEncodedStream(
    path,
    FILTER_BYTES * 8,
    { blindlinkVersion: '0.1.0', schemaFingerprint: 'f'.repeat(64), keyCheck: 'k'.repeat(16), filterBits: FILTER_BYTES * 8, hardening: 'none' },
    false,
    async (sink) => {
      for (let b = 0; b < batches; b++) {
        const part = clks.subarray(b * rows * FILTER_BYTES, (b + 1) * rows * FILTER_BYTES);
        await sink.write({ clks: part, popcounts: popcounts(part, FILTER_BYTES), blockKeys: null, ids: null });
      }
    },
  );
  return clks;
}

describe('encoded files of many record batches', () => {
  it('reads 6,000 batches whole and in chunks, every record in order', async () => {
    const path = join(scratchDir(), 'many.arrow');
    const clks = await writeManyBatches(path, 6000, 2);
    const file = await readEncodedFile(path);
    expect(file.count).toBe(12_000);
    expect(Buffer.from(file.clks).equals(Buffer.from(clks))).toBe(true);
    let records = 0;
    for await (const chunk of readEncodedChunks(path, 5000)) records += chunk.count;
    expect(records).toBe(12_000);
  }, 60_000);
});
