// The policy lab's table: for each way of answering "how many of our requests are in your
// registry?", what the requester receives, what the registry learns, the count's error against
// the truth, time and bytes, and how well a requester differencing two queries learns whether
// one person is a taxpayer (the simulated attack of differencing.ts).
import { seededRandom } from '../random.js';
import { noisyCount } from '../reveal/noise.js';
import { countAttack, meanAbsoluteError, recordAttack, type AttackOutcome, type AttackSetup } from './differencing.js';
import { ADDRESS_COLUMNS, type LabMeasurements } from './measure.js';
import type { LabOptions } from './options.js';

export interface Alternative {
  name: string;
  /** What the requester receives, in words. */
  reveals: string;
  /** What the other parties (the registry, the linkage unit) learn about the requests. */
  othersLearn: string;
  /** Records about individual people the requester receives. */
  recordsDisclosed: number;
  /** Per disclosed record, what it says. */
  attributesDisclosed: string[];
  /** The overlap this alternative gives the requester, or null when it gives none. */
  count: number | null;
  /** count - true overlap (null without a count). */
  countError: number | null;
  /** Mean |count - truth| over the mechanism's randomness (the noise); |countError| when there is none. */
  meanAbsoluteError: number | null;
  epsilon?: number;
  interval?: { low: number; high: number; level: number };
  seconds: number;
  bytes: number;
  /** The differencing attack on one person's membership; null when the alternative is not available. */
  membershipAttack: AttackOutcome | null;
  available: boolean;
  note?: string;
}

export interface LabReport {
  trueOverlap: number;
  alternatives: Alternative[];
}

const RELEASE_NUMBER_BYTES = 8;
const NOISE_DRAWS = 20_000;

function rowsWhere(values: Int32Array, test: (value: number) => boolean): Int32Array {
  const rows: number[] = [];
  values.forEach((value, row) => {
    if (test(value)) rows.push(row);
  });
  return Int32Array.from(rows);
}

