// What the policy lab runs on: the motivating case's proportions (1.28 million requests, about
// 47,000 of them taxpayers, a 10-million-person registry) divided by a scale factor, and which
// inputs are too small or inconsistent to say anything.
import { UserError } from '../errors.js';
import { memberCount } from '../synth/write.js';

/** The case: about 47,000 of 1.28 million requests matched; a registry of 10 million (as bench:scale). */
export const SEED_REQUESTS = 1_280_000;
export const SEED_REGISTRY = 10_000_000;
export const SEED_OVERLAP = 0.037;
/** 100: 100,000 taxpayers and 12,800 requests, about a minute on a 2-core machine. */
export const DEFAULT_SCALE = 100;
export const DEFAULT_EPSILONS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2];
export const MAX_EPSILON = 10;
export const DEFAULT_TRIALS = 2000;
export const DEFAULT_THRESHOLD = 0.8;
/** Fewer true members (or non-members) than this and the error and attack rates are noise. */
export const MIN_CLASS_SIZE = 20;

export interface LabOptions {
  registry: number;
  requests: number;
  overlap: number;
  seed: number;
  epsilons: number[];
  /** Differencing-attack trials per class (target a member, target not). */
  trials: number;
  threshold: number;
  workers: number;
}

/** The command line's view: sizes may be left to the scale. */
export interface LabFlags extends Omit<LabOptions, 'registry' | 'requests'> {
  registry?: number;
  requests?: number;
  scale: number;
}

/** Parses `0.1,0.5,1`; an epsilon outside (0, 10] is a usage error. */
export function parseEpsilons(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const values = parts.map(Number);
  parts.forEach((part, i) => {
    if (part === '' || !Number.isFinite(values[i]) || values[i] <= 0 || values[i] > MAX_EPSILON) {
      throw new UserError(`--epsilons: each epsilon must be a number in (0, ${MAX_EPSILON}], got ${JSON.stringify(part)}`, 2);
    }
  });
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Sizes from the flags (explicit sizes win over the scale), checked; exit 2 for what cannot work. */
export function resolveOptions(flags: LabFlags): LabOptions {
  const usage = (message: string): never => {
    throw new UserError(message, 2);
  };
  if (!(flags.scale >= 1) || !Number.isFinite(flags.scale)) usage(`--scale must be a number >= 1 (1 is the case's full size), got ${flags.scale}`);
  const registry = flags.registry ?? Math.round(SEED_REGISTRY / flags.scale);
  const requests = flags.requests ?? Math.round(SEED_REQUESTS / flags.scale);
  if (!(flags.overlap > 0 && flags.overlap < 1)) usage(`--overlap must be a fraction strictly between 0 and 1, got ${flags.overlap}`);
  if (registry < requests) usage(`--registry ${registry} is smaller than --requests ${requests}: the lab models a registry that holds the people asked about, so it must be at least as large`);
  const members = memberCount(requests, flags.overlap);
  if (members < MIN_CLASS_SIZE || requests - members < MIN_CLASS_SIZE) {
    usage(
      `${requests} requests at overlap ${flags.overlap} give ${members} members and ${requests - members} non-members; ` +
        `each needs at least ${MIN_CLASS_SIZE} for the error and attack figures to mean anything (raise --requests or lower --scale)`,
    );
  }
  if (!Number.isInteger(flags.trials) || flags.trials < 100) usage(`--trials must be an integer >= 100, got ${flags.trials}`);
  if (flags.epsilons.length === 0) usage('--epsilons needs at least one value');
  return { registry, requests, overlap: flags.overlap, seed: flags.seed, epsilons: flags.epsilons, trials: flags.trials, threshold: flags.threshold, workers: flags.workers };
}
