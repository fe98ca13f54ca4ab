// Distributed matching on BullMQ/Redis: `match --engine` with `blindlink worker` processes gives
// the local match's pairs exactly, for all pairs and LSH; a worker killed with SIGKILL mid-task
// loses nothing (the task is re-run by another, counted once); an unreachable engine is one clear
// line. Needs Redis at 127.0.0.1:6379 (fails in CI without it, skips elsewhere).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, scratchDir } from './helpers/run-cli.js';
import { writePlantedFiles } from './helpers/planted.js';
import { assertAvailable, serviceGate } from './helpers/service-available.js';

const ENGINE = 'redis://127.0.0.1:6379';
const redis = await serviceGate('Redis', '127.0.0.1', 6379);
// One BullMQ key prefix per test run: parallel runs and earlier runs never share tasks.
const PREFIX = `blindlink-test-${process.pid}-${Date.now()}`;

let dir: string;
let files: { a: string; b: string };
const workers: ChildProcess[] = [];

interface Worker {
  child: ChildProcess;
  /** Lines of stderr so far. */
  log: string[];
}

function startWorker(...extra: string[]): Worker {
  const child = spawn(process.execPath, [CLI, 'worker', '--engine', ENGINE, '--queue-prefix', PREFIX, '--workers', '1', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  workers.push(child);
  const log: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter((line) => line !== '')));
  return { child, log };
}

async function stop(w: Worker): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((resolve) => w.child.once('exit', resolve));
  w.child.kill('SIGTERM');
  await exited;
}

async function until(test: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const engineArgs = (shared: string, ...extra: string[]) => ['--engine', ENGINE, '--queue-prefix', PREFIX, '--shared', shared, ...extra];

async function localPairs(blocking: string, name: string): Promise<string> {
  const out = join(dir, `${name}-local.csv`);
  const result = await runCli(['match', files.a, files.b, '--threshold', '0.8', '--blocking', blocking, '--workers', '1', '--reveal', 'pairs', '--out', out]);
  expect(result.code, result.stderr).toBe(0);
  return readFileSync(out, 'utf8');
}

describe.runIf(redis.run)('distributed matching (BullMQ on Redis)', () => {
  beforeAll(async () => {
    assertAvailable(redis);
    dir = scratchDir();
    files = await writePlantedFiles(dir, 1500, 9000, 600, 33);
  });

  afterAll(async () => {
    for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(workers.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
    const client = new Redis(ENGINE);
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    client.disconnect();
  });

  it('gives exactly the local pairs through two worker processes, for all pairs and LSH', async () => {
    const pair = [startWorker(), startWorker()];
    for (const blocking of ['none', 'lsh']) {
      const shared = scratchDir();
      const out = join(dir, `${blocking}-distributed.csv`);
      const result = await runCli(['match', files.a, files.b, '--threshold', '0.8', '--blocking', blocking, '--reveal', 'pairs', '--out', out, '--json', ...engineArgs(shared, '--shard-records', '2000')]);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.blocking.distributed).toMatchObject({ tasks: 5, retried: 0 });
      expect(readFileSync(out, 'utf8')).toBe(await localPairs(blocking, blocking));
      expect(report.count).toBeGreaterThan(400);
      // The run's shards are gone afterwards.
      expect(readdirSync(shared)).toEqual([]);
    }
    // Both took tasks; they leave before the next test, which counts who ran what.
    for (const w of pair) expect(w.log.some((line) => line.includes(' done in '))).toBe(true);
    await Promise.all(pair.map(stop));
  }, 180_000);

  it('re-runs the task of a worker killed with SIGKILL mid-task, and the result is still exact', async () => {
    const first = startWorker('--stall-seconds', '2');
    const second = startWorker('--stall-seconds', '2');
    for (const w of [first, second]) await until(() => w.log.some((line) => line.includes('waiting for shard tasks')), 'a worker to start');
    const shared = scratchDir();
    const out = join(dir, 'killed.csv');
    // One LSH task over the whole files: seconds of work, so the kill lands while it runs.
    const coordinator = runCli(['match', files.a, files.b, '--threshold', '0.8', '--blocking', 'lsh', '--reveal', 'pairs', '--out', out, '--json', ...engineArgs(shared, '--shard-records', '100000')]);
    const started = (w: Worker): boolean => w.log.some((line) => line.includes(' started:'));
    await until(() => started(first) || started(second), 'a task to start');
    const victim = started(first) ? first : second;
    const survivor = victim === first ? second : first;
    victim.child.kill('SIGKILL');
    const result = await coordinator;
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.blocking.distributed).toMatchObject({ tasks: 1, retried: 1 });
    expect(survivor.log.filter((line) => line.includes(' started:')), survivor.log.join('\n')).toHaveLength(1);
    expect(victim.log.filter((line) => line.includes(' done in '))).toEqual([]);
    expect(readFileSync(out, 'utf8')).toBe(await localPairs('lsh', 'killed'));
  }, 180_000);
});

describe('distributed matching: bad engines and usage', () => {
  it('says in one line that an unreachable engine cannot be reached', async () => {
    const shared = scratchDir();
    const match = await runCli(['match', 'a.arrow', 'b.arrow', '--threshold', '0.8', '--engine', 'redis://127.0.0.1:1', '--shared', shared], {}, dir ?? scratchDir());
    expect(match.code).toBe(1);
    expect(match.stderr).toMatch(/^blindlink: (.*: cannot read encoded file|redis:\/\/127\.0\.0\.1:1: cannot reach the job engine)/);
    const files2 = await writePlantedFiles(scratchDir(), 10, 20, 5, 1);
    const again = await runCli(['match', files2.a, files2.b, '--threshold', '0.8', '--engine', 'redis://127.0.0.1:1', '--shared', shared]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('blindlink: redis://127.0.0.1:1: cannot reach the job engine (ECONNREFUSED); is Redis running there?');
    const worker = await runCli(['worker', '--engine', 'redis://user:hunter2@127.0.0.1:1']);
    expect(worker.code).toBe(1);
    expect(worker.stderr.trim()).toBe('blindlink: redis://127.0.0.1:1: cannot reach the job engine (ECONNREFUSED); is Redis running there?');
  });

  it('treats a missing --shared, a non-Redis URL and --shared without --engine as usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--engine', ENGINE], /--engine needs --shared/],
      [['--engine', 'http://x', '--shared', '.'], /only Redis \(BullMQ\) engines/],
      [['--shared', '.'], /--shared and --shard-records apply only with --engine/],
    ];
    for (const [extra, message] of cases) {
      const result = await runCli(['match', 'a.arrow', 'b.arrow', '--threshold', '0.8', ...extra]);
      expect(result.code, extra.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
