// The pairs reveal (explicit opt-in only): a CSV of matched row indices, or carried ids, with
// scores printed as anonlink's pairs file does. Written to a temporary name and renamed.
import { writeAtomically, writeChunk } from '../io/atomic-file.js';
import type { Matching } from '../solve/greedy.js';
import { formatScore } from './format-score.js';

/** RFC 4180 quoting; ids are written unchanged otherwise, since they are join keys. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Writes `index_a,index_b,score` (0-based data rows), or `id_a,id_b,score` when both files carry
 * ids, sorted by index_a.
 */
export async function writePairsCsv(path: string, matching: Matching, idsA: string[] | null, idsB: string[] | null): Promise<void> {
  const withIds = idsA !== null && idsB !== null;
  await writeAtomically(path, async (out) => {
    await writeChunk(out, withIds ? 'id_a,id_b,score\n' : 'index_a,index_b,score\n');
    const lines: string[] = [];
    for (let k = 0; k < matching.length; k++) {
      const a = withIds ? csvCell(idsA[matching.a[k]]) : String(matching.a[k]);
      const b = withIds ? csvCell(idsB[matching.b[k]]) : String(matching.b[k]);
      lines.push(`${a},${b},${formatScore(matching.score[k])}\n`);
      if (lines.length === 4096) await writeChunk(out, lines.splice(0).join(''));
    }
    await writeChunk(out, lines.join(''));
  });
}
