// Locates ../shared (benchmark data and golden vectors) beside the repository; tests that need it
// skip when it is absent, as in a user's fresh clone.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file or folder under ../shared. */
export function sharedPath(relative: string): string {
  return fileURLToPath(new URL(`../../../shared/${relative}`, import.meta.url));
}

/** True when ../shared/<relative> exists. */
export function hasShared(relative: string): boolean {
  return existsSync(sharedPath(relative));
}
