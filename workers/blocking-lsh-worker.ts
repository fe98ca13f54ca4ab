// Worker entry for Hamming LSH blocking: gets the shared pools and filters once as workerData,
// then answers pool-extraction and table-join tasks; table results come back as one transferred buffer.
import { move } from 'piscina';
import { workerData } from 'node:worker_threads';
import { extractPools, packTableResult, TableJoin, type LshShared, type LshTask } from '../src/blocking/lsh-scan.js';

let join: TableJoin | undefined;

/** Pool tasks answer null; table tasks a packed TableResult (see packTableResult). */
export default function blockingTask(task: LshTask): ArrayBuffer | null {
  const shared = workerData as LshShared;
  if (task.kind === 'pool') {
    extractPools(shared, task.side, task.start, task.end);
    return null;
  }
  join ??= new TableJoin(shared);
  return move(packTableResult(join.run(task.table, task.start, task.end, task.maxCandidates))) as ArrayBuffer;
}
