// What travels through the job engine: a shard task (which shards, how to search them) and its
// result (the shard's candidates as packed typed arrays, base64 in the job's return value). Both
// are plain JSON, checked on arrival, since a queue is a boundary like a file.
import type { LshPlan } from '../blocking/lsh-plan.js';
import type { ShardResult, ShardSearch } from '../match/chunked.js';
import type { Candidates } from '../match/tile.js';

export interface ShardRef {
  /** Store key, `<run>/<name>.arrow`. */
  key: string;
  /** Row of the whole file where the shard starts, and its records. */
  start: number;
  count: number;
}

/** LshPlan with its typed arrays as number arrays. */
export type PlanJson = Omit<LshPlan, 'poolBits' | 'masks'> & { poolBits: number[]; masks: number[] };

export interface ShardTaskData {
  version: 1;
  run: string;
  /** The store the coordinator wrote to (a folder path); a worker's --shared overrides it. */
  store: string;
  a: ShardRef;
  b: ShardRef;
  search: Omit<ShardSearch, 'plan'> & { plan: PlanJson | null };
}

export interface ShardTaskResult {
  /** base64 of Int32 a[], Int32 b[], Float64 score[] (little-endian), `length` pairs, shard rows. */
  candidates: string;
  length: number;
  pairsTotal: number;
  pairsCompared: number;
  seconds: number;
}

export function planToJson(plan: LshPlan): PlanJson {
  return { ...plan, poolBits: Array.from(plan.poolBits), masks: Array.from(plan.masks) };
}

export function planFromJson(plan: PlanJson): LshPlan {
  return { ...plan, poolBits: Int32Array.from(plan.poolBits), masks: Int32Array.from(plan.masks) };
}

export function packShardResult(result: ShardResult, seconds: number): ShardTaskResult {
  const { length } = result.candidates;
  const bytes = Buffer.alloc(length * 16);
  Buffer.from(result.candidates.a.buffer, result.candidates.a.byteOffset, length * 4).copy(bytes, 0);
  Buffer.from(result.candidates.b.buffer, result.candidates.b.byteOffset, length * 4).copy(bytes, length * 4);
  Buffer.from(result.candidates.score.buffer, result.candidates.score.byteOffset, length * 8).copy(bytes, length * 8);
  return { candidates: bytes.toString('base64'), length, pairsTotal: result.pairsTotal, pairsCompared: result.pairsCompared, seconds };
}

/** The candidates of a result, checked against the shard sizes: a malformed result must not become pairs. */
export function unpackShardResult(result: unknown, task: ShardTaskData): Candidates & { pairsTotal: number; pairsCompared: number; seconds: number } {
  const r = result as Partial<ShardTaskResult> | null;
  if (r === null || typeof r !== 'object' || typeof r.candidates !== 'string' || !Number.isInteger(r.length) || typeof r.pairsTotal !== 'number' || typeof r.pairsCompared !== 'number' || typeof r.seconds !== 'number') {
    throw new Error('malformed shard result');
  }
  const length = r.length as number;
  const bytes = Buffer.from(r.candidates, 'base64');
  if (bytes.length !== length * 16) throw new Error(`shard result holds ${bytes.length} bytes for ${length} pairs`);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const out = { length, a: new Int32Array(copy.buffer, 0, length), b: new Int32Array(copy.buffer, length * 4, length), score: new Float64Array(copy.buffer.slice(length * 8)), pairsTotal: r.pairsTotal, pairsCompared: r.pairsCompared, seconds: r.seconds };
  for (let i = 0; i < length; i++) {
    if (out.a[i] < 0 || out.a[i] >= task.a.count || out.b[i] < 0 || out.b[i] >= task.b.count || !(out.score[i] >= task.search.threshold && out.score[i] <= 1)) {
      throw new Error(`shard result pair ${i} lies outside its shard or below the threshold`);
    }
  }
  return out;
}

/** Checks a task's shape before a worker acts on it. */
export function parseShardTask(data: unknown): ShardTaskData {
  const d = data as Partial<ShardTaskData> | null;
  const ref = (r: unknown): boolean => {
    const x = r as Partial<ShardRef> | null;
    return x !== null && typeof x === 'object' && typeof x.key === 'string' && Number.isInteger(x.start) && Number.isInteger(x.count) && (x.count as number) > 0;
  };
  const search = d?.search;
  if (
    d === null || typeof d !== 'object' || d.version !== 1 || typeof d.run !== 'string' || typeof d.store !== 'string' || !ref(d.a) || !ref(d.b) ||
    search === undefined || (search.method !== 'none' && search.method !== 'lsh') || typeof search.threshold !== 'number' || !Number.isInteger(search.maxCandidates) ||
    (search.method === 'lsh') !== (search.plan !== null && typeof search.plan === 'object')
  ) {
    throw new Error('not a blindlink shard task (version 1)');
  }
  return d as ShardTaskData;
}
