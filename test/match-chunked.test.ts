// Bounded-memory matching: the larger file searched in chunks gives byte for byte the matching of
// one pass (pairs CSV, count, comparisons), for all pairs and LSH, whichever side is larger and
// whatever the chunk size; the LSH plan made from a chunked sample is the whole file's plan.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lshPlanFor, PlanSampler } from '../src/blocking/lsh-plan.js';
import { readEncodedChunks, readEncodedFile } from '../src/io/encoded-file.js';
import { matchFiles, type MatchOptions } from '../src/match/match-files.js';
import { chunkRecordsFor, parseByteSize, passBytes } from '../src/match/memory-budget.js';
import { runCli, scratchDir } from './helpers/run-cli.js';
import { writePlantedFiles } from './helpers/planted.js';

let dir: string;
let files: { a: string; b: string };

beforeAll(async () => {
  dir = scratchDir();
  files = await writePlantedFiles(dir, 1500, 9000, 600, 21);
});

async function pairsOf(options: Partial<MatchOptions> & { a: string; b: string }, name: string): Promise<{ csv: string; count: number; compared: number; chunks: number }> {
  const out = join(dir, `${name}.csv`);
  const report = await matchFiles({ threshold: 0.8, reveal: 'pairs', epsilon: null, out, workers: 1, warn: () => undefined, ...options });
  return { csv: readFileSync(out, 'utf8'), count: report.count, compared: report.blocking!.pairsCompared, chunks: report.blocking!.chunks?.count ?? 1 };
}

describe('chunked matching', () => {
  // LSH at 0.8 on 1024-bit filters needs hundreds of tables: fewer cases keep the test quick.
  const cases = { none: [4500, 2999, 1000, 777], lsh: [2999, 1000] };
  for (const blocking of ['none', 'lsh'] as const) {
    it(`gives the single pass's matching for --blocking ${blocking}, whatever the chunk size and side`, async () => {
      for (const [a, b] of [[files.a, files.b], [files.b, files.a]]) {
        const whole = await pairsOf({ a, b, blocking }, 'whole');
        expect(whole.chunks).toBe(1);
        expect(whole.count).toBeGreaterThan(400);
        for (const chunkRecords of a === files.a ? cases[blocking] : cases[blocking].slice(0, 1)) {
          const chunked = await pairsOf({ a, b, blocking, chunkRecords, workers: chunkRecords === 1000 ? 2 : 1 }, `chunks-${chunkRecords}`);
          expect(chunked.chunks).toBe(Math.ceil(9000 / chunkRecords));
          expect(chunked.csv, `${blocking}, chunks of ${chunkRecords}`).toBe(whole.csv);
          expect(chunked.count).toBe(whole.count);
          expect(chunked.compared).toBe(whole.compared);
        }
      }
    });
  }

  it('plans LSH from a chunked sample exactly as from the whole file', async () => {
    const [a, b] = await Promise.all([readEncodedFile(files.a), readEncodedFile(files.b)]);
    for (const chunkRecords of [9000, 1234, 100]) {
      const sampler = new PlanSampler(b.filterBits, b.count);
      for await (const chunk of readEncodedChunks(files.b, chunkRecords)) sampler.add(chunk, chunk.start);
      expect(lshPlanFor(a, sampler.sample(), { threshold: 0.8 })).toEqual(lshPlanFor(a, b, { threshold: 0.8 }));
    }
  });

  it('chooses chunks from the budget, and says how small is too small', () => {
    const inputs = { filterBits: 2048, smallCount: 1_280_000, largeCount: 50_000_000, smallHasIds: false, method: 'lsh' as const, workers: 2 };
    expect(chunkRecordsFor({ ...inputs, largeCount: 10_000_000 }, 12 * 2 ** 30, '--memory-budget')).toBe(10_000_000);
    const chunk = chunkRecordsFor(inputs, 12 * 2 ** 30, '--memory-budget');
    expect(chunk).toBeLessThan(50_000_000);
    expect(passBytes(inputs, chunk)).toBeLessThan(12 * 2 ** 30);
    expect(() => chunkRecordsFor(inputs, 2 ** 29, '--memory-budget')).toThrow(/--memory-budget 512\.0 MiB is too small: the 1280000-record side alone needs about [\d.]+ MiB, so give at least/);
    expect(parseByteSize('8GiB')).toBe(8 * 2 ** 30);
    expect(parseByteSize('500 MB')).toBe(5e8);
    expect(parseByteSize('1.5gib')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('12')).toBe(12);
    for (const bad of ['', 'lots', '-1GiB', '8 GiBs', '0']) expect(parseByteSize(bad)).toBeNull();
  });

  it('takes --memory-budget on the command line, refusing sizes it cannot read', async () => {
    const ok = await runCli(['match', files.a, files.b, '--threshold', '0.8', '--memory-budget', '1GiB', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const whole = await pairsOf({ a: files.a, b: files.b }, 'cli-whole');
    expect(JSON.parse(ok.stdout).count).toBe(whole.count);
    const bad = await runCli(['match', files.a, files.b, '--threshold', '0.8', '--memory-budget', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--memory-budget: expected a size such as 8GiB/);
    const small = await runCli(['match', files.a, files.b, '--threshold', '0.8', '--memory-budget', '1MiB']);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/--memory-budget 1\.0 MiB is too small/);
  });
});
