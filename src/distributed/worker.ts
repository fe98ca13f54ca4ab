// `blindlink worker`: takes shard tasks from the job engine, one at a time, and answers each with
// its candidates. Any number of these run on any number of machines; a task whose worker dies
// (kill -9, a lost machine) stays locked only until its lock expires, then another worker takes
// it (BullMQ's stalled-job check), and its result replaces nothing: one result per task id.
import { Piscina } from 'piscina';
import { Worker, type Job } from 'bullmq';
import { workerFile } from '../worker-path.js';
import { checkEngine, SHARD_QUEUE, type EngineOptions } from './engine.js';
import { openShardStore } from './shard-store.js';
import { parseShardTask, type ShardTaskResult } from './shard-task.js';
import type { ShardThreadTask } from '../../workers/shard-worker.js';

export interface WorkerOptions {
  engine: EngineOptions;
  /** This machine's mount of the shared folder; default the coordinator's path, recorded in each task. */
  shared?: string;
  /** Threads per task. */
  threads: number;
  /** Seconds without a lock renewal after which a task is given to another worker. */
  stallSeconds: number;
  log: (line: string) => void;
}

/** How often a task may be re-offered after its worker was lost, before the match fails. */
export const MAX_STALLS = 3;

/** Runs until SIGINT or SIGTERM; resolves once the current task is done and the worker closed. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  await checkEngine(options.engine);
  const threads = new Piscina<ShardThreadTask, ShardTaskResult>({ filename: workerFile('shard-worker'), minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
  const process_ = async (job: Job): Promise<ShardTaskResult> => {
    const task = parseShardTask(job.data);
    const store = openShardStore(options.shared ?? task.store);
    const started = Date.now();
    options.log(`task ${job.id} started: A rows ${task.a.start}+${task.a.count}, B rows ${task.b.start}+${task.b.count}, ${task.search.method === 'lsh' ? 'LSH' : 'all pairs'} (attempt ${job.attemptsStarted}, stalls ${job.stalledCounter})`);
    const result = await threads.run({ aPath: await store.get(task.a.key), bPath: await store.get(task.b.key), search: task.search, threads: options.threads });
    options.log(`task ${job.id} done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.length} candidates, ${result.pairsCompared} pairs compared`);
    return result;
  };
  const worker = new Worker(SHARD_QUEUE, process_, {
    connection: options.engine.connection,
    prefix: options.engine.prefix,
    concurrency: 1,
    lockDuration: options.stallSeconds * 1000,
    stalledInterval: options.stallSeconds * 1000,
    maxStalledCount: MAX_STALLS,
    autorun: false,
  });
  worker.on('error', (error) => options.log(`engine error: ${error.message}`));
  worker.on('failed', (job, error) => options.log(`task ${job?.id ?? '?'} failed: ${error.message}`));
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      options.log('stopping after the current task');
      void worker.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  options.log(`waiting for shard tasks on ${options.engine.display} (queue prefix ${options.engine.prefix}), ${options.threads} thread(s) a task`);
  void worker.run();
  await stopped;
  await threads.destroy();
}
