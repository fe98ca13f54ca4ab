// The grouping solvers against slow references written from their definitions: anonlink's greedy
// rule (every record starts alone; two groups merge once the share of their cross pairs seen so
// far reaches mergeFraction) and connected components by breadth-first search.
import { describe, expect, it } from 'vitest';
import { candidateOrder, greedySolve } from '../src/solve/greedy.js';
import { connectedComponents, greedyGroups, groupSizes, type Grouping } from '../src/solve/greedy-groups.js';
import { seeded } from './helpers/clk-json.js';
import { candidates } from './helpers/candidates.js';
import { referenceGroups } from './helpers/reference-groups.js';

type Edge = [number, number, number];

function groupsOf(grouping: Grouping): Set<string> {
  const lists: number[][] = Array.from({ length: grouping.count }, () => []);
  grouping.groupOf.forEach((g, node) => g >= 0 && lists[g].push(node));
  return new Set(lists.map((l) => l.join(' ')));
}

/** Random edges (i < j) with scores from a few levels, so ties are common; edges inside a party are left out when parties are given. */
function randomGraph(random: () => number, nodes: number, density: number, partyOf?: Int32Array): Edge[] {
  const edges: Edge[] = [];
  for (let i = 0; i < nodes; i++) {
    for (let j = i + 1; j < nodes; j++) {
      if (partyOf !== undefined && partyOf[i] === partyOf[j]) continue;
      if (random() < density) edges.push([i, j, Math.floor(random() * 8) / 8 + 0.125]);
    }
  }
  return edges;
}

function solverInput(nodes: number, edges: Edge[]) {
  const c = candidates(edges);
  return { c, order: candidateOrder(c, nodes, nodes) };
}

describe('greedyGroups', () => {
  it('equals the definition on random graphs, for mergeFraction 1 and below', () => {
    const random = seeded(17);
    for (let trial = 0; trial < 400; trial++) {
      const nodes = 2 + Math.floor(random() * 25);
      const edges = randomGraph(random, nodes, random() * 0.6);
      const { c, order } = solverInput(nodes, edges);
      const ordered = Array.from(order, (k) => edges[k]);
      for (const fraction of [1, 0.75, 0.5, 0.3]) {
        const got = groupsOf(greedyGroups(nodes, { a: c.a, b: c.b, order }, { mergeFraction: fraction }));
        expect(got).toEqual(referenceGroups(nodes, ordered, fraction));
      }
    }
  });

  it('keeps every group a clique of candidate pairs at mergeFraction 1', () => {
    const random = seeded(5);
    for (let trial = 0; trial < 200; trial++) {
      const nodes = 3 + Math.floor(random() * 30);
      const edges = randomGraph(random, nodes, 0.3);
      const { c, order } = solverInput(nodes, edges);
      const pairs = new Set(edges.map(([x, y]) => `${x},${y}`));
      for (const g of groupsOf(greedyGroups(nodes, { a: c.a, b: c.b, order }))) {
        const m = g.split(' ').map(Number);
        for (let i = 0; i < m.length; i++) for (let j = i + 1; j < m.length; j++) expect(pairs.has(`${m[i]},${m[j]}`)).toBe(true);
      }
    }
  });

  it('never puts two records of one party in a group, even below mergeFraction 1', () => {
    const random = seeded(9);
    for (let trial = 0; trial < 200; trial++) {
      const nodes = 3 + Math.floor(random() * 30);
      const partyOf = Int32Array.from({ length: nodes }, () => Math.floor(random() * 4));
      const edges = randomGraph(random, nodes, 0.5, partyOf);
      const { c, order } = solverInput(nodes, edges);
      for (const fraction of [1, 0.5]) {
        const grouping = greedyGroups(nodes, { a: c.a, b: c.b, order }, { mergeFraction: fraction, partyOf });
        for (const g of groupsOf(grouping)) {
          const parties = g.split(' ').map((n) => partyOf[Number(n)]);
          expect(new Set(parties).size).toBe(parties.length);
        }
      }
    }
  });

  it('with two parties is the greedy 1:1 matching', () => {
    const random = seeded(23);
    for (let trial = 0; trial < 200; trial++) {
      const countA = 1 + Math.floor(random() * 15);
      const countB = 1 + Math.floor(random() * 15);
      const rows: Edge[] = [];
      for (let i = 0; i < countA; i++) for (let j = 0; j < countB; j++) if (random() < 0.3) rows.push([i, j, Math.floor(random() * 5) / 5 + 0.2]);
      const matching = greedySolve(candidates(rows), countA, countB);
      // Records as nodes: A rows first, then B rows.
      const asNodes = candidates(rows.map(([i, j, s]) => [i, countA + j, s]));
      const order = candidateOrder(asNodes, countA + countB, countA + countB);
      const grouping = greedyGroups(countA + countB, { a: asNodes.a, b: asNodes.b, order });
      const pairs = new Set(Array.from({ length: matching.length }, (_, k) => `${matching.a[k]} ${countA + matching.b[k]}`));
      expect(groupsOf(grouping)).toEqual(pairs);
    }
  });

  it('numbers groups by their lowest record and leaves the rest at -1', () => {
    const { c, order } = solverInput(6, [
      [4, 5, 0.9],
      [0, 2, 0.8],
    ]);
    const grouping = greedyGroups(6, { a: c.a, b: c.b, order });
    expect(Array.from(grouping.groupOf)).toEqual([0, -1, 0, -1, 1, 1]);
    expect(Array.from(groupSizes(grouping))).toEqual([2, 2]);
  });

  it('one record can change the number of duplicates by two: a count of groups has no sensitivity of 1', () => {
    // Found by search (docs/PRIVACY.md): with record 1, {1, 3} forms first, 2 and 4 pair up, and
    // 0 joins {1, 3} through its last pair; without record 1, only {2, 3} forms.
    const edges: Edge[] = [
      [1, 3, 0.885],
      [2, 3, 0.787],
      [0, 3, 0.614],
      [1, 4, 0.549],
      [2, 4, 0.292],
      [0, 1, 0.096],
    ];
    const duplicates = (nodes: number, list: Edge[]): number => {
      const { c, order } = solverInput(nodes, list);
      return Array.from(groupSizes(greedyGroups(nodes, { a: c.a, b: c.b, order }))).reduce((n, s) => n + s - 1, 0);
    };
    const without = edges.filter(([x, y]) => x !== 1 && y !== 1).map(([x, y, s]): Edge => [x > 1 ? x - 1 : x, y > 1 ? y - 1 : y, s]);
    expect(duplicates(5, edges)).toBe(3);
    expect(duplicates(4, without)).toBe(1);
  });
});

