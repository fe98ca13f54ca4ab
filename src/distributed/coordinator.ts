// `blindlink match A B --engine URL --shared DIR`: the linkage unit cuts both files into shards in
// the shared store, puts one task per (A shard × B shard) on the job engine, and merges what the
// workers return; the greedy 1:1 then runs once, here, on all candidates, so the result is the
// local match's. The workers never see ids, the secret or anything but encodings.
import { randomBytes } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import { chooseBlocking } from '../blocking/blocked-candidates.js';
import { lshPlanFor, PlanSampler, type LshPlan } from '../blocking/lsh-plan.js';
import { UserError } from '../errors.js';
import { readEncodedChunks, writeEncodedStream, type EncodedChunk } from '../io/encoded-file.js';
import { CandidateSink } from '../match/candidate-sink.js';
import { DEFAULT_MAX_CANDIDATES } from '../match/candidates.js';
import { idsOf, mergeShard, peekEncodedFile } from '../match/chunked.js';
import { checkCompatible } from '../match/compatibility.js';
import { finishMatch } from '../match/finish-match.js';
import type { MatchOptions } from '../match/match-files.js';
import type { BlockingSummary, MatchReport } from '../reveal/release.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { checkEngine, SHARD_QUEUE, type EngineOptions } from './engine.js';
import type { ShardStore } from './shard-store.js';
import { planToJson, unpackShardResult, type ShardRef, type ShardTaskData } from './shard-task.js';

export interface DistributedOptions {
  engine: EngineOptions;
  store: ShardStore;
  /** Records per shard on either side. */
  shardRecords: number;
  /** How often to look at the tasks, in milliseconds. */
  pollMs?: number;
}

/** Failed tasks (an exception, not a lost worker) are tried this many times in all. */
const ATTEMPTS = 3;

interface SideShards {
  path: string;
  count: number;
  refs: ShardRef[];
  sampler: PlanSampler;
  first: EncodedChunk;
  hasIds: boolean;
}

/** Writes one side's shards (encodings only) and samples it for the LSH plan, in one pass. */
async function writeShards(path: string, name: 'a' | 'b', run: string, options: DistributedOptions, count: number): Promise<SideShards> {
  let first: EncodedChunk | null = null;
  let sampler: PlanSampler | null = null;
  const refs: ShardRef[] = [];
  // Each chunk is written out before the next is read: one set of buffers serves them all.
  for await (const chunk of readEncodedChunks(path, options.shardRecords, { reuseBuffers: true })) {
    first ??= { ...chunk, clks: new Uint8Array(0), popcounts: new Uint16Array(0), blockKeys: null, ids: chunk.ids === null ? null : [] };
    sampler ??= new PlanSampler(chunk.filterBits, count);
    sampler.add(chunk, chunk.start);
    const key = `${run}/${name}-${refs.length}.arrow`;
    const { recordCount: _count, ...opening } = chunk.metadata ?? { blindlinkVersion: 'unknown', schemaFingerprint: '', keyCheck: '', filterBits: chunk.filterBits, hardening: 'unknown', recordCount: 0 };
    // Block keys, field presence and ids stay behind: workers need the filters only.
    const { blocking: _blocking, presenceFields: _presence, ...plain } = opening;
    await options.store.put(key, (local) =>
      writeEncodedStream(local, chunk.filterBits, plain, false, async (sink) => sink.write({ clks: chunk.clks, popcounts: chunk.popcounts, ids: null })).then(() => undefined),
    );
    refs.push({ key, start: chunk.start, count: chunk.count });
  }
  if (first === null || sampler === null) throw new UserError(`${path}: contains no encodings`);
  return { path, count: first.start + refs.reduce((sum, r) => sum + r.count, 0), refs, sampler, first, hasIds: first.ids !== null };
}

