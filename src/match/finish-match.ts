// The end of every match, whichever way its candidates were found (one pass, chunks, or shards on
// a job engine): the greedy 1:1 matching, once, over all candidates, then the release.
import type { EncodedFile } from '../io/encoded-file.js';
import { writePairsCsv } from '../reveal/pairs-csv.js';
import { release, type BlockingSummary, type MatchReport, type OverlapEstimateSummary, type ThresholdChoiceSummary } from '../reveal/release.js';
import { greedySolve } from '../solve/greedy.js';
import type { MatchOptions } from './match-files.js';
import type { Candidates } from './tile.js';

type Input = Pick<EncodedFile, 'path' | 'count' | 'format' | 'ids'>;

/** The 1:1 matching, the pairs file (pairs mode) and the report, once all candidates are in. */
export async function finishMatch(
  options: MatchOptions,
  inputs: { a: Input; b: Input },
  threshold: number,
  candidates: Candidates,
  blocking: BlockingSummary,
  thresholdChoice?: ThresholdChoiceSummary,
  estimate?: OverlapEstimateSummary,
): Promise<MatchReport> {
  const { a, b } = inputs;
  const matching = greedySolve(candidates, a.count, b.count);
  if (options.reveal === 'pairs' && options.out !== undefined) await writePairsCsv(options.out, matching, a.ids, b.ids);
  return release({
    reveal: options.reveal,
    threshold,
    thresholdChoice,
    estimate,
    epsilon: options.epsilon,
    inputs: {
      a: { path: a.path, records: a.count, format: a.format },
      b: { path: b.path, records: b.count, format: b.format },
    },
    candidates,
    matching,
    blocking,
    out: options.out,
  });
}
