// Grouping records from scored candidate pairs, for linkage across three or more files and for
// deduplication: anonlink's greedy solver (anonlink/solving, greedy_solve) and, for dedup only,
// plain connected components. Records are nodes 0..n-1; the caller numbers them.
//
// anonlink's rule: walk the pairs from the highest score down. Every record starts alone. Two
// groups merge when every pair of records across them has been seen as a candidate so far; a
// group therefore stays a clique of candidate pairs, and a weak pair cannot chain two
// otherwise unrelated groups together. With `mergeFraction` below 1 (anonlink's
// probabilistic_greedy_solve merge_threshold) a merge needs only that share of the cross pairs.

/** Records of two or more, as dense labels. */
export interface Grouping {
  /** Groups with at least two records, numbered 0..count-1 in the order of their lowest node. */
  count: number;
  /** Each node's group, or -1 for a record left on its own. */
  groupOf: Int32Array;
}

export interface GreedyGroupOptions {
  /** Share of cross pairs that must have been seen for two groups to merge, in (0, 1]; default 1 (anonlink's greedy_solve). */
  mergeFraction?: number;
  /**
   * Each node's party: two records of one party never share a group (anonlink's `deduplicated`).
   * With mergeFraction 1 and no candidate inside a party this never binds; below 1 it does.
   */
  partyOf?: Int32Array;
}

/** Candidate pairs as nodes: `order` lists indices into (a, b) in the order the solver walks them. */
export interface NodePairs {
  a: Int32Array;
  b: Int32Array;
  order: Uint32Array;
}

/** Renumbers raw group ids (any non-negative id, -1 for none) densely by lowest member; drops groups of one. */
function denseGrouping(raw: Int32Array): Grouping {
  const size = new Map<number, number>();
  for (const g of raw) if (g >= 0) size.set(g, (size.get(g) ?? 0) + 1);
  const label = new Map<number, number>();
  const groupOf = new Int32Array(raw.length).fill(-1);
  for (let node = 0; node < raw.length; node++) {
    const g = raw[node];
    if (g < 0 || (size.get(g) ?? 0) < 2) continue;
    let l = label.get(g);
    if (l === undefined) {
      l = label.size;
      label.set(g, l);
    }
    groupOf[node] = l;
  }
  return { count: label.size, groupOf };
}

/**
 * anonlink's greedy grouping over `nodes` records.
 *
 * @example
 * // 0-1 and 1-2 are candidates but 0-2 is not: {0, 1} forms, and 2 stays alone.
 * greedyGroups(3, { a: Int32Array.of(0, 1), b: Int32Array.of(1, 2), order: Uint32Array.of(0, 1) }).count // 1
 */
export function greedyGroups(nodes: number, pairs: NodePairs, options: GreedyGroupOptions = {}): Grouping {
  const fraction = options.mergeFraction ?? 1;
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`mergeFraction must be in (0, 1], got ${fraction}`);
  const partyOf = options.partyOf;
  const groupOf = new Int32Array(nodes).fill(-1);
  const members: number[][] = [];
  // Candidate pairs seen between two groups, both ways round: links.get(g).get(h).
  const links = new Map<number, Map<number, number>>();
  const linksOf = (g: number): Map<number, number> => {
    let m = links.get(g);
    if (m === undefined) {
      m = new Map();
      links.set(g, m);
    }
    return m;
  };
  const addLink = (g: number, h: number, n: number): number => {
    const count = (linksOf(g).get(h) ?? 0) + n;
    linksOf(g).set(h, count);
    linksOf(h).set(g, count);
    return count;
  };
  const disjointParties = (g: number, h: number): boolean => {
    if (partyOf === undefined) return true;
    const seen = new Set<number>();
    for (const node of members[g]) seen.add(partyOf[node]);
    for (const node of members[h]) if (seen.has(partyOf[node])) return false;
    return true;
  };
  const newGroup = (...records: number[]): number => {
    const g = members.length;
    members.push(records);
    for (const r of records) groupOf[r] = g;
    return g;
  };
  const merge = (into: number, from: number): void => {
    for (const node of members[from]) {
      members[into].push(node);
      groupOf[node] = into;
    }
    members[from] = [];
    const fromLinks = links.get(from);
    links.delete(from);
    links.get(into)?.delete(from);
    if (fromLinks === undefined) return;
    for (const [other, count] of fromLinks) {
      if (other === into) continue;
      links.get(other)?.delete(from);
      addLink(into, other, count);
    }
  };

  for (const k of pairs.order) {
    const x = pairs.a[k];
    const y = pairs.b[k];
    if (x === y) continue;
    let gx = groupOf[x];
    let gy = groupOf[y];
    if (gx < 0 && gy < 0) {
      if (partyOf === undefined || partyOf[x] !== partyOf[y]) newGroup(x, y);
      continue;
    }
    if (gx < 0 || gy < 0) {
      // One record already grouped: alone in its group it simply takes the other in; otherwise
      // the newcomer starts its own group with one link to the existing one.
      const g = gx < 0 ? gy : gx;
      const lone = gx < 0 ? x : y;
      if (1 / members[g].length >= fraction) {
        if (partyOf === undefined || members[g].every((node) => partyOf[node] !== partyOf[lone])) {
          members[g].push(lone);
          groupOf[lone] = g;
        }
      } else {
        addLink(g, newGroup(lone), 1);
      }
      continue;
    }
    if (gx === gy) continue;
    const seen = addLink(gx, gy, 1);
    if (seen / (members[gx].length * members[gy].length) >= fraction && disjointParties(gx, gy)) {
      // The larger group absorbs the smaller (anonlink's choice; membership is the same either way).
      if (members[gx].length < members[gy].length) [gx, gy] = [gy, gx];
      merge(gx, gy);
    }
  }
  return denseGrouping(groupOf);
}

/**
 * Connected components of the candidate graph: every chain of candidate pairs is one group,
 * however weak its links. Order does not matter. Union-find with path halving.
 *
 * @example connectedComponents(3, Int32Array.of(0, 1), Int32Array.of(1, 2), 2).count // 1: {0, 1, 2}
 */
export function connectedComponents(nodes: number, a: Int32Array, b: Int32Array, length: number): Grouping {
  const parent = new Int32Array(nodes);
  for (let i = 0; i < nodes; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (let k = 0; k < length; k++) {
    const rx = find(a[k]);
    const ry = find(b[k]);
    if (rx !== ry) parent[Math.max(rx, ry)] = Math.min(rx, ry);
  }
  const raw = new Int32Array(nodes);
  for (let i = 0; i < nodes; i++) raw[i] = find(i);
  return denseGrouping(raw);
}

/** Sizes of the groups, indexed by label. */
export function groupSizes(grouping: Grouping): Int32Array {
  const sizes = new Int32Array(grouping.count);
  for (const g of grouping.groupOf) if (g >= 0) sizes[g]++;
  return sizes;
}
