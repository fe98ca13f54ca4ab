// Loads both filter sets once into one shared WebAssembly.Memory (its buffer is a
// SharedArrayBuffer), sorted by popcount, with the threshold table and per-popcount B ranges,
// so every worker thread reads the same bytes and tasks carry only tile bounds.
import { UserError } from '../errors.js';
import { chooseCheckpoints } from '../similarity/checkpoints.js';
import { defaultCheckpoints, META_BYTES } from '../similarity/dice-kernel-source.js';
import { writeFilterMeta } from '../similarity/filter-meta.js';
import { popcountsCanMatch, thresholdTable } from '../similarity/threshold-table.js';
import { PAGE_BYTES, wasm, type WasmMemory } from '../similarity/wasm-api.js';

/** One side's filters: `count` filters of `filterBits` bits, back to back (MSB-first bit order). */
export interface FilterSet {
  filterBits: number;
  count: number;
  clks: Uint8Array;
}

/** Byte offsets into the shared memory; plain numbers, cheap to send to workers. */
export interface SharedLayout {
  filterBits: number;
  threshold: number;
  countA: number;
  countB: number;
  /**
   * Self-join (deduplication of one file): B is A itself, the same bytes (never copied), and a
   * tile scans only the sorted rows after each A row, so every unordered pair is met once and no
   * record meets itself.
   */
  self: boolean;
  /** Int32 slots: [0] = scratch slots claimed so far. */
  header: number;
  /** Int32 × (2·filterBits + 1): thresholdTable(filterBits, threshold). */
  table: number;
  /** Int32 × (filterBits + 1) each: sorted-B index range [lo, hi) that A popcount p can match. */
  rangeLo: number;
  rangeHi: number;
  /** Filters sorted by popcount, their META_BYTES records, and their original row numbers (Int32). */
  aFilters: number;
  aMeta: number;
  aOrder: number;
  bFilters: number;
  bMeta: number;
  bOrder: number;
  /** Early-exit checkpoints the kernel is compiled for and the metadata was written for. */
  checkpoints: number[];
  /** `scratchSlots` output areas of `scratchPairs` (i32, i32) pairs, one per thread. */
  scratch: number;
  scratchSlots: number;
  scratchPairs: number;
  bytes: number;
}

export interface SharedFilters {
  memory: WasmMemory;
  layout: SharedLayout;
}

/** Inputs with fewer A×B pairs than this use the default early-exit checkpoints untuned. */
export const TUNE_ABOVE_PAIRS = 1 << 24;

/** Kernel output capacity per call: the B runs handed to one scan call never exceed it. */
export const SCRATCH_PAIRS = 4096;

/** Stable counting sort by popcount: row numbers in ascending popcount order. */
function orderByPopcount(popcounts: Uint16Array, filterBits: number): Int32Array {
  const starts = new Int32Array(filterBits + 2);
  for (const p of popcounts) starts[p + 1]++;
  for (let p = 1; p < starts.length; p++) starts[p] += starts[p - 1];
  const order = new Int32Array(popcounts.length);
  for (let row = 0; row < popcounts.length; row++) order[starts[popcounts[row]]++] = row;
  return order;
}

const BYTE_ONES = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_ONES[i] = (i & 1) + BYTE_ONES[i >> 1];

function popcountsOf(set: FilterSet): Uint16Array {
  const result = new Uint16Array(set.count);
  const bytes = set.filterBits / 8;
  for (let row = 0; row < set.count; row++) {
    let ones = 0;
    for (let i = row * bytes; i < row * bytes + bytes; i++) ones += BYTE_ONES[set.clks[i]];
    result[row] = ones;
  }
  return result;
}

/**
 * Copies A and B into a new shared memory in popcount order (the only copy of the filters the
 * match makes) and precomputes what the tiles need. `threads` scratch areas are reserved.
 * `b` null is the self-join of A (layout.self): B's regions are A's.
 */
