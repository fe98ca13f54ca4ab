// The overlap estimate with its interval as a policy-lab alternative: the linkage unit's
// `match --threshold auto --reveal estimate` on the two encoded files (match/overlap-estimate.ts).
import { UserError } from '../errors.js';
import { matchFiles } from '../match/match-files.js';

export interface OverlapEstimateInput {
  /** Encoded files (Arrow) of the requests and the registry, as the linkage unit holds them. */
  requestsPath: string;
  registryPath: string;
  workers: number;
}

export interface OverlapEstimate {
  estimate: number;
  low: number;
  high: number;
  /** Confidence level of [low, high], e.g. 0.95. */
  level: number;
}

export type OverlapEstimateResult = { available: true; value: OverlapEstimate } | { available: false; reason: string };

/** The estimate, or the reason the score model refused (too few pairs, nothing above chance...). */
export async function overlapEstimate(input: OverlapEstimateInput): Promise<OverlapEstimateResult> {
  try {
    const report = await matchFiles({ a: input.requestsPath, b: input.registryPath, threshold: 'auto', reveal: 'estimate', epsilon: null, workers: input.workers, warn: () => undefined });
    const e = report.estimate;
    if (e === undefined) throw new Error('estimate mode reported no estimate');
    return { available: true, value: { estimate: e.estimate, low: e.low, high: e.high, level: e.level } };
  } catch (error) {
    if (error instanceof UserError) return { available: false, reason: error.message };
    throw error;
  }
}
