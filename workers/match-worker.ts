// Worker entry for the candidate search: binds the Dice kernel to the shared filter memory it got
// once as workerData, then answers tile tasks (bounds only) with transferred candidate buffers.
import { move } from 'piscina';
import { workerData } from 'node:worker_threads';
import type { SharedLayout } from '../src/match/shared-filters.js';
import { createTileContext, packCandidates, runTile, type TileContext, type TileTask } from '../src/match/tile.js';
import type { WasmMemory } from '../src/similarity/wasm-api.js';

/** What the pool hands every worker at start: the shared memory (by reference) and its layout. */
export interface MatchWorkerData {
  memory: WasmMemory;
  layout: SharedLayout;
}

let context: TileContext | undefined;

/** Candidates of one tile, packed (see packCandidates), or null past the candidate limit. */
export default function matchTile(task: TileTask): ArrayBuffer | null {
  if (context === undefined) {
    const data = workerData as MatchWorkerData;
    context = createTileContext(data.memory, data.layout);
  }
  const found = runTile(context, task);
  return found === null ? null : (move(packCandidates(found)) as ArrayBuffer);
}
