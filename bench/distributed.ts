// Issue 15 benchmark: the distributed match (BullMQ on Redis, shards in a shared folder) against
// the local match, with 1, 2 and 4 `blindlink worker` processes; and encode's peak RSS at two
// record counts (streaming encode: flat in the record count).
// Run: npm run build && node dist/bench/distributed.js --phase febrl [--engine redis://127.0.0.1:6379]
//        node dist/bench/distributed.js --phase scale --dir /tmp/blindlink-scale [--shard-records 2000000] [--local-threads 2,1] [--workers 1,2,4] [--cores 2]
//        node dist/bench/distributed.js --phase encode-rss --dir D --sizes 1000000,10000000
// Every timed command runs as a child under /usr/bin/time (wall seconds, peak RSS of the
// coordinator); each worker's own peak RSS is its VmHWM, read before it is stopped. k worker
// processes share the machine's cores (--cores, default all): each gets max(1, cores / k) threads,
// so on a 2-core machine 1 x 2, 2 x 1 and 4 x 1 (oversubscribed: overhead, not speed-up).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { packagePath } from '../src/worker-path.js';

const argv = process.argv.slice(2);
const get = (name: string, fallback: string): string => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : fallback;
};
const phase = get('phase', 'febrl');
const engine = get('engine', 'redis://127.0.0.1:6379');
const dir = get('dir', '/tmp/blindlink-distributed');
const threshold = get('threshold', phase === 'febrl' ? '0.8' : '0.85');
const workerCounts = get('workers', '1,2,4').split(',').map(Number);
const cores = Number(get('cores', String(availableParallelism())));
const cli = packagePath('dist/src/cli/main.js');
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const prefix = `blindlink-bench-${process.pid}`;

/** Runs `node args` under /usr/bin/time: wall seconds, peak RSS in MiB, stdout. */
function timed(args: string[]): { seconds: number; rssMiB: number; stdout: string; load: string } {
  const before = load();
  const file = join(dir, `time-${process.pid}-${Date.now()}.txt`);
  const stdout = execFileSync('/usr/bin/time', ['-o', file, '-f', '%e %M', 'node', ...args], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const [seconds, kib] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  rmSync(file);
  return { seconds, rssMiB: Math.round(kib / 1024), stdout, load: before };
}

interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
}

function startWorker(threads: number): WorkerProcess {
  const child = spawn('node', [cli, 'worker', '--engine', engine, '--queue-prefix', prefix, '--workers', String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ready = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('waiting for shard tasks')) resolve();
    });
  });
  return { child, ready };
}

/** Stops the workers; returns each one's peak RSS in MiB (VmHWM, read before it exits). */
async function stopWorkers(workers: WorkerProcess[]): Promise<number[]> {
  const peaks = workers.map((w) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${w.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024));
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.child.once('exit', () => resolve());
          w.child.kill('SIGTERM');
        }),
    ),
  );
  return peaks;
}

/** Deletes the keys BullMQ left under this run's prefix (queue metadata, event stream, id counter). */
async function removeQueueKeys(): Promise<void> {
  const client = new Redis(engine);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  client.disconnect();
}

/** Local match (2 threads, and 1) and distributed with each worker count; the counts must agree. */
async function compare(a: string, b: string, shardRecords: number): Promise<void> {
  const matchArgs = [cli, 'match', a, b, '--threshold', threshold, '--json'];
  const rows: Array<Record<string, unknown>> = [];
  for (const threads of get('local-threads', '2,1').split(',').map(Number)) {
    const local = timed([...matchArgs, '--workers', String(threads)]);
    const report = JSON.parse(local.stdout.trim().split('\n').pop()!);
    rows.push({ run: `local, ${threads} thread(s)`, seconds: local.seconds, coordinatorRssMiB: local.rssMiB, count: report.count, pairsCompared: report.blocking.pairsCompared, load: local.load });
    process.stderr.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
  }
  for (const count of workerCounts) {
    // The machine's cores shared out: 1 process x 2 threads, 2 x 1, 4 x 1 (oversubscribed) on 2 cores.
    const threads = Math.max(1, Math.floor(cores / count));
    const workers = Array.from({ length: count }, () => startWorker(threads));
    await Promise.all(workers.map((w) => w.ready));
    const shared = join(dir, 'shared');
    mkdirSync(shared, { recursive: true });
    const run = timed([...matchArgs, '--engine', engine, '--queue-prefix', prefix, '--shared', shared, '--shard-records', String(shardRecords)]);
    const workerRss = await stopWorkers(workers);
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!);
    rows.push({
      run: `distributed, ${count} worker process(es) x ${threads} thread(s)`,
      seconds: run.seconds,
      coordinatorRssMiB: run.rssMiB,
      workerRssMiB: workerRss,
      count: report.count,
      pairsCompared: report.blocking.pairsCompared,
      tasks: report.blocking.distributed.tasks,
      retried: report.blocking.distributed.retried,
      taskSeconds: Math.round(report.blocking.distributed.taskSeconds * 10) / 10,
      load: run.load,
    });
    process.stderr.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
  }
  await removeQueueKeys();
  const counts = new Set(rows.map((r) => r.count));
  process.stdout.write(`${JSON.stringify({ phase, threshold, shardRecords, sameCount: counts.size === 1, endLoad: load(), rows }, null, 2)}\n`);
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (phase === 'febrl') {
    const febrl = packagePath('../shared/data/febrl4');
    if (!existsSync(febrl)) throw new Error(`${febrl} is absent: the FEBRL4 phase needs ../shared`);
    const secret = join(dir, 'secret.key');
    if (!existsSync(secret)) execFileSync('node', [cli, 'keygen', '--out', secret]);
    const schema = packagePath('docs/examples/febrl-schema.json');
    for (const side of ['a', 'b']) {
      execFileSync('node', [cli, 'encode', '--schema', schema, '--secret-file', secret, '--trim', '--in', join(febrl, `dataset4${side}.csv`), '--out', join(dir, `febrl4${side}.arrow`)]);
    }
    // 5,000 x 5,000 at 1,000 records a shard: 25 tasks, enough to spread over 4 workers.
    await compare(join(dir, 'febrl4a.arrow'), join(dir, 'febrl4b.arrow'), Number(get('shard-records', '1000')));
  } else if (phase === 'scale') {
    await compare(join(dir, 'requests.arrow'), join(dir, 'registry.arrow'), Number(get('shard-records', '2000000')));
  } else if (phase === 'encode-rss') {
    // The first N records of registry.csv, encoded with the CLI: peak RSS should not grow with N.
    const secret = join(dir, 'secret.key');
    const schema = packagePath('docs/examples/taxpayer-schema.json');
    const rows = [];
    for (const size of get('sizes', '1000000,10000000').split(',').map(Number)) {
      const input = join(dir, `registry-${size}.csv`);
      execFileSync('sh', ['-c', `head -n ${size + 1} ${join(dir, 'registry.csv')} > ${input}`]);
      const run = timed([cli, 'encode', '--schema', schema, '--secret-file', secret, '--in', input, '--out', join(dir, `registry-${size}.arrow`), '--workers', '2']);
      rows.push({ records: size, seconds: run.seconds, rssMiB: run.rssMiB, load: run.load });
      process.stderr.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
      rmSync(input);
      rmSync(join(dir, `registry-${size}.arrow`));
    }
    process.stdout.write(`${JSON.stringify({ phase, rows }, null, 2)}\n`);
  } else {
    throw new Error(`unknown --phase ${phase}: febrl, scale or encode-rss`);
  }
}

await main();
