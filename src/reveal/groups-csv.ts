// The groups reveal (explicit opt-in only, --reveal pairs): who is in which cluster or group, one
// line per grouped record, with row indices or carried ids. Written to a temporary name and renamed.
import { writeAtomically, writeChunk } from '../io/atomic-file.js';
import type { Grouping } from '../solve/greedy-groups.js';
import { csvCell } from './pairs-csv.js';

export interface GroupedFiles {
  /** offsets[p] is the first node of file p; one more entry closes the last file. */
  offsets: ArrayLike<number>;
  /** Each file's ids, or null where it carries none. */
  ids: ReadonlyArray<string[] | null>;
}

/**
 * Writes `group,index` (one file: deduplication) or `group,file,index` (several files, `file`
 * 0-based in command-line order), or `id` in place of `index` when every file carries ids. Rows
 * come in group order, then by file and row.
 */
export async function writeGroupsCsv(path: string, grouping: Grouping, files: GroupedFiles): Promise<void> {
  const withIds = files.ids.every((ids) => ids !== null);
  const several = files.offsets.length > 2;
  const header = `group,${several ? 'file,' : ''}${withIds ? 'id' : 'index'}\n`;
  // Nodes by group: a counting sort keeps file and row order inside each group.
  const starts = new Int32Array(grouping.count + 1);
  for (const g of grouping.groupOf) if (g >= 0) starts[g + 1]++;
  for (let g = 0; g < grouping.count; g++) starts[g + 1] += starts[g];
  const nodes = new Int32Array(starts[grouping.count]);
  const fill = starts.slice(0, grouping.count);
  grouping.groupOf.forEach((g, node) => {
    if (g >= 0) nodes[fill[g]++] = node;
  });
  let file = 0;
  const fileOf = (node: number): number => {
    // Nodes of a group ascend, but a new group starts low again: search from the start then.
    if (node < files.offsets[file]) file = 0;
    while (node >= files.offsets[file + 1]) file++;
    return file;
  };
  await writeAtomically(path, async (out) => {
    await writeChunk(out, header);
    const lines: string[] = [];
    for (let g = 0; g < grouping.count; g++) {
      for (let k = starts[g]; k < starts[g + 1]; k++) {
        const node = nodes[k];
        const p = fileOf(node);
        const row = node - files.offsets[p];
        const who = withIds ? csvCell((files.ids[p] as string[])[row]) : String(row);
        lines.push(`${g},${several ? `${p},` : ''}${who}\n`);
        if (lines.length === 4096) await writeChunk(out, lines.splice(0).join(''));
      }
    }
    await writeChunk(out, lines.join(''));
  });
}
