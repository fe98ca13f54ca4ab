// Names of the temporary files outputs are written to (`.NAME.PID.HEX.partial` beside NAME), and
// the clean-up of ones left by a writer that died (kill -9, power loss) before it could remove them.
import { randomBytes } from 'node:crypto';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh temporary name beside `path`; the writer's PID says when it is stale. */
export function partialPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.partial`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Our partial names for `name`, and only those: `.NAME.PID.HEX.partial`, and the PID-less
 * `.NAME.HEX.partial` earlier versions wrote (the PID group is then undefined).
 */
export function partialPattern(name: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(name)}\\.(?:(\\d{1,10})\\.)?[0-9a-f]{12}\\.partial$`);
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the partials of `path` whose writer is no longer running (or unknown: the old naming),
 * leaving those of live writers, every other file, and anything not a regular file. Returns how
 * many it removed; a folder it cannot list or a file it cannot remove is left alone.
 */
export async function removeStalePartials(path: string): Promise<number> {
  const folder = dirname(path);
  const pattern = partialPattern(basename(path));
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null) continue;
    const pid = match[1] === undefined ? null : Number(match[1]);
    if (pid !== null && (pid === process.pid || running(pid))) continue;
    const file = join(folder, name);
    try {
      if (!(await lstat(file)).isFile()) continue;
      await unlink(file);
      removed++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
