// Starts `blindlink serve` as a child process on loopback on a free port and waits for its
// "listening on" line: for the service demo, and the same way the tests and the load benchmark
// start a real server.
import { spawn, type ChildProcess } from 'node:child_process';
import { packagePath } from '../worker-path.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stderr (its JSON log) so far. */
  log(): string;
  /** SIGTERM (or `signal`), resolving when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ServerProcess> {
  const child = spawn(process.execPath, [packagePath('dist/src/cli/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`blindlink serve exited (${code}) before listening: ${stderr.trim().split('\n').at(-1) ?? ''}`)));
  });
  return {
    url,
    child,
    log: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