export function loadSharedFilters(a: FilterSet, bOrSelf: FilterSet | null, threshold: number, threads: number): SharedFilters {
  const self = bOrSelf === null;
  const b = bOrSelf ?? a;
  const bCopies = self ? 0 : b.count;
  // The kernel works on whole 64-bit words; zero padding changes no popcount or AND-popcount.
  const bits = Math.ceil(a.filterBits / 64) * 64;
  const bytes = bits / 8;
  const sourceBytes = a.filterBits / 8;
  let offset = 0;
  const take = (size: number): number => {
    const at = offset;
    offset += Math.ceil(size / 16) * 16;
    return at;
  };
  const partial = {
    header: take(64),
    table: take(4 * (2 * bits + 1)),
    rangeLo: take(4 * (bits + 1)),
    rangeHi: take(4 * (bits + 1)),
    aFilters: take(a.count * bytes),
    aMeta: take(a.count * META_BYTES),
    aOrder: take(a.count * 4),
    bFilters: take(bCopies * bytes),
    bMeta: take(bCopies * META_BYTES),
    bOrder: take(bCopies * 4),
    scratch: take(threads * SCRATCH_PAIRS * 8),
  };
  const pages = Math.max(1, Math.ceil(offset / PAGE_BYTES));
  const tooLarge = (): UserError =>
    new UserError(`inputs too large for one match: they need ${offset} bytes of shared memory (WebAssembly limit 4 GiB); match B in parts`);
  if (pages > 65536) throw tooLarge();
  const layout: SharedLayout = {
    filterBits: bits,
    threshold,
    countA: a.count,
    countB: b.count,
    self,
    ...partial,
    ...(self ? { bFilters: partial.aFilters, bMeta: partial.aMeta, bOrder: partial.aOrder } : {}),
    checkpoints: [],
    scratchSlots: threads,
    scratchPairs: SCRATCH_PAIRS,
    bytes: pages * PAGE_BYTES,
  };
  let memory: WasmMemory;
  try {
    memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    throw tooLarge();
  }
  const buffer = memory.buffer;

  const table = thresholdTable(bits, threshold);
  new Int32Array(buffer, layout.table, table.length).set(table);

  const place = (set: FilterSet, filtersAt: number, orderAt: number): Uint16Array => {
    const popcounts = popcountsOf(set);
    const order = orderByPopcount(popcounts, bits);
    const target = new Uint8Array(buffer, filtersAt, set.count * bytes);
    for (let sorted = 0; sorted < set.count; sorted++) {
      const row = order[sorted];
      target.set(set.clks.subarray(row * sourceBytes, row * sourceBytes + sourceBytes), sorted * bytes);
    }
    new Int32Array(buffer, orderAt, set.count).set(order);
    const sortedPopcounts = new Uint16Array(set.count);
    for (let sorted = 0; sorted < set.count; sorted++) sortedPopcounts[sorted] = popcounts[order[sorted]];
    return sortedPopcounts;
  };
  const aPopcounts = place(a, layout.aFilters, layout.aOrder);
  const bPopcounts = self ? aPopcounts : place(b, layout.bFilters, layout.bOrder);
  const sortedA = new Uint8Array(buffer, layout.aFilters, a.count * bytes);
  const sortedB = new Uint8Array(buffer, layout.bFilters, b.count * bytes);
  // Tuning costs tens of milliseconds: worth it only when the scan takes longer than that.
  if ((self ? (a.count * (a.count - 1)) / 2 : a.count * b.count) >= TUNE_ABOVE_PAIRS) {
    layout.checkpoints = chooseCheckpoints(bits, table, { count: a.count, clks: sortedA }, { count: b.count, clks: sortedB });
  } else {
    layout.checkpoints = defaultCheckpoints(bits);
  }
  const writeMeta = (filters: Uint8Array, count: number, metaAt: number): void => {
    const meta = new Uint16Array(buffer, metaAt, (count * META_BYTES) / 2);
    for (let row = 0; row < count; row++) writeFilterMeta(filters, row * bytes, bits, meta, row, layout.checkpoints);
  };
  writeMeta(sortedA, a.count, layout.aMeta);
  if (!self) writeMeta(sortedB, b.count, layout.bMeta);

  // For each A popcount, the band of B popcounts that can still reach the threshold, as a range
  // of sorted B rows. The band is computed with the same exact test as the kernel, pair by pair
  // of popcount values, so no qualifying pair falls outside it.
  const firstRowWith = new Int32Array(bits + 2);
  for (let p = 0, row = 0; p <= bits + 1; p++) {
    while (row < b.count && bPopcounts[row] < p) row++;
    firstRowWith[p] = row;
  }
  const rangeLo = new Int32Array(buffer, layout.rangeLo, bits + 1);
  const rangeHi = new Int32Array(buffer, layout.rangeHi, bits + 1);
  for (let pa = 0; pa <= bits; pa++) {
    let low = -1;
    let high = -1;
    for (let pb = 0; pb <= bits; pb++) {
      if (!popcountsCanMatch(table, pa, pb)) continue;
      if (low < 0) low = pb;
      high = pb;
    }
    rangeLo[pa] = low < 0 ? 0 : firstRowWith[low];
    rangeHi[pa] = low < 0 ? 0 : firstRowWith[high + 1];
  }
  return { memory, layout };
}

/** Typed views of a layout's regions over a shared buffer (the worker's and the main thread's). */
export function layoutViews(buffer: ArrayBuffer | SharedArrayBuffer, layout: SharedLayout) {
  return {
    header: new Int32Array(buffer, layout.header, 16),
    rangeLo: new Int32Array(buffer, layout.rangeLo, layout.filterBits + 1),
    rangeHi: new Int32Array(buffer, layout.rangeHi, layout.filterBits + 1),
    aMeta: new Uint16Array(buffer, layout.aMeta, (layout.countA * META_BYTES) / 2),
    bMeta: new Uint16Array(buffer, layout.bMeta, (layout.countB * META_BYTES) / 2),
    aOrder: new Int32Array(buffer, layout.aOrder, layout.countA),
    bOrder: new Int32Array(buffer, layout.bOrder, layout.countB),
  };
}
