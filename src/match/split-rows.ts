// One file cut into its even and odd rows: two disjoint sets for estimates that must never pair a
// record with itself (deduplication's automatic threshold, its LSH plan's chance collisions).
import type { FilterSet } from './shared-filters.js';

/**
 * The even rows (0, 2, 4, ...) and the odd rows, each as its own contiguous filter set. Row r of
 * the even set is row 2r of the input; row r of the odd set is row 2r + 1.
 *
 * @example const [even, odd] = evenAndOddRows(file); // even.count + odd.count === file.count
 */
export function evenAndOddRows(set: FilterSet): [FilterSet, FilterSet] {
  const bytes = set.filterBits / 8;
  const take = (first: number): FilterSet => {
    const count = Math.max(0, Math.ceil((set.count - first) / 2));
    const clks = new Uint8Array(count * bytes);
    for (let r = 0; r < count; r++) {
      const row = first + 2 * r;
      clks.set(set.clks.subarray(row * bytes, row * bytes + bytes), r * bytes);
    }
    return { filterBits: set.filterBits, count, clks };
  };
  return [take(0), take(1)];
}
