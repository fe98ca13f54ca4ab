// Runs `blindlink match ...` through the shipped entry (dist/src/cli/main.js) in a child
// process and captures its output and exit code.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const main = `${root}dist/src/cli/main.js`;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runMatchCli(args: string[], cwd = root): CliResult {
  const result = spawnSync(process.execPath, [main, 'match', ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
