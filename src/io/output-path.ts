// Which paths an output may go to: one that does not exist yet, or an existing regular file.
// Outputs are written under a temporary name and renamed over their target, and a rename replaces
// whatever entry is there: as root, `encode --out /dev/null` replaced /dev/null with a regular
// file. So a device, FIFO, socket, directory or symbolic link (never followed) is refused.
import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { UserError } from '../errors.js';

function kindOf(info: Stats): string {
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws a UserError (exit 1) when `path` exists and is not a regular file.
 *
 * @example await assertOutputTarget('pairs.csv'); // passes for a new or regular file
 */
export async function assertOutputTarget(path: string): Promise<void> {
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new UserError(`${path}: cannot write output: a parent of it is not a directory`);
    throw new UserError(`${path}: cannot write output (${code ?? 'error'})`);
  }
  if (info.isFile()) return;
  throw new UserError(`${path}: refusing to write output: it exists and is ${kindOf(info)}, not a regular file (outputs replace their target)`);
}
