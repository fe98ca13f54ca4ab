// Scores attack outcomes against the truth: the only module that reads identities (the encoded
// file's id column and the reference's truth column). Attacks never receive them.
import { andCount, positionColumns, setCount } from './bitset.js';
import { preparedRows, tokenTable } from './plaintext.js';
import type { AttackInput, AttackOutcome } from './types.js';

export interface Truth {
  /** Identity of each encoded record (the encoded file's id column). */
  encodedIds: readonly string[];
  /** Identity of each reference row (the reference's truth column). */
  referenceIds: readonly string[];
}

export interface AttackScore {
  name: string;
  /** Share of encoded records whose assigned reference row is them (or holds exactly their values). */
  reidentified: number;
  /** Correct assignments / assignments made (0 when none were made). */
  precision: number;
  /** Share of the q-grams the attack set out to align that it mapped to their true bit positions; null if it maps none. */
  qgramsIdentified: number | null;
  encodedRecords: number;
  /** Encoded records whose identity appears in the reference: the most any attack could re-identify. */
  inReference: number;
  assignments: number;
  correct: number;
  qgramsConsidered: number | null;
  qgramsMapped: number | null;
  qgramsCorrect: number | null;
}

/**
 * Builds a scorer for one attack input. A q-gram counts as identified when at least 80% (and at
 * least two) of the positions claimed for it are positions that the filters of records truly holding
 * it set in >= 90% of cases and other filters set at least 50 points less often.
 */
export function makeScorer(input: AttackInput, truth: Truth): (outcome: AttackOutcome) => AttackScore {
  const n = input.encodings.count;
  const values = preparedRows(input.plan, input.reference).map((row) => row.join('\u0000'));
  const rowOf = new Map<string, number>();
  truth.referenceIds.forEach((id, row) => {
    if (!rowOf.has(id)) rowOf.set(id, row);
  });
  const trueRow = Int32Array.from(truth.encodedIds, (id) => rowOf.get(id) ?? -1);
  const inReference = trueRow.filter((row) => row >= 0).length;

  let footprint: ((field: number, token: string, positions: readonly number[]) => boolean | null) | null = null;
  const footprints = (): NonNullable<typeof footprint> => {
    if (footprint) return footprint;
    const table = tokenTable(input.plan, input.reference);
    const ids = new Map<string, number>();
    table.vocabulary.forEach((v, id) => ids.set(`${v.field}\u0000${v.token}`, id));
    const { columns, recordWords } = positionColumns(input.encodings);
    const known = new Uint32Array(recordWords);
    const holders = new Map<number, Uint32Array>();
    trueRow.forEach((row, r) => {
      if (row < 0) return;
      known[r >>> 5] |= 1 << (r & 31);
      for (const t of table.rowTokens[row]) {
        let set = holders.get(t);
        if (!set) holders.set(t, (set = new Uint32Array(recordWords)));
        set[r >>> 5] |= 1 << (r & 31);
      }
    });
    const knownCount = setCount(known);
    footprint = (field, token, positions) => {
      const id = ids.get(`${field}\u0000${token}`);
      const holding = id === undefined ? undefined : holders.get(id);
      if (!holding) return null;
      const inside = setCount(holding);
      const outside = knownCount - inside;
      if (inside < 3 || outside < 1) return null;
      if (positions.length < 2) return false;
      let good = 0;
      for (const p of positions) {
        const rateIn = andCount(holding, columns[p]) / inside;
        const rateOut = (andCount(known, columns[p]) - andCount(holding, columns[p])) / outside;
        if (rateIn >= 0.9 && rateIn - rateOut >= 0.5) good++;
      }
      return good >= 0.8 * positions.length;
    };
    return footprint;
  };

  return (outcome) => {
    let assignments = 0;
    let correct = 0;
    outcome.assignments.forEach((row, r) => {
      if (row < 0) return;
      assignments++;
      const t = trueRow[r];
      if (t >= 0 && (row === t || values[row] === values[t])) correct++;
    });
    let qgramsIdentified: number | null = null;
    let qgramsCorrect: number | null = null;
    let qgramsConsidered: number | null = null;
    if (outcome.tokensConsidered) {
      const check = footprints();
      const claims = new Map<string, readonly number[]>();
      for (const m of outcome.mapped) claims.set(`${m.field}\u0000${m.token}`, m.positions);
      let scorable = 0;
      let right = 0;
      for (const { field, token } of outcome.tokensConsidered) {
        const verdict = check(field, token, claims.get(`${field}\u0000${token}`) ?? []);
        if (verdict === null) continue;
        scorable++;
        if (verdict) right++;
      }
      qgramsConsidered = scorable;
      qgramsCorrect = right;
      qgramsIdentified = scorable === 0 ? 0 : right / scorable;
    }
    return {
      name: outcome.name,
      reidentified: n === 0 ? 0 : correct / n,
      precision: assignments === 0 ? 0 : correct / assignments,
      qgramsIdentified,
      encodedRecords: n,
      inReference,
      assignments,
      correct,
      qgramsConsidered,
      qgramsMapped: outcome.tokensConsidered ? outcome.mapped.length : null,
      qgramsCorrect,
    };
  };
}
