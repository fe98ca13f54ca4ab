// Candidate lists written by hand as [index_a, index_b, score] rows, for solver and reveal tests.
import type { Candidates } from '../../src/match/tile.js';

export function candidates(rows: Array<[number, number, number]>): Candidates {
  return {
    length: rows.length,
    a: Int32Array.from(rows.map((r) => r[0])),
    b: Int32Array.from(rows.map((r) => r[1])),
    score: Float64Array.from(rows.map((r) => r[2])),
  };
}
