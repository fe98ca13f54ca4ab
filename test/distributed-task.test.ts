// What crosses the job engine is checked like a file: shard results round-trip exactly and a
// result naming rows outside its shard or scores below the threshold is refused; the LSH plan
// survives JSON; engine URLs are parsed without ever echoing a password.
import { describe, expect, it } from 'vitest';
import { lshPlanFor } from '../src/blocking/lsh-plan.js';
import { parseEngineUrl } from '../src/distributed/engine.js';
import { packShardResult, parseShardTask, planFromJson, planToJson, unpackShardResult, type ShardTaskData } from '../src/distributed/shard-task.js';
import { seededRandom } from '../src/random.js';

const task: ShardTaskData = {
  version: 1,
  run: '0123456789abcdef',
  store: '/tmp/x',
  a: { key: '0123456789abcdef/a-0.arrow', start: 0, count: 10 },
  b: { key: '0123456789abcdef/b-1.arrow', start: 20, count: 5 },
  search: { method: 'none', threshold: 0.8, plan: null, maxCandidates: 100 },
};

describe('shard tasks and results', () => {
  it('round-trips candidates exactly and refuses results that do not fit their shard', () => {
    const candidates = { length: 3, a: Int32Array.of(0, 9, 4), b: Int32Array.of(4, 0, 2), score: Float64Array.of(0.8, 1, 0.8571428571428571) };
    const packed = JSON.parse(JSON.stringify(packShardResult({ candidates, pairsTotal: 50, pairsCompared: 40 }, 1.5)));
    const back = unpackShardResult(packed, task);
    expect(Array.from(back.a)).toEqual([0, 9, 4]);
    expect(Array.from(back.b)).toEqual([4, 0, 2]);
    expect(Array.from(back.score)).toEqual([0.8, 1, 0.8571428571428571]);
    expect(back).toMatchObject({ pairsTotal: 50, pairsCompared: 40, seconds: 1.5 });
    const outside = packShardResult({ candidates: { ...candidates, b: Int32Array.of(4, 5, 2) }, pairsTotal: 50, pairsCompared: 40 }, 1);
    expect(() => unpackShardResult(outside, task)).toThrow(/pair 1 lies outside its shard or below the threshold/);
    const low = packShardResult({ candidates: { ...candidates, score: Float64Array.of(0.8, 0.79, 0.9) }, pairsTotal: 50, pairsCompared: 40 }, 1);
    expect(() => unpackShardResult(low, task)).toThrow(/pair 1 lies outside/);
    expect(() => unpackShardResult({ ...packed, length: 4 }, task)).toThrow(/holds 48 bytes for 4 pairs/);
    expect(() => unpackShardResult(null, task)).toThrow(/malformed shard result/);
  });

  it('checks a task before acting on it, and carries the LSH plan through JSON unchanged', () => {
    expect(parseShardTask(JSON.parse(JSON.stringify(task)))).toEqual(task);
    for (const bad of [null, { ...task, version: 2 }, { ...task, a: { ...task.a, count: 0 } }, { ...task, search: { ...task.search, method: 'lsh' } }]) {
      expect(() => parseShardTask(bad)).toThrow(/not a blindlink shard task/);
    }
    const random = seededRandom(3);
    const clks = Uint8Array.from({ length: 2000 * 64 }, () => Math.floor(random() * 256));
    const plan = lshPlanFor({ filterBits: 512, count: 1000, clks: clks.subarray(0, 64000) }, { filterBits: 512, count: 1000, clks: clks.subarray(64000) }, { threshold: 0.8 });
    expect(planFromJson(JSON.parse(JSON.stringify(planToJson(plan))))).toEqual(plan);
  });
});

describe('engine URLs', () => {
  it('parses Redis URLs and never repeats a password', () => {
    const engine = parseEngineUrl('redis://user:s3cret@10.0.0.5:6380/2', 'p');
    expect(engine.connection).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, username: 'user', password: 's3cret' });
    expect(engine.display).toBe('redis://10.0.0.5:6380/2');
    expect(parseEngineUrl('redis://127.0.0.1').display).toBe('redis://127.0.0.1:6379');
    expect(() => parseEngineUrl('amqp://guest:guest@x')).toThrow(/only Redis \(BullMQ\) engines/);
    expect(() => parseEngineUrl('not a url :s3cret@')).toThrow(/^--engine: expected a Redis URL such as redis:\/\/127\.0\.0\.1:6379 \(or/);
    expect(() => parseEngineUrl('redis://x/abc')).toThrow(/database number/);
    expect(() => parseEngineUrl('redis://x', 'bad prefix')).toThrow(/--queue-prefix/);
    try {
      parseEngineUrl('http://user:s3cret@x');
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});