describe('connectedComponents', () => {
  it('equals breadth-first search on random graphs', () => {
    const random = seeded(41);
    for (let trial = 0; trial < 300; trial++) {
      const nodes = 1 + Math.floor(random() * 40);
      const edges = randomGraph(random, nodes, random() * 0.15);
      const adjacent: number[][] = Array.from({ length: nodes }, () => []);
      for (const [x, y] of edges) {
        adjacent[x].push(y);
        adjacent[y].push(x);
      }
      const expected = new Set<string>();
      const visited = new Uint8Array(nodes);
      for (let s = 0; s < nodes; s++) {
        if (visited[s]) continue;
        const component = [s];
        visited[s] = 1;
        for (let q = 0; q < component.length; q++) {
          for (const v of adjacent[component[q]]) {
            if (!visited[v]) {
              visited[v] = 1;
              component.push(v);
            }
          }
        }
        if (component.length > 1) expected.add(component.sort((p, q) => p - q).join(' '));
      }
      const c = candidates(edges);
      expect(groupsOf(connectedComponents(nodes, c.a, c.b, c.length))).toEqual(expected);
    }
  });

  it('chains through weak links where greedy grouping does not', () => {
    const edges: Edge[] = [
      [0, 1, 0.95],
      [1, 2, 0.81],
      [2, 3, 0.95],
    ];
    const c = candidates(edges);
    expect(connectedComponents(4, c.a, c.b, c.length).count).toBe(1);
    expect(greedyGroups(4, { a: c.a, b: c.b, order: candidateOrder(c, 4, 4) }).count).toBe(2);
  });
});

describe('greedySolve when one record is added (docs/PRIVACY.md, repeated releases)', () => {
  it('the 1:1 count moves by 0 or +1, and by +1 only when the new record is matched', () => {
    const random = seeded(61);
    for (let trial = 0; trial < 3000; trial++) {
      const countA = 1 + Math.floor(random() * 8);
      const countB = 1 + Math.floor(random() * 8);
      const added = Math.floor(random() * countA);
      const rows: Edge[] = [];
      for (let i = 0; i < countA; i++) for (let j = 0; j < countB; j++) if (random() < 0.4) rows.push([i, j, Math.floor(random() * 5) / 5 + 0.2]);
      // Without the record, the rows after it move up by one.
      const before = rows.filter(([i]) => i !== added).map(([i, j, s]): Edge => [i > added ? i - 1 : i, j, s]);
      const m0 = greedySolve(candidates(before), countA - 1, countB).length;
      const m1 = greedySolve(candidates(rows), countA, countB);
      const change = m1.length - m0;
      expect([0, 1]).toContain(change);
      if (change === 1) expect(Array.from(m1.a)).toContain(added);
    }
  });
});

