// Every piscina pool in blindlink is made here, so that every worker thread starts, and is torn
// down, in the one way that cannot crash the process (docs/ROBUSTNESS.md has the stress test).
import { Piscina } from 'piscina';

/**
 * Node 20.19 lets require() load an ES module synchronously, and piscina's worker bootstrap tries
 * require() before import(). A worker terminated while inside that synchronous load (pool.destroy()
 * after a failed task, with another worker still starting) aborts the whole process from C++:
 * "v8::Module::IsGraphAsync ... must be used on an instantiated module" (or an assertion in
 * CreateRequiredModuleFacade). With require(esm) off in the worker, piscina's require() fails at
 * once with ERR_REQUIRE_ESM and it falls back to import(), whose loading a termination stops
 * cleanly. Workers then do not inherit the parent's other Node options: some (V8 heap sizes) are
 * refused in a worker's execArgv, and our workers need none.
 */
export const WORKER_EXEC_ARGV: readonly string[] = ['--no-experimental-require-module'];

export interface PoolOptions {
  /** Threads started at once and kept: blindlink sizes pools for the work at hand. */
  threads: number;
  /** Handed to every worker once (shared memory travels by reference). */
  workerData?: unknown;
  /** Milliseconds an idle thread is kept; piscina's default otherwise. */
  idleTimeout?: number;
}

/**
 * A piscina pool of `options.threads` threads running the ES module `filename`.
 *
 * @example const pool = createPool<Task, Result>(workerFile('match-worker'), { threads: 2 });
 */
export function createPool<Task = unknown, Result = unknown>(filename: string, options: PoolOptions): Piscina<Task, Result> {
  return new Piscina<Task, Result>({
    filename,
    minThreads: options.threads,
    maxThreads: options.threads,
    workerData: options.workerData,
    execArgv: [...WORKER_EXEC_ARGV],
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
  });
}

/**
 * Runs `use` on a fresh pool and destroys the pool afterwards, whether `use` resolved or threw
 * (destroying also rejects the tasks still queued, which is how a failed run stops early).
 */
export async function withPool<Task, Result, T>(
  filename: string,
  options: PoolOptions,
  use: (pool: Piscina<Task, Result>) => Promise<T>,
): Promise<T> {
  const pool = createPool<Task, Result>(filename, options);
  try {
    return await use(pool);
  } finally {
    await destroyPool(pool);
  }
}

/**
 * Terminates the pool's threads and rejects its queued tasks. A worker can answer a task in the
 * instant destroy() clears the pool's task list; piscina then emits 'error' ("Unexpected message
 * from Worker") on the pool, which without a listener ends the process with a stack trace. Nothing
 * waits for any result of a pool being destroyed, so errors from then on are dropped.
 */
export async function destroyPool(pool: Piscina): Promise<void> {
  pool.on('error', ignoreTearDownError);
  await pool.destroy();
}

function ignoreTearDownError(): void {
  // see destroyPool
}
