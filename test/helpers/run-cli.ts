// Runs the built CLI (dist/, built by `npm test`'s pretest step) as a user would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { scratchDir } from './scratch.js';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `blindlink ...args`; BLINDLINK_SECRET is removed from the environment unless given. With
 * `stdin`, those bytes are the child's standard input (else it has none).
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}, cwd?: string, stdin?: Uint8Array | string): Promise<CliResult> {
  const base = { ...process.env };
  delete base.BLINDLINK_SECRET;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) {
      // A child that stops reading early (an error) closes the pipe: that is not this test's failure.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    }
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
