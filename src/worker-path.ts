// Locates files shipped with the package, such as compiled worker entry files. Workers always run from dist/ (tests build first), so the
// same path works from the TypeScript sources under vitest and from the installed CLI.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('blindlink: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** Absolute path of a file shipped with the package, e.g. `packagePath('docs/examples/taxpayer-schema.json')`. */
export function packagePath(relative: string): string {
  return join(packageRoot(), relative);
}

/**
 * Absolute path of a compiled worker module, e.g. `workerFile('encode-worker')`
 * gives `<package>/dist/workers/encode-worker.js`.
 */
export function workerFile(name: string): string {
  const file = join(packageRoot(), 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`worker ${name} is not built (${file} missing): run \`npm run build\``);
  }
  return file;
}
