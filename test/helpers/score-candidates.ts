// Candidate pairs drawn from the generative model the score model assumes, with the truth kept:
// A records each get a Poisson number of chance candidates, scores in a Gaussian tail above the
// floor; `matches` A records also have their true partner, scoring from a hump near `matchMean`.
import type { Candidates } from '../../src/match/tile.js';
import { seeded } from './clk-json.js';

export interface ScoreWorld {
  candidates: Candidates;
  countA: number;
  countB: number;
  floor: number;
  /** For each candidate, 1 if it is a true pair. */
  isMatch: Uint8Array;
  matches: number;
}

export interface ScoreWorldOptions {
  countA: number;
  countB: number;
  matches: number;
  floor: number;
  /** Mean chance candidates per A record. */
  chancePerRecord: number;
  /** Chance scores: the floor plus the absolute value of a normal draw of this deviation (a Gaussian tail, as Dice scores of unrelated filters have). */
  chanceSpread: number;
  matchMean: number;
  matchSpread: number;
  seed: number;
  /**
   * Crowded records, as long common names make them: this share of the A records has `factor`
   * times the chance candidates, with a tail of deviation `spread` (wider than chanceSpread).
   */
  crowded?: { share: number; factor: number; spread: number };
}

function poisson(mean: number, random: () => number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random();
  while (u > cumulative && k < 1000) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

/** A seeded world; scores are rounded to 1/4096 as Dice scores of real filters are fractions. */
export function scoreWorld(options: ScoreWorldOptions): ScoreWorld {
  const random = seeded(options.seed);
  const a: number[] = [];
  const b: number[] = [];
  const score: number[] = [];
  const truth: number[] = [];
  const partners = new Set<number>();
  const round = (s: number): number => Math.round(Math.min(1, s) * 4096) / 4096;
  for (let i = 0; i < options.countA; i++) {
    if (i < options.matches) {
      let j = Math.floor(random() * options.countB);
      while (partners.has(j)) j = Math.floor(random() * options.countB);
      partners.add(j);
      const s = options.matchMean + options.matchSpread * (random() + random() + random() - 1.5);
      if (s >= options.floor) {
        a.push(i);
        b.push(j);
        score.push(round(s));
        truth.push(1);
      }
    }
    const crowded = options.crowded !== undefined && random() < options.crowded.share;
    const chance = poisson(options.chancePerRecord * (crowded ? (options.crowded?.factor ?? 1) : 1), random);
    const spread = crowded ? (options.crowded?.spread ?? options.chanceSpread) : options.chanceSpread;
    for (let k = 0; k < chance; k++) {
      a.push(i);
      b.push(Math.floor(random() * options.countB));
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      score.push(round(options.floor + Math.abs(normal) * spread));
      truth.push(0);
    }
  }
  const kept = score.map((s, k) => (s <= 1 ? k : -1)).filter((k) => k >= 0);
  return {
    candidates: {
      length: kept.length,
      a: Int32Array.from(kept, (k) => a[k]),
      b: Int32Array.from(kept, (k) => b[k]),
      score: Float64Array.from(kept, (k) => score[k]),
    },
    countA: options.countA,
    countB: options.countB,
    floor: options.floor,
    isMatch: Uint8Array.from(kept, (k) => truth[k]),
    matches: options.matches,
  };
}
