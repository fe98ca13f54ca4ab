// The overlap estimate with its interval (issue 10) as a policy-lab alternative.
//
// NOT WIRED YET: the estimator is being built in another branch. Until it is wired here, this
// returns a refusal, and the lab reports the alternative as unavailable rather than inventing a
// figure. Wiring: call the estimator on the two encoded files and return its point estimate and
// interval; the lab measures time, bytes and the differencing attack around it unchanged.

export interface OverlapEstimateInput {
  /** Encoded files (Arrow) of the requests and the registry, as the linkage unit holds them. */
  requestsPath: string;
  registryPath: string;
  threshold: number;
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

export const ESTIMATE_NOT_AVAILABLE = 'estimate not available in this build';

/** The overlap estimate, or a refusal while the estimator is not in this build. */
export async function overlapEstimate(input: OverlapEstimateInput): Promise<OverlapEstimateResult> {
  void input;
  return { available: false, reason: ESTIMATE_NOT_AVAILABLE };
}
