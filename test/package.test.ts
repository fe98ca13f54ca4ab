// package.json is part of the contract: exact dependency versions, Node 20 support, the bin entry,
// and the version recorded in encoded files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLINDLINK_VERSION } from '../src/version.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  type: string;
  bin: Record<string, string>;
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('package.json', () => {
  it('pins every dependency to an exact version', () => {
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('is an ESM package that declares Node 20 and the blindlink bin', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.engines.node).toMatch(/^>=20/);
    expect(pkg.bin.blindlink).toBe('dist/src/cli/main.js');
    expect(pkg.scripts.pretest).toContain('build');
  });

  it('records the package version in encoded files', () => {
    expect(BLINDLINK_VERSION).toBe(pkg.version);
  });
});
