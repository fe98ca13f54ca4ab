// Per-filter metadata the WebAssembly kernel reads beside each filter: its popcount and the
// popcounts of the words after each early-exit checkpoint (dice-kernel-source.ts).
import { defaultCheckpoints, META_BYTES } from './dice-kernel-source.js';

const BYTE_ONES = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_ONES[i] = (i & 1) + BYTE_ONES[i >> 1];

/**
 * Writes the META_BYTES record for the filter at `filters[source .. source + filterBits/8)`
 * into `meta` (u16 view) at record `index`, and returns the filter's popcount.
 */
export function writeFilterMeta(
  filters: Uint8Array,
  source: number,
  filterBits: number,
  meta: Uint16Array,
  index: number,
  checkpoints: readonly number[] = defaultCheckpoints(filterBits),
): number {
  const words = filterBits / 64;
  const base = index * (META_BYTES / 2);
  // Walk the words from the end so each checkpoint's "rest" is a running suffix sum.
  let suffix = 0;
  let next = checkpoints.length - 1;
  for (let w = words - 1; w >= 0; w--) {
    for (let i = source + 8 * w; i < source + 8 * w + 8; i++) suffix += BYTE_ONES[filters[i]];
    if (next >= 0 && checkpoints[next] === w) meta[base + 1 + next--] = suffix;
  }
  meta[base] = suffix;
  return suffix;
}
