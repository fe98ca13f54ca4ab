// Candidate generation: every pair with Dice >= threshold, as anonlink's find_candidate_pairs
// defines it, cut into tiles over popcount-sorted A rows and run on piscina workers that share
// one copy of the filters. Results stay typed arrays end to end.
import { UserError } from '../errors.js';
import { withPool } from '../pool.js';
import { workerFile } from '../worker-path.js';
import { META_BYTES } from '../similarity/dice-kernel-source.js';
import { loadSharedFilters, layoutViews, type FilterSet, type SharedFilters } from './shared-filters.js';
import { createTileContext, runTile, unpackCandidates, type Candidates, type TileTask } from './tile.js';

export type { Candidates } from './tile.js';

/**
 * Default cap on candidate pairs held at once: 16 bytes each while collected plus about as much
 * again while ordered for the solver, so 20 million pairs stay well under 1 GiB.
 */
export const DEFAULT_MAX_CANDIDATES = 20_000_000;

export interface CandidateOptions {
  threshold: number;
  /** Worker threads; 0 or 1 runs in this thread. */
  workers: number;
  maxCandidates?: number;
  /** Called with (A rows done, A rows) as tiles finish. */
  onProgress?: (done: number, total: number) => void;
}

export interface CandidateResult extends Candidates {
  /** Pairs in the A×B space, and pairs left after the popcount bound (what the kernel scans). */
  pairsTotal: number;
  pairsScanned: number;
}

// A tile should take from tens of milliseconds to a few seconds: long enough to hide task
// overhead, short enough that the last tiles balance across threads and progress moves.
const MIN_TILE_PAIRS = 1 << 22;
const MAX_TILE_PAIRS = 1 << 29;
const TILES_PER_WORKER = 16;

/** Contiguous sorted-A ranges of about equal work (B band sizes), plus the total work. */
export function planTiles(shared: SharedFilters, workers: number): { tiles: Array<[number, number]>; work: number } {
  const { layout } = shared;
  const views = layoutViews(shared.memory.buffer, layout);
  const cost = (i: number): number => {
    const pa = views.aMeta[i * (META_BYTES / 2)];
    return Math.max(0, views.rangeHi[pa] - (layout.self ? Math.max(views.rangeLo[pa], i + 1) : views.rangeLo[pa]));
  };
  let work = 0;
  for (let i = 0; i < layout.countA; i++) work += cost(i);
  const target = Math.min(MAX_TILE_PAIRS, Math.max(MIN_TILE_PAIRS, Math.ceil(work / (Math.max(1, workers) * TILES_PER_WORKER))));
  const tiles: Array<[number, number]> = [];
  let start = 0;
  let acc = 0;
  for (let i = 0; i < layout.countA; i++) {
    acc += cost(i);
    if (acc >= target) {
      tiles.push([start, i + 1]);
      start = i + 1;
      acc = 0;
    }
  }
  if (start < layout.countA) tiles.push([start, layout.countA]);
  return { tiles, work };
}

function limitError(maxCandidates: number, threshold: number): UserError {
  return new UserError(
    `more than ${maxCandidates} candidate pairs at threshold ${threshold}: stopped before memory runs out; ` +
      'raise --threshold or --max-candidates',
  );
}

function concat(parts: Candidates[]): Candidates {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  const out: Candidates = { length, a: new Int32Array(length), b: new Int32Array(length), score: new Float64Array(length) };
  let at = 0;
  for (const p of parts) {
    out.a.set(p.a.subarray(0, p.length), at);
    out.b.set(p.b.subarray(0, p.length), at);
    out.score.set(p.score.subarray(0, p.length), at);
    at += p.length;
  }
  return out;
}

/**
 * Runs the tiles, on a pool of `workers` threads sharing `shared.memory` (passed once as
 * workerData, never per task) or in this thread when workers <= 1, handing each tile's
 * candidates to `accept` (null: the tile found more than `tileLimit()` pairs). An exception
 * from `accept` stops the run and cancels the queued tiles.
 */
export async function forEachTile(
  shared: SharedFilters,
  tiles: Array<[number, number]>,
  workers: number,
  tileLimit: () => number,
  accept: (part: Candidates | null, tile: [number, number]) => void,
): Promise<void> {
  if (workers <= 1 || tiles.length <= 1) {
    const context = createTileContext(shared.memory, shared.layout);
    for (const tile of tiles) accept(runTile(context, { start: tile[0], end: tile[1], maxCandidates: tileLimit() }), tile);
    return;
  }
  // On the first error (say the candidate limit) withPool's destroy also cancels the queued tiles.
  await withPool<TileTask, ArrayBuffer | null, void>(
    workerFile('match-worker'),
    { threads: workers, workerData: { memory: shared.memory, layout: shared.layout } },
    async (pool) => {
      await Promise.all(
        tiles.map(async (tile) => {
          const packed = await pool.run({ start: tile[0], end: tile[1], maxCandidates: tileLimit() });
          accept(packed === null ? null : unpackCandidates(packed), tile);
        }),
      );
    },
  );
}

/**
 * Runs the tiles and collects their candidates. Throws UserError as soon as more than
 * `maxCandidates` pairs are found.
 */
export async function runTiles(
  shared: SharedFilters,
  tiles: Array<[number, number]>,
  workers: number,
  maxCandidates: number,
  onTile?: (tile: [number, number]) => void,
): Promise<Candidates> {
  const parts: Candidates[] = [];
  let found = 0;
  await forEachTile(shared, tiles, workers, () => maxCandidates - found, (part, tile) => {
    if (part === null || (found += part.length) > maxCandidates) throw limitError(maxCandidates, shared.layout.threshold);
    parts.push(part);
    onTile?.(tile);
  });
  return concat(parts);
}

/**
 * All (a, b) with Dice(a, b) >= threshold (inclusive, anonlink's exact double score).
 * Order is unspecified; greedySolve orders them. Throws UserError past `maxCandidates`.
 *
 * @example const found = await findCandidates(a, b, { threshold: 0.8, workers: 2 });
 */
export async function findCandidates(a: FilterSet, b: FilterSet, options: CandidateOptions): Promise<CandidateResult> {
  if (a.filterBits !== b.filterBits) throw new RangeError(`filter lengths differ: ${a.filterBits} and ${b.filterBits} bits`);
  return collectCandidates(a, b, options, a.count * b.count);
}

/**
 * Deduplication's candidates: every pair (i, j), i < j, of one set with Dice >= threshold, each
 * once and never a record with itself; a = i, b = j. The same tiles and kernel as findCandidates.
 *
 * @example const pairs = await findSelfCandidates(file, { threshold: 0.8, workers: 2 });
 */
export async function findSelfCandidates(a: FilterSet, options: CandidateOptions): Promise<CandidateResult> {
  return collectCandidates(a, null, options, (a.count * (a.count - 1)) / 2);
}

async function collectCandidates(a: FilterSet, b: FilterSet | null, options: CandidateOptions, pairsTotal: number): Promise<CandidateResult> {
  const workers = Math.max(0, Math.floor(options.workers));
  const shared = loadSharedFilters(a, b, options.threshold, Math.max(1, workers) + 1);
  const { tiles, work } = planTiles(shared, workers);
  let rows = 0;
  const candidates = await runTiles(shared, tiles, workers, options.maxCandidates ?? DEFAULT_MAX_CANDIDATES, (tile) => {
    rows += tile[1] - tile[0];
    options.onProgress?.(rows, a.count);
  });
  return { ...candidates, pairsTotal, pairsScanned: work };
}
