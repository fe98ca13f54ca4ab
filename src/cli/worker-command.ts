// `blindlink worker`: a process that searches shard tasks for `blindlink match --engine`. A thin
// shell over distributed/worker.ts; it logs one line per task on stderr, as a service does.
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { DEFAULT_QUEUE_PREFIX } from '../distributed/defaults.js';
import { action, positiveInteger } from './run.js';

interface WorkerFlags {
  engine: string;
  shared?: string;
  workers?: number;
  stallSeconds: number;
  queuePrefix: string;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('take shard tasks of distributed matches (blindlink match --engine) from a job engine until stopped')
    .requiredOption('--engine <url>', 'the job engine: BullMQ on Redis, redis://host:port[/db]')
    .option('--shared <dir>', "this machine's path of the coordinator's shared folder (default: the path the coordinator used)")
    .option('--workers <n>', 'threads per task (default: number of cores)', positiveInteger('--workers', 256))
    .option('--stall-seconds <s>', 'a task this worker holds is given to another worker if it cannot renew its lock for this long (it renews every half)', positiveInteger('--stall-seconds', 3600), 30)
    .option('--queue-prefix <name>', 'BullMQ key prefix, as given to match', DEFAULT_QUEUE_PREFIX)
    .addHelpText(
      'after',
      `
A worker holds the two shards of one task in memory at a time (about 300 bytes a record with LSH),
needs read access to the shared folder and a connection to the engine, and never the secret:
shards carry encodings only. Stop it with Ctrl-C or SIGTERM; it finishes the current task first.
A worker killed mid-task loses nothing: the task returns to the queue once its lock expires.

Example:
  blindlink worker --engine redis://10.0.0.5:6379 --shared /mnt/linkage`,
    )
    .action(
      action(async (flags: WorkerFlags) => {
        // Loaded only here, as in match: the engine's client slows every command's start.
        const [{ parseEngineUrl }, { runWorker }] = await Promise.all([import('../distributed/engine.js'), import('../distributed/worker.js')]);
        await runWorker({
          engine: parseEngineUrl(flags.engine, flags.queuePrefix),
          shared: flags.shared,
          threads: flags.workers ?? Math.max(1, availableParallelism()),
          stallSeconds: flags.stallSeconds,
          log: (line) => process.stderr.write(`blindlink worker ${process.pid}: ${line}\n`),
        });
      }),
    );
}
