// Worker entry for one distributed shard task: reads the two shards, searches them on its own
// threads and returns the packed candidates. It runs off the worker process's main thread so
// that thread stays free to renew the task's lock with the job engine however long the search.
import { readEncodedFile } from '../src/io/encoded-file.js';
import { searchShard } from '../src/match/chunked.js';
import { packShardResult, planFromJson, type ShardTaskData, type ShardTaskResult } from '../src/distributed/shard-task.js';

export interface ShardThreadTask {
  aPath: string;
  bPath: string;
  search: ShardTaskData['search'];
  threads: number;
}

export default async function runShardTask(task: ShardThreadTask): Promise<ShardTaskResult> {
  const started = Date.now();
  const [a, b] = await Promise.all([readEncodedFile(task.aPath, { shared: true }), readEncodedFile(task.bPath, { shared: true })]);
  const search = { ...task.search, plan: task.search.plan === null ? null : planFromJson(task.search.plan) };
  const result = await searchShard(a, b, search, task.threads);
  return packShardResult(result, (Date.now() - started) / 1000);
}
