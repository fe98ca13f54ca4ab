// anonlink's greedy grouping written from its definition, slowly: every record starts alone, and
// walking the pairs in order, two groups merge once the share of their cross pairs seen so far
// reaches `fraction` (1: all of them). The reference the fast solver and the commands are tested against.
import { andPopcountReference, diceFromCounts } from '../../src/similarity/dice-reference.js';
import type { FilterSet } from '../../src/match/shared-filters.js';

/** Groups of two or more as sorted, space-separated node lists. */
export function referenceGroups(nodes: number, ordered: ReadonlyArray<readonly [number, number, number]>, fraction = 1): Set<string> {
  const group = Array.from({ length: nodes }, (_, i) => [i]);
  const of = Array.from({ length: nodes }, (_, i) => i);
  const seen = new Set<string>();
  const key = (x: number, y: number): string => (x < y ? `${x},${y}` : `${y},${x}`);
  for (const [x, y] of ordered) {
    seen.add(key(x, y));
    const gx = of[x];
    const gy = of[y];
    if (gx === gy) continue;
    let cross = 0;
    for (const u of group[gx]) for (const v of group[gy]) if (seen.has(key(u, v))) cross++;
    if (cross / (group[gx].length * group[gy].length) >= fraction) {
      for (const v of group[gy]) {
        group[gx].push(v);
        of[v] = gx;
      }
      group[gy] = [];
    }
  }
  return new Set(group.filter((g) => g.length > 1).map((g) => g.sort((p, q) => p - q).join(' ')));
}

/** Dice of every pair of rows of two sets (or of one set's i < j), by the plain reference, at or above the threshold. */
export function bruteForcePairs(a: FilterSet, b: FilterSet | null, threshold: number): Array<[number, number, number]> {
  const other = b ?? a;
  const bytes = a.filterBits / 8;
  const ones = (s: FilterSet, r: number): number => andPopcountReference(s.clks, r * bytes, s.clks, r * bytes, bytes);
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < a.count; i++) {
    for (let j = b === null ? i + 1 : 0; j < other.count; j++) {
      const score = diceFromCounts(andPopcountReference(a.clks, i * bytes, other.clks, j * bytes, bytes), ones(a, i), ones(other, j));
      if (score >= threshold) out.push([i, j, score]);
    }
  }
  return out;
}

/** anonlink's candidate order: score descending, then the given keys ascending, left to right. */
export function anonlinkOrder<T extends readonly number[]>(rows: T[]): T[] {
  return [...rows].sort((x, y) => {
    if (x[x.length - 1] !== y[y.length - 1]) return y[y.length - 1] - x[x.length - 1];
    for (let i = 0; i < x.length - 1; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  });
}
