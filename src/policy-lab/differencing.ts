// The differencing attack, simulated: a requester who wants to know whether one person (the
// target) is in the registry asks about a list L and then about L plus the target, and compares
// the two answers. Half the trials pick a true member as the target, half a non-member; the
// advantage is TPR - FPR of the attacker's best rule (twice P(correct) - 1/2 with balanced classes).
import { noisyCount } from '../reveal/noise.js';

/**
 * How one request row shows up in an answer: a key >= 0 when the mechanism counts it (the registry
 * row it matched, or the id of its exact token), -1 when it does not. Equal keys count once, as in
 * a 1:1 matching or a set intersection.
 */
export type HitKeys = Int32Array;

export interface AttackOutcome {
  /** TPR - FPR of the attacker's rule. */
  advantage: number;
  truePositiveRate: number;
  falsePositiveRate: number;
  /** Trials per class. */
  trials: number;
  /** Queries the attacker sends per target. */
  queriesPerTarget: number;
  rule: string;
}

export interface AttackSetup {
  members: Int32Array;
  nonMembers: Int32Array;
  /** Rows the attacker can put in L (every request row). */
  rows: number;
  listSize: number;
  trials: number;
  random: () => number;
}

/** `size` distinct rows other than `exclude`, by a partial Fisher-Yates over a scratch permutation. */
function drawList(scratch: Int32Array, size: number, exclude: number, random: () => number): Int32Array {
  const out = new Int32Array(size);
  let taken = 0;
  for (let i = 0; taken < size; i++) {
    const j = i + Math.floor(random() * (scratch.length - i));
    const swap = scratch[i];
    scratch[i] = scratch[j];
    scratch[j] = swap;
    if (scratch[i] !== exclude) out[taken++] = scratch[i];
  }
  return out;
}

function countOf(list: Int32Array, keys: HitKeys, extra: number): number {
  const seen = new Set<number>();
  for (let i = 0; i < list.length; i++) if (keys[list[i]] >= 0) seen.add(keys[list[i]]);
  if (extra >= 0 && keys[extra] >= 0) seen.add(keys[extra]);
  return seen.size;
}

function outcome(hitsMember: number, hitsNonMember: number, setup: AttackSetup, queriesPerTarget: number, rule: string): AttackOutcome {
  const truePositiveRate = hitsMember / setup.trials;
  const falsePositiveRate = hitsNonMember / setup.trials;
  return { advantage: truePositiveRate - falsePositiveRate, truePositiveRate, falsePositiveRate, trials: setup.trials, queriesPerTarget, rule };
}

/**
 * Count answers, exact (`epsilon` null) or with fresh two-sided geometric noise per query. Best
 * rule: "member" when the second answer exceeds the first by at least 1 (the noise difference is
 * symmetric and peaks at 0, so a difference of 0 is likelier without the target).
 */
export function countAttack(setup: AttackSetup, keys: HitKeys, epsilon: number | null, registry: number): AttackOutcome {
  const scratch = Int32Array.from({ length: setup.rows }, (_, i) => i);
  const uniform = (): number => 1 - setup.random();
  const answer = (list: Int32Array, target: number): number => {
    const exact = countOf(list, keys, target);
    const size = list.length + (target >= 0 ? 1 : 0);
    return epsilon === null ? exact : noisyCount(exact, epsilon, Math.min(size, registry), uniform);
  };
  const guesses = (targets: Int32Array): number => {
    let said = 0;
    for (let t = 0; t < setup.trials; t++) {
      const target = targets[Math.floor(setup.random() * targets.length)];
      const list = drawList(scratch, setup.listSize, target, setup.random);
      if (answer(list, target) - answer(list, -1) >= 1) said++;
    }
    return said;
  };
  return outcome(guesses(setup.members), guesses(setup.nonMembers), setup, 2, 'member iff answer(L + target) - answer(L) >= 1');
}

/**
 * Record-level answers (flags, pairs, addresses): one query holding the target, and the answer
 * names it or not. Best rule: "member" when the answer lists the target.
 */
export function recordAttack(setup: AttackSetup, keys: HitKeys): AttackOutcome {
  const guesses = (targets: Int32Array): number => {
    let said = 0;
    for (let t = 0; t < setup.trials; t++) if (keys[targets[Math.floor(setup.random() * targets.length)]] >= 0) said++;
    return said;
  };
  return outcome(guesses(setup.members), guesses(setup.nonMembers), setup, 1, 'member iff the answer lists the target');
}

/** Mean |released - truth| of the noisy count over many draws: its accuracy at this epsilon. */
export function meanAbsoluteError(count: number, truth: number, epsilon: number, maxCount: number, draws: number, random: () => number): number {
  let total = 0;
  for (let i = 0; i < draws; i++) total += Math.abs(noisyCount(count, epsilon, maxCount, () => 1 - random()) - truth);
  return total / draws;
}
