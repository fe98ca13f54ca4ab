// Temporary folders for tests, removed when their test file ends (test/helpers/scratch-cleanup.ts
// runs in every file): `npm test` used to leave about 35 MB of them behind per run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

/** A fresh temporary folder, removed after the test file that made it. */
export function scratchDir(prefix = 'blindlink-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every folder scratchDir made in this test file. */
export function removeScratchDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}