/** Builds every alternative from one set of measurements; deterministic for the options' seed. */
export function buildAlternatives(m: LabMeasurements, options: LabOptions): LabReport {
  const members = rowsWhere(m.truth, (row) => row >= 0);
  const nonMembers = rowsWhere(m.truth, (row) => row < 0);
  let stream = 0;
  // Each alternative gets its own seeded stream, so adding an epsilon leaves the others' figures alone.
  const setup = (): AttackSetup => ({ members, nonMembers, rows: m.requests, listSize: Math.min(1000, m.requests - 1), trials: options.trials, random: seededRandom((options.seed * 7919 + ++stream) >>> 0) });
  const matchedCount = m.matched.reduce((sum, row) => sum + (row >= 0 ? 1 : 0), 0);
  const error = matchedCount - m.trueOverlap;
  const wrong = matchedCount - m.correctPairs;
  const linkageNote = `encode both files ${m.linkage.encodeSeconds.toFixed(1)} s + match ${m.linkage.matchSeconds.toFixed(1)} s at threshold ${m.threshold}`;
  const sentToLinkageUnit = 'linkage unit: both encoded files, no plaintext; registry: nothing about the requests';
  const alternatives: Alternative[] = [
    {
      name: 'plaintext-addresses',
      reveals: `the registry address (${ADDRESS_COLUMNS.join(', ')}) of every matched request: ${matchedCount} people, ${wrong} of them the wrong person`,
      othersLearn: `registry: every requested person in plaintext (${m.requests} records, all fields)`,
      recordsDisclosed: matchedCount,
      attributesDisclosed: ['membership', ...ADDRESS_COLUMNS],
      count: matchedCount,
      countError: error,
      meanAbsoluteError: Math.abs(error),
      seconds: m.plaintext.seconds,
      bytes: m.plaintext.bytes,
      membershipAttack: recordAttack(setup(), m.matched),
      available: true,
      note: `what happened in the case; matching time is blindlink's match (${m.linkage.matchSeconds.toFixed(1)} s) standing in for the registry's own`,
    },
    {
      name: 'match-flags',
      reveals: `a yes/no flag for each of the ${m.requests} requests (${matchedCount} yes)`,
      othersLearn: sentToLinkageUnit,
      recordsDisclosed: m.requests,
      attributesDisclosed: ['membership'],
      count: matchedCount,
      countError: error,
      meanAbsoluteError: Math.abs(error),
      seconds: m.linkage.seconds,
      bytes: m.linkage.bytes + Math.ceil(m.requests / 8),
      membershipAttack: recordAttack(setup(), m.matched),
      available: true,
      note: linkageNote,
    },
    {
      name: 'matched-pairs',
      reveals: `${matchedCount} (request row, registry row) pairs with scores: who matched, and to which registry record`,
      othersLearn: sentToLinkageUnit,
      recordsDisclosed: matchedCount,
      attributesDisclosed: ['membership', 'registry row'],
      count: matchedCount,
      countError: error,
      meanAbsoluteError: Math.abs(error),
      seconds: m.linkage.seconds,
      bytes: m.linkage.bytes + m.linkage.pairsCsvBytes,
      membershipAttack: recordAttack(setup(), m.matched),
      available: true,
      note: linkageNote,
    },
    {
      name: 'count',
      reveals: 'one number: the size of the 1:1 matching (blindlink match --reveal count)',
      othersLearn: sentToLinkageUnit,
      recordsDisclosed: 0,
      attributesDisclosed: [],
      count: matchedCount,
      countError: error,
      meanAbsoluteError: Math.abs(error),
      seconds: m.linkage.seconds,
      bytes: m.linkage.bytes + RELEASE_NUMBER_BYTES,
      membershipAttack: countAttack(setup(), m.matched, null, m.registry),
      available: true,
      note: linkageNote,
    },
  ];
  const maxCount = Math.min(m.requests, m.registry);
  for (const epsilon of options.epsilons) {
    const released = noisyCount(matchedCount, epsilon, maxCount, (() => {
      const random = seededRandom((options.seed * 104729 + Math.round(epsilon * 1e6)) >>> 0);
      return () => 1 - random();
    })());
    alternatives.push({
      name: `noisy-count epsilon=${epsilon}`,
      reveals: `one number: the count plus two-sided geometric noise at epsilon ${epsilon} per query (blindlink match --reveal noisy-count)`,
      othersLearn: sentToLinkageUnit,
      recordsDisclosed: 0,
      attributesDisclosed: [],
      count: released,
      countError: released - m.trueOverlap,
      meanAbsoluteError: meanAbsoluteError(matchedCount, m.trueOverlap, epsilon, maxCount, NOISE_DRAWS, seededRandom((options.seed * 31 + Math.round(epsilon * 1e6)) >>> 0)),
      epsilon,
      seconds: m.linkage.seconds,
      bytes: m.linkage.bytes + RELEASE_NUMBER_BYTES,
      membershipAttack: countAttack(setup(), m.matched, epsilon, m.registry),
      available: true,
      note: `${linkageNote}; countError is this run's draw, meanAbsoluteError the average over ${NOISE_DRAWS} draws`,
    });
  }
  if (m.estimate.available) {
    const { estimate, low, high, level } = m.estimate.value;
    alternatives.push({
      name: 'overlap-estimate',
      reveals: `an estimate of the overlap with a ${Math.round(level * 100)}% interval`,
      othersLearn: sentToLinkageUnit,
      recordsDisclosed: 0,
      attributesDisclosed: [],
      count: estimate,
      countError: estimate - m.trueOverlap,
      meanAbsoluteError: Math.abs(estimate - m.trueOverlap),
      interval: { low, high, level },
      seconds: m.linkage.encodeSeconds + m.estimate.seconds,
      bytes: m.linkage.bytes + 3 * RELEASE_NUMBER_BYTES,
      // Simulating the differencing attack would refit the model for every query (a match each);
      // it is left unsimulated rather than guessed.
      membershipAttack: null,
      available: true,
      note: 'differencing attack not simulated: two estimates that differ by one person move by about that person\'s match probability, so treat it as the exact count (no noise)',
    });
  } else {
    alternatives.push({
      name: 'overlap-estimate',
      reveals: 'an estimate of the overlap with an interval',
      othersLearn: sentToLinkageUnit,
      recordsDisclosed: 0,
      attributesDisclosed: [],
      count: null,
      countError: null,
      meanAbsoluteError: null,
      seconds: m.estimate.seconds,
      bytes: 0,
      membershipAttack: null,
      available: false,
      note: m.estimate.reason,
    });
  }
  alternatives.push({
    name: 'psi-cardinality',
    reveals: `one number: how many exact tokens the two sets share; also the registry's set size (${m.psi.registryTokens} distinct tokens)`,
    othersLearn: `registry: the requester's set size (${m.psi.requesterTokens} distinct tokens); there is no linkage unit`,
    recordsDisclosed: 0,
    attributesDisclosed: [],
    count: m.psi.count,
    countError: m.psi.count - m.trueOverlap,
    meanAbsoluteError: Math.abs(m.psi.count - m.trueOverlap),
    seconds: m.psi.seconds,
    bytes: m.psi.bytes,
    membershipAttack: countAttack(setup(), m.exactHits, null, m.registry),
    available: true,
    note: `exact tokens miss every record with a typo, nickname or move; tokens ${m.psi.tokenSeconds.toFixed(1)} s + protocol ${m.psi.protocolSeconds.toFixed(1)} s, ${m.psi.coreSeconds.toFixed(1)} core-seconds`,
  });
  return { trueOverlap: m.trueOverlap, alternatives };
}
