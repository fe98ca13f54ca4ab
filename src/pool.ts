// Every piscina pool in blindlink is made here, so that every worker thread starts, and is torn
// down, in the one way that cannot crash the process (docs/ROBUSTNESS.md has the stress test).
import { Piscina } from 'piscina';

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
    await pool.destroy();
  }
}
