// Defaults of the distributed match, apart from the modules that load the job engine's client:
// the CLI's help needs them, and loading BullMQ costs about a second a start on a busy machine.

/** BullMQ's key prefix unless --queue-prefix says otherwise (tests use one per run). */
export const DEFAULT_QUEUE_PREFIX = 'blindlink';

/**
 * Default records per shard: a worker holds two shards (about 300 bytes a record with the LSH
 * index), so 2 M registry records plus 1.28 M requests stay near 1 GB per worker process, and a
 * 10 M registry still gives five tasks to spread.
 */
export const DEFAULT_SHARD_RECORDS = 2_000_000;
