// Runs one tile of the candidate search: a range of popcount-sorted A rows against the B band
// each can reach, B taken in cache-sized blocks so a block stays in L2 while the tile's A rows
// pass over it. Used by the worker entry and, for small inputs, by the main thread directly.
import { META_BYTES } from '../similarity/dice-kernel-source.js';
import { compileDiceKernel, instantiateDiceKernel, type ScanFunction } from '../similarity/dice-kernel.js';
import { diceFromCounts } from '../similarity/dice-reference.js';
import type { WasmMemory } from '../similarity/wasm-api.js';
import { layoutViews, type SharedLayout } from './shared-filters.js';

/** Candidate pairs in original row numbers, with exact anonlink scores. */
export interface Candidates {
  length: number;
  a: Int32Array;
  b: Int32Array;
  score: Float64Array;
}

/** What a tile task carries: bounds in sorted-A rows and the candidate limit, nothing else. */
export interface TileTask {
  start: number;
  end: number;
  maxCandidates: number;
}

export interface TileContext {
  scan: ScanFunction;
  layout: SharedLayout;
  views: ReturnType<typeof layoutViews>;
  outPtr: number;
  out: Int32Array;
  /** The memory's buffer as this thread sees it. */
  buffer: ArrayBuffer | SharedArrayBuffer;
}

// B rows per cache block: 256 KiB of filters fits the L2 of current x86 cores with room for A.
const BLOCK_BYTES = 256 * 1024;

/**
 * Binds the kernel to the shared memory and claims this thread's scratch area (an atomic
 * counter in the shared header, so threads never write the same output area).
 */
export function createTileContext(memory: WasmMemory, layout: SharedLayout): TileContext {
  const views = layoutViews(memory.buffer, layout);
  const slot = Atomics.add(views.header, 0, 1);
  if (slot >= layout.scratchSlots) throw new Error(`match: ${slot + 1} threads joined, scratch for ${layout.scratchSlots}`);
  const outPtr = layout.scratch + slot * layout.scratchPairs * 8;
  return {
    scan: instantiateDiceKernel(compileDiceKernel(layout.filterBits, 'i64', layout.checkpoints), memory),
    layout,
    views,
    outPtr,
    out: new Int32Array(memory.buffer, outPtr, layout.scratchPairs * 2),
    buffer: memory.buffer,
  };
}

/** Growable typed columns for one tile's candidates. */
class CandidateBuffer {
  length = 0;
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  score = new Float64Array(1024);

  push(a: number, b: number, score: number): void {
    if (this.length === this.a.length) {
      const grow = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
        const next = make(old.length * 2);
        next.set(old);
        return next;
      };
      this.a = grow(this.a, (n) => new Int32Array(n));
      this.b = grow(this.b, (n) => new Int32Array(n));
      this.score = grow(this.score, (n) => new Float64Array(n));
    }
    this.a[this.length] = a;
    this.b[this.length] = b;
    this.score[this.length] = score;
    this.length++;
  }
}

/**
 * All pairs with score >= threshold between sorted A rows [start, end) and their B bands, or
 * null as soon as more than `maxCandidates` are found (the caller reports the limit).
 */
export function runTile(context: TileContext, task: TileTask): Candidates | null {
  const { scan, layout, views, outPtr, out } = context;
  const bytes = layout.filterBits / 8;
  const metaWords = META_BYTES / 2;
  const found = new CandidateBuffer();
  let bandStart = Number.MAX_SAFE_INTEGER;
  let bandEnd = 0;
  // A self-join pairs sorted row i only with the rows after it: each unordered pair once, never (i, i).
  const after = layout.self ? 1 : -Number.MAX_SAFE_INTEGER;
  for (let i = task.start; i < task.end; i++) {
    const pa = views.aMeta[i * metaWords];
    const from = Math.max(views.rangeLo[pa], i + after);
    if (from < views.rangeHi[pa]) {
      bandStart = Math.min(bandStart, from);
      bandEnd = Math.max(bandEnd, views.rangeHi[pa]);
    }
  }
  const blockRows = Math.max(64, Math.floor(BLOCK_BYTES / bytes));
  for (let blockStart = bandStart; blockStart < bandEnd; blockStart += blockRows) {
    const blockEnd = Math.min(bandEnd, blockStart + blockRows);
    for (let i = task.start; i < task.end; i++) {
      const pa = views.aMeta[i * metaWords];
      const lo = Math.max(views.rangeLo[pa], blockStart, i + after);
      const hi = Math.min(views.rangeHi[pa], blockEnd);
      const rowTable = layout.table + 4 * pa;
      const aIndex = views.aOrder[i];
      for (let run = lo; run < hi; run += layout.scratchPairs) {
        const count = Math.min(layout.scratchPairs, hi - run);
        const n = scan(layout.aFilters + i * bytes, layout.aMeta + i * META_BYTES, layout.bFilters + run * bytes,
          layout.bMeta + run * META_BYTES, count, rowTable, outPtr);
        for (let k = 0; k < n; k++) {
          const j = run + out[2 * k];
          const bIndex = views.bOrder[j];
          const score = diceFromCounts(out[2 * k + 1], pa, views.bMeta[j * metaWords]);
          // Self-join pairs come out as (lower row, higher row), the order the solvers expect.
          if (aIndex > bIndex && layout.self) found.push(bIndex, aIndex, score);
          else found.push(aIndex, bIndex, score);
        }
        if (found.length > task.maxCandidates) return null;
      }
    }
  }
  return { length: found.length, a: found.a, b: found.b, score: found.score };
}

/** Packs candidates into one ArrayBuffer (scores, then a, then b) so a worker can transfer it. */
export function packCandidates(c: Candidates): ArrayBuffer {
  const buffer = new ArrayBuffer(c.length * 16);
  new Float64Array(buffer, 0, c.length).set(c.score.subarray(0, c.length));
  new Int32Array(buffer, c.length * 8, c.length).set(c.a.subarray(0, c.length));
  new Int32Array(buffer, c.length * 12, c.length).set(c.b.subarray(0, c.length));
  return buffer;
}

/** Views over a packed buffer; no copy. */
export function unpackCandidates(buffer: ArrayBuffer): Candidates {
  const length = buffer.byteLength / 16;
  return {
    length,
    score: new Float64Array(buffer, 0, length),
    a: new Int32Array(buffer, length * 8, length),
    b: new Int32Array(buffer, length * 12, length),
  };
}
