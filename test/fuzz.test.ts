// The fuzz suite, seeded and quick: a few hundred mutated inputs through the library in process and
// a sample through the real CLI, each judged by the oracle in bench/fuzz/harness.ts (exit 0, 1 or
// 2; one clean line on failure; no stack trace, hang, partial file or leaked canary). `npm run
// fuzz` runs thousands. Findings the fuzzer made are replayed here by their seed and case number.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, fuzz, judgeCli, runInProcessCase, type Corpus } from '../bench/fuzz/harness.js';
import { CorruptFlatbufferError } from '../src/io/flatbuffer-guard.js';
import { scratchDir } from './helpers/scratch.js';

const SEED = 20261204;
let corpus: Corpus;
let findingsCorpus: Corpus;

beforeAll(async () => {
  corpus = await buildCorpus(join(scratchDir('blindlink-fuzz-'), 'corpus'), SEED);
  // The corpus the long runs found their cases in (seed 7).
  findingsCorpus = await buildCorpus(join(scratchDir('blindlink-fuzz-'), 'corpus'), 7);
}, 60_000);

describe('fuzz', () => {
  it('600 mutated inputs through the library: each succeeds or fails as one clean UserError', async () => {
    const report = await fuzz(corpus, { seed: SEED, inProcessCases: 600, cliCases: 0 });
    expect(report.findings).toEqual([]);
  }, 120_000);

  it('28 mutated inputs through the CLI (every command that reads one): exit 0, 1 or 2, one line, nothing left behind, no canary', async () => {
    const report = await fuzz(corpus, { seed: SEED, inProcessCases: 0, cliCases: 28, concurrency: 2 });
    expect(report.findings).toEqual([]);
  }, 240_000);

  it('replays what earlier runs found', async () => {
    // seed 7, case 1009: two flipped bits in an encoded file's footer made a flatbuffer vector
    // claim millions of entries; decoding the schema filled the heap until Node aborted.
    expect(await runInProcessCase(findingsCorpus, 7, 1009)).toBeNull();
  }, 60_000);
});

describe('the flatbuffer guard', () => {
  it('refuses a vector longer than its buffer, and endless re-reading of one buffer', () => {
    const bytes = new Uint8Array(64);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, 8, true); // the vector sits 8 bytes on
    view.setInt32(8, 1_000_000, true); // and claims a million entries
    expect(() => new ByteBuffer(bytes).__vector_len(0)).toThrow(CorruptFlatbufferError);
    view.setInt32(8, 3, true);
    const buffer = new ByteBuffer(bytes);
    expect(buffer.__vector_len(0)).toBe(3);
    expect(() => {
      for (let i = 0; i < 10_000; i++) buffer.__vector_len(0);
    }).toThrow(CorruptFlatbufferError);
  });
});

describe('the oracle itself', () => {
  const clean = { code: 1, signal: null, stdout: '', stderr: 'blindlink: x.csv: line 3: bad\n', hung: false };
  /** The corpus folder as it is now: a run that adds nothing to it passes this check. */
  const noNewFiles = (): { dir: string; before: string[]; target: null } => ({ dir: corpus.dir, before: readdirSync(corpus.dir), target: null });

  it('accepts one clean line, warnings beside it, and a clean success', () => {
    expect(judgeCli(clean, corpus, noNewFiles(), 1000)).toBeNull();
    expect(judgeCli({ ...clean, stderr: `blindlink: warning: w\n${clean.stderr}` }, corpus, noNewFiles(), 1000)).toBeNull();
    expect(judgeCli({ ...clean, code: 0, stderr: '', stdout: 'encoded 3 records' }, corpus, noNewFiles(), 1000)).toBeNull();
  });

  it('catches hangs, signals, other exit codes, stack traces, extra lines, leftovers and canaries', () => {
    expect(judgeCli({ ...clean, hung: true }, corpus, noNewFiles(), 1000)).toMatch(/still running/);
    expect(judgeCli({ ...clean, code: null, signal: 'SIGABRT' }, corpus, noNewFiles(), 1000)).toMatch(/SIGABRT/);
    expect(judgeCli({ ...clean, code: 7 }, corpus, noNewFiles(), 1000)).toMatch(/exit code 7/);
    expect(judgeCli({ ...clean, stderr: 'TypeError: x\n    at f (file.js:1:1)\n' }, corpus, noNewFiles(), 1000)).toMatch(/stack trace/);
    expect(judgeCli({ ...clean, stderr: 'blindlink: a\nblindlink: b\n' }, corpus, noNewFiles(), 1000)).toMatch(/2 error lines/);
    expect(judgeCli({ ...clean, stderr: `blindlink: ${corpus.canaries[0]}: bad\n` }, corpus, noNewFiles(), 1000)).toMatch(/canary/);
    expect(judgeCli({ ...clean, code: 0, stderr: '', stdout: corpus.secretHex }, corpus, noNewFiles(), 1000)).toMatch(/canary/);
    const before = readdirSync(corpus.dir);
    writeFileSync(join(corpus.dir, '.out.arrow.1.0123456789ab.partial'), '');
    expect(judgeCli(clean, corpus, { dir: corpus.dir, before, target: null }, 1000)).toMatch(/left \.out\.arrow/);
  });
});
