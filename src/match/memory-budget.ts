// How much memory a match may take, and how many records of the larger side fit in one chunk.
// The per-record costs are the terms of docs/SCALING.md's memory model (M_match), which predicted
// 3.3 GB for the 10 M x 1.28 M LSH match that measured 3.4 GiB.
import { totalmem } from 'node:os';
import { UserError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes from "8GiB", "512 MiB", "12GB", "1.5gib" or a plain byte count; null when not a size.
 *
 * @example parseByteSize('8GiB') // 8589934592
 */
export function parseByteSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (match === null) return null;
  const unit = UNITS[match[2].toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/** Binary units for reports: "12.0 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * Half of this machine's memory: the page cache keeps the streamed file's pages warm, the other
 * half leaves room for the rest of the machine, and V8's garbage collector frees shared buffers
 * late, so the model's figure is exceeded for a while after each chunk (12 GiB on a 24 GiB host,
 * the figure docs/SCALING.md used for one machine's share).
 */
export function defaultMemoryBudget(): number {
  return Math.floor(totalmem() / 2);
}

/** Node, V8, the WebAssembly kernel and piscina's threads before any data: about 150 MiB measured; rounded up. */
export const BASE_BYTES = 256 * 2 ** 20;
/** A carried id as a V8 string plus its array slot; ids are short keys, and pairs mode alone needs them. */
const ID_BYTES = 64;
/** One 2^20-row stream chunk of the LSH join's scratch per worker (SCALING.md: 12 MB). */
const JOIN_CHUNK_BYTES = 12 * 2 ** 20;

export interface MemoryInputs {
  filterBits: number;
  /** Records of the side read whole (the smaller) and of the side that may be cut (the larger). */
  smallCount: number;
  largeCount: number;
  smallHasIds: boolean;
  method: 'none' | 'lsh';
  workers: number;
}

/**
 * Bytes per record for one side: the filter and popcounts as read (l/8 + 4: stored and computed)
 * plus what the search adds: the LSH pool and join popcounts (32 + 2), or the all-pairs kernel's
 * sorted copy with its metadata record (l/8 + 12).
 */
function recordBytes(filterBits: number, method: 'none' | 'lsh'): number {
  return filterBits / 8 + 4 + (method === 'lsh' ? 34 : filterBits / 8 + 12);
}

/** The model's bytes for one pass over `largeRecords` records of the larger side against the whole smaller side. */
export function passBytes(inputs: MemoryInputs, largeRecords: number): number {
  const perRecord = recordBytes(inputs.filterBits, inputs.method);
  const scratch = inputs.method === 'lsh' ? Math.max(1, inputs.workers) * (24 * Math.min(inputs.smallCount, largeRecords) + JOIN_CHUNK_BYTES) : 0;
  return BASE_BYTES + inputs.smallCount * (perRecord + (inputs.smallHasIds ? ID_BYTES : 0)) + largeRecords * perRecord + scratch;
}

/**
 * Records of the larger side per chunk under `budget`: the whole side when one pass fits (today's
 * single pass, unchanged), else the most that fit counting each chunk's search buffers twice (the
 * previous chunk's are garbage the collector may not have freed yet). Throws a UserError naming
 * the smallest workable budget when even a small chunk does not fit.
 */
export function chunkRecordsFor(inputs: MemoryInputs, budget: number, budgetFlag: string): number {
  if (passBytes(inputs, inputs.largeCount) <= budget) return inputs.largeCount;
  const fixed = passBytes(inputs, 0) + Math.max(1, inputs.workers) * 24 * inputs.smallCount;
  const perRecord = inputs.filterBits / 8 + 2 * recordBytes(inputs.filterBits, inputs.method);
  const fits = Math.floor((budget - fixed) / perRecord);
  const smallest = Math.min(inputs.largeCount, MIN_CHUNK_RECORDS);
  if (fits < smallest) {
    throw new UserError(
      `${budgetFlag} ${formatBytes(budget)} is too small: the ${inputs.smallCount}-record side alone needs about ${formatBytes(fixed)}, ` +
        `so give at least ${formatBytes(fixed + smallest * perRecord)}`,
    );
  }
  return fits;
}

/** Chunks smaller than this would spend more time rebuilding the index than searching. */
export const MIN_CHUNK_RECORDS = 1024;
