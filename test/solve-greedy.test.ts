// Greedy 1:1 solver: highest score first, ties by lower index_a then lower index_b (anonlink
// vectors README §5.3), checked on synthetic ties the FEBRL vectors cannot discriminate.
import { describe, expect, it } from 'vitest';
import { candidates } from './helpers/candidates.js';
import { candidateOrder, greedySolve } from '../src/solve/greedy.js';

function pairs(rows: Array<[number, number, number]>, countA = 10, countB = 10): Array<[number, number, number]> {
  const m = greedySolve(candidates(rows), countA, countB);
  return Array.from({ length: m.length }, (_, k) => [m.a[k], m.b[k], m.score[k]]);
}

describe('greedySolve', () => {
  it('takes the highest score first', () => {
    expect(pairs([[0, 0, 0.8], [0, 1, 0.9], [1, 1, 0.85]])).toEqual([[0, 1, 0.9]]);
    expect(pairs([[0, 0, 0.8], [0, 1, 0.9], [1, 0, 0.85]])).toEqual([[0, 1, 0.9], [1, 0, 0.85]]);
  });

  it('breaks equal scores by lower index_a, then lower index_b', () => {
    // All tied: (0,1) wins over (1,0) by index_a, then (1,2) over (2,2)... by index_a.
    expect(pairs([[2, 2, 0.9], [1, 2, 0.9], [1, 0, 0.9], [0, 1, 0.9], [0, 0, 0.9]])).toEqual([[0, 0, 0.9], [1, 2, 0.9]]);
    // Same index_a: the lower index_b wins, whatever the input order.
    expect(pairs([[3, 7, 0.8], [3, 5, 0.8], [3, 6, 0.8]])).toEqual([[3, 5, 0.8]]);
    expect(pairs([[4, 1, 0.8], [3, 1, 0.8], [5, 1, 0.8]])).toEqual([[3, 1, 0.8]]);
  });

  it('orders candidates by score descending, index_a, index_b', () => {
    const c = candidates([[1, 1, 0.5], [0, 2, 0.9], [0, 1, 0.9], [2, 0, 0.7], [1, 0, 0.9]]);
    expect(Array.from(candidateOrder(c, 3, 3))).toEqual([2, 1, 4, 3, 0]);
  });

  it('returns pairs sorted by index_a and nothing for no candidates', () => {
    expect(pairs([[5, 0, 0.9], [2, 1, 0.95], [7, 2, 0.8]])).toEqual([[2, 1, 0.95], [5, 0, 0.9], [7, 2, 0.8]]);
    expect(pairs([])).toEqual([]);
  });

  it('matches a brute-force greedy on random ties', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let round = 0; round < 50; round++) {
      const rows: Array<[number, number, number]> = [];
      for (let k = 0; k < 60; k++) rows.push([Math.floor(random() * 12), Math.floor(random() * 12), [0.8, 0.9, 1][Math.floor(random() * 3)]]);
      const sorted = [...rows].sort((x, y) => y[2] - x[2] || x[0] - y[0] || x[1] - y[1]);
      const usedA = new Set<number>();
      const usedB = new Set<number>();
      const expected: Array<[number, number, number]> = [];
      for (const r of sorted) {
        if (usedA.has(r[0]) || usedB.has(r[1])) continue;
        usedA.add(r[0]);
        usedB.add(r[1]);
        expected.push(r);
      }
      expected.sort((x, y) => x[0] - y[0]);
      expect(pairs(rows, 12, 12)).toEqual(expected);
    }
  });
});