/** Runs a match through the job engine; the report is the local match's, with `blocking.distributed`. */
export async function matchDistributed(options: MatchOptions, distributed: DistributedOptions): Promise<MatchReport> {
  const { engine, store } = distributed;
  if (options.threshold === 'auto') throw new UserError('--threshold auto reads both files whole on one machine: give a threshold with --engine');
  if (options.reveal === 'estimate') throw new UserError('--reveal estimate reads both files whole on one machine: match without --engine');
  if (options.blocking === 'signature') throw new UserError('--engine searches with --blocking none, lsh or auto; the signature join runs locally only');
  const threshold = options.threshold;
  const [peekA, peekB] = await Promise.all([peekEncodedFile(options.a), peekEncodedFile(options.b)]);
  for (const [peek, path] of [[peekA, options.a], [peekB, options.b]] as const) {
    if (peek === null) throw new UserError(`${path}: --engine needs Arrow files written by blindlink encode (the record count is in their metadata)`);
  }
  await checkEngine(engine);
  const method = (options.blocking ?? 'auto') === 'auto' ? chooseBlocking(peekA!.count, peekB!.count) : (options.blocking as 'none' | 'lsh');
  const run = randomBytes(8).toString('hex');
  const queue = new Queue(SHARD_QUEUE, { connection: engine.connection, prefix: engine.prefix });
  const jobIds: string[] = [];
  try {
    options.progress?.('writing shards');
    const a = await writeShards(options.a, 'a', run, distributed, peekA!.count);
    const b = await writeShards(options.b, 'b', run, distributed, peekB!.count);
    for (const warning of checkCompatible(a.first, b.first)) options.warn(warning);
    if (a.first.filterBits > MAX_FILTER_BITS) throw new UserError(`${a.path}: ${a.first.filterBits}-bit filters are longer than the ${MAX_FILTER_BITS} bits the matcher supports`);
    let plan: LshPlan | null = null;
    if (method === 'lsh') plan = lshPlanFor(a.sampler.sample(), b.sampler.sample(), { threshold });
    const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
    const tasks: ShardTaskData[] = [];
    for (const refA of a.refs) for (const refB of b.refs) tasks.push({ version: 1, run, store: store.location, a: refA, b: refB, search: { method, threshold, plan: plan === null ? null : planToJson(plan), maxCandidates } });
    const jobs = await queue.addBulk(
      tasks.map((data, i) => ({
        name: 'shard',
        data,
        // Removed by this run when it ends; the age limit clears tasks of a run that was killed.
        opts: { jobId: `${run}-${i}`, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 86_400 } },
      })),
    );
    for (const job of jobs) jobIds.push(job.id!);
    const results = await collect(queue, jobIds, tasks, options, distributed.pollMs ?? 200);
    // One result per task id, merged in task order: the candidate set does not depend on which worker ran what, or how often.
    const sink = new CandidateSink();
    let pairsTotal = 0;
    let pairsCompared = 0;
    tasks.forEach((task, i) => {
      const found = results.shards[i];
      if (sink.length + found.length > maxCandidates) throw new UserError(`more than ${maxCandidates} candidate pairs at threshold ${threshold}: stopped before memory runs out; raise --threshold or --max-candidates`);
      mergeShard(sink, found, task.a.start, task.b.start);
      pairsTotal += found.pairsTotal;
      pairsCompared += found.pairsCompared;
    });
    const blocking: BlockingSummary = {
      method,
      pairsTotal,
      pairsCompared,
      reductionRatio: pairsTotal === 0 ? 1 : 1 - pairsCompared / pairsTotal,
      distributed: { engine: engine.display, tasks: tasks.length, retried: results.retried, workers: results.workers, taskSeconds: results.shards.reduce((sum, shard) => sum + shard.seconds, 0) },
    };
    if (plan !== null) blocking.lsh = { bitsPerTable: plan.bitsPerTable, tables: plan.tables, predictedCompleteness: plan.predictedCompleteness };
    const pairs = options.reveal === 'pairs';
    const side = async (s: SideShards) => ({ path: s.path, count: s.count, format: 'arrow' as const, ids: pairs && s.hasIds ? await idsOf(s.path, distributed.shardRecords) : null });
    return await finishMatch(options, { a: await side(a), b: await side(b) }, threshold, sink.view(), blocking);
  } finally {
    await Promise.allSettled(jobIds.map((id) => queue.remove(id)));
    await queue.close();
    await store.removeRun(run);
  }
}

/** Waits for every task, reporting progress; a task that failed all its attempts fails the match. */
async function collect(queue: Queue, ids: string[], tasks: ShardTaskData[], options: MatchOptions, pollMs: number) {
  const shards: ReturnType<typeof unpackShardResult>[] = new Array(ids.length);
  const pending = new Set(ids.map((_, i) => i));
  let retried = 0;
  let workers = 0;
  let lastReport = '';
  while (pending.size > 0) {
    for (const i of [...pending]) {
      // State first: a job read before it completed would carry no return value yet.
      const state = await queue.getJobState(ids[i]);
      if (state !== 'completed' && state !== 'failed') continue;
      const job = await Job.fromId(queue, ids[i]);
      if (job === undefined) throw new UserError(`shard task ${ids[i]} vanished from the job engine (was the queue cleared?)`);
      if (state === 'completed') {
        try {
          shards[i] = unpackShardResult(job.returnvalue, tasks[i]);
        } catch (error) {
          throw new UserError(`shard task ${ids[i]}: ${(error as Error).message}`);
        }
        retried += job.stalledCounter + Math.max(0, job.attemptsMade - 1);
        pending.delete(i);
      } else {
        throw new UserError(`shard task ${ids[i]} failed after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
      }
    }
    workers = Math.max(workers, (await queue.getWorkers()).length);
    const message = workers === 0 ? `waiting for workers (blindlink worker --engine ...): ${ids.length - pending.size} of ${ids.length} shard tasks done` : `shard tasks: ${ids.length - pending.size} of ${ids.length} done, ${workers} worker(s) seen`;
    if (message !== lastReport) options.progress?.(message);
    lastReport = message;
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return { shards, retried, workers };
}
