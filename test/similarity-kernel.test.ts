// The WebAssembly Dice kernel against the bit-by-bit reference: every filter length that is a
// multiple of 64 bits up to 4096, filters at odd positions in their sets, empty and full filters.
import { describe, expect, it } from 'vitest';
import { compileDiceKernel, kernelSupports } from '../src/similarity/dice-kernel.js';
import { instantiateDiceKernel } from '../src/similarity/dice-kernel.js';
import { defaultCheckpoints, META_BYTES, type KernelVariant } from '../src/similarity/dice-kernel-source.js';
import { andPopcountReference, diceFromCounts } from '../src/similarity/dice-reference.js';
import { writeFilterMeta } from '../src/similarity/filter-meta.js';
import { thresholdTable } from '../src/similarity/threshold-table.js';
import { PAGE_BYTES, wasm } from '../src/similarity/wasm-api.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';

interface Found {
  j: number;
  common: number;
}

/**
 * Lays the sets out as the matcher does (filters, metadata, table) and scans A row `aRow`
 * against B rows [bStart, bStart + count). `table` null means "report every pair".
 */
function scanWithKernel(
  variant: KernelVariant,
  bits: number,
  a: Uint8Array,
  b: Uint8Array,
  aRow: number,
  bStart: number,
  count: number,
  threshold: number | null,
  checkpoints: number[] = defaultCheckpoints(bits),
): Found[] {
  const bytes = bits / 8;
  const aCount = a.length / bytes;
  const bCount = b.length / bytes;
  const layout = { a: 0, b: a.length, aMeta: a.length + b.length, bMeta: a.length + b.length + aCount * META_BYTES };
  const table = layout.bMeta + bCount * META_BYTES;
  const out = table + 4 * (2 * bits + 1);
  const memory = new wasm.Memory({ initial: Math.ceil((out + count * 8) / PAGE_BYTES) + 1, maximum: 1024, shared: true });
  const u8 = new Uint8Array(memory.buffer);
  u8.set(a, layout.a);
  u8.set(b, layout.b);
  const aMeta = new Uint16Array(memory.buffer, layout.aMeta, (aCount * META_BYTES) / 2);
  const bMeta = new Uint16Array(memory.buffer, layout.bMeta, (bCount * META_BYTES) / 2);
  for (let i = 0; i < aCount; i++) writeFilterMeta(u8, layout.a + i * bytes, bits, aMeta, i, checkpoints);
  for (let j = 0; j < bCount; j++) writeFilterMeta(u8, layout.b + j * bytes, bits, bMeta, j, checkpoints);
  const values = threshold === null ? new Int32Array(2 * bits + 1) : thresholdTable(bits, threshold);
  new Int32Array(memory.buffer, table, values.length).set(values);
  const pa = aMeta[aRow * (META_BYTES / 2)];
  const scan = instantiateDiceKernel(compileDiceKernel(bits, variant, checkpoints), memory);
  const n = scan(layout.a + aRow * bytes, layout.aMeta + aRow * META_BYTES, layout.b + bStart * bytes,
    layout.bMeta + bStart * META_BYTES, count, table + 4 * pa, out);
  const results = new Int32Array(memory.buffer, out, 2 * n);
  return Array.from({ length: n }, (_, k) => ({ j: results[2 * k], common: results[2 * k + 1] }));
}

function reference(bits: number, a: Uint8Array, b: Uint8Array, aRow: number, bStart: number, count: number, threshold: number | null): Found[] {
  const bytes = bits / 8;
  const ones = (f: Uint8Array, row: number): number => andPopcountReference(f, row * bytes, f, row * bytes, bytes);
  const found: Found[] = [];
  for (let j = 0; j < count; j++) {
    const common = andPopcountReference(a, aRow * bytes, b, (bStart + j) * bytes, bytes);
    if (threshold === null || diceFromCounts(common, ones(a, aRow), ones(b, bStart + j)) >= threshold) found.push({ j, common });
  }
  return found;
}

const lengths = Array.from({ length: 64 }, (_, i) => 64 * (i + 1));

describe.each(['i64', 'simd'] as const)('%s Dice kernel', (variant) => {
  it('gives the reference AND-popcount for every length multiple of 64 bits up to 4096, at odd offsets', () => {
    const random = seeded(7);
    for (const bits of lengths.filter((l) => kernelSupports(l, variant))) {
      const a = randomFilters(5, bits, 0.5, random).clks;
      const b = randomFilters(16, bits, 0.1 + 0.8 * random(), random).clks;
      // A row 3, B runs starting at odd rows with lengths that exercise the blocked loop and its tail.
      for (const [start, count] of [[1, 15], [3, 9], [5, 2], [7, 0]]) {
        expect(scanWithKernel(variant, bits, a, b, 3, start, count, null), `${bits} bits, run ${start}+${count}`).toEqual(
          reference(bits, a, b, 3, start, count, null),
        );
      }
    }
  });

  it('reports exactly the pairs at or above the threshold, early exits included', () => {
    const random = seeded(11);
    for (const bits of [128, 512, 1024, 1536, 4096].filter((l) => kernelSupports(l, variant))) {
      for (const fill of [0.3, 0.5, 0.7]) {
        const b = randomFilters(41, bits, fill, random);
        // Near-duplicates of B land on both sides of each threshold.
        const a = perturbed(b, Math.round(bits * 0.06), random).clks;
        const words = bits / 64;
        // Tuned checkpoint sets vary with the data, so every kind must stay exact.
        const sets = [defaultCheckpoints(bits), [], [1], [words - 1], [1, 2, words - 1]].filter((set) => new Set(set).size === set.length);
        for (const checkpoints of sets) {
          for (const threshold of [0.5, 0.8, 0.9, 1]) {
            for (const row of [0, 17, 40]) {
              expect(scanWithKernel(variant, bits, a, b.clks, row, 1, 39, threshold, checkpoints), `checkpoints ${checkpoints.join(',')}`).toEqual(
                reference(bits, a, b.clks, row, 1, 39, threshold),
              );
            }
          }
        }
      }
    }
  });

  it('handles empty and full filters', () => {
    for (const bits of [128, 1024, 4096].filter((l) => kernelSupports(l, variant))) {
      const bytes = bits / 8;
      // Rows: empty, full, empty, full, half.
      const set = new Uint8Array(5 * bytes);
      set.fill(0xff, bytes, 2 * bytes);
      set.fill(0xff, 3 * bytes, 4 * bytes);
      set.fill(0xf0, 4 * bytes, 5 * bytes);
      for (let row = 0; row < 5; row++) {
        expect(scanWithKernel(variant, bits, set, set, row, 0, 5, null)).toEqual(reference(bits, set, set, row, 0, 5, null));
        // Empty against empty is 0/0 = NaN: never a match; full against full scores 1.
        expect(scanWithKernel(variant, bits, set, set, row, 0, 5, 1)).toEqual(reference(bits, set, set, row, 0, 5, 1));
      }
      expect(scanWithKernel(variant, bits, set, set, 1, 0, 5, 1).map((f) => f.j)).toEqual([1, 3]);
      expect(scanWithKernel(variant, bits, set, set, 0, 0, 5, 1e-9)).toEqual([]);
    }
  });
});
