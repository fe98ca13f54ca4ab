// Reproduces anonlink 0.15.3 on FEBRL 4 (../shared/vectors/anonlink): candidate counts and greedy
// sizes at every threshold, and the exact greedy pairs and printed scores at 0.80.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCandidates } from '../src/match/candidates.js';
import { formatScore } from '../src/reveal/format-score.js';
import { greedySolve } from '../src/solve/greedy.js';
import { readClkJson } from './helpers/clk-json.js';

const folder = new URL('../../shared/vectors/anonlink/', import.meta.url);
const present = existsSync(fileURLToPath(new URL('febrl4-results.json', folder)));

interface ThresholdResult {
  threshold: number;
  candidate_pairs: number;
  greedy_pairs: number;
  true_positives: number;
}

/** Record number N of `rec-N-...` per data row, from the FEBRL CSVs when they are present. */
function recordNumbers(name: string): number[] | null {
  const path = fileURLToPath(new URL(`../../data/febrl4/${name}`, folder));
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => Number(/^rec-(\d+)-/.exec(l)?.[1]));
}

describe.skipIf(!present)('anonlink FEBRL4 vectors', () => {
  const a = present ? readClkJson(new URL('febrl4-clks-a.json', folder)) : null;
  const b = present ? readClkJson(new URL('febrl4-clks-b.json', folder)) : null;
  const results = present ? (JSON.parse(readFileSync(new URL('febrl4-results.json', folder), 'utf8')) as { thresholds: ThresholdResult[] }).thresholds : [];

  it('has the 5,000 x 5,000 CLKs of 1024 bits', () => {
    expect([a?.count, b?.count, a?.filterBits]).toEqual([5000, 5000, 1024]);
    expect(results.length).toBe(6);
  });

  it.each(results.map((r) => [r.threshold, r] as const))('threshold %s: candidate count, greedy size and true positives', async (threshold, expected) => {
    if (a === null || b === null) throw new Error('unreachable');
    // Alternate thread counts so both paths are held to the vectors.
    const found = await findCandidates(a, b, { threshold, workers: threshold === 0.8 ? 2 : 0 });
    expect(found.length).toBe(expected.candidate_pairs);
    const matching = greedySolve(found, a.count, b.count);
    expect(matching.length).toBe(expected.greedy_pairs);
    const recA = recordNumbers('dataset4a.csv');
    const recB = recordNumbers('dataset4b.csv');
    if (recA !== null && recB !== null) {
      let truePositives = 0;
      for (let k = 0; k < matching.length; k++) if (recA[matching.a[k]] === recB[matching.b[k]]) truePositives++;
      expect(truePositives).toBe(expected.true_positives);
    }
  });

  it('greedy pairs at 0.80 equal febrl4-pairs-0.80.csv, scores printed to 6 decimals', async () => {
    if (a === null || b === null) throw new Error('unreachable');
    const matching = greedySolve(await findCandidates(a, b, { threshold: 0.8, workers: 0 }), a.count, b.count);
    const lines = readFileSync(new URL('febrl4-pairs-0.80.csv', folder), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('index_a,index_b,score');
    const ours = ['index_a,index_b,score'];
    for (let k = 0; k < matching.length; k++) ours.push(`${matching.a[k]},${matching.b[k]},${formatScore(matching.score[k])}`);
    expect(ours.length).toBe(4564);
    expect(ours).toEqual(lines);
  });
});
