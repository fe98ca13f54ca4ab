// Latency and throughput of the linkage-unit service under a bounded load: a real `blindlink
// serve` process on loopback, N concurrent clients (default 50) each sending M requests (the
// mix of bench/service-load-driver.ts: every role's reads, refused requests that write a run and
// an audit entry, wrong tokens). Prints p50/p95/p99 latency and requests/s.
// Run: npm run bench:service [-- --clients 50 --requests 200 --database postgres://postgres@127.0.0.1:5432/DB]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/service/server-process.js';
import { percentile, runLoad, setUpLoadProject } from './service-load-driver.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const clients = Number(option('--clients', '50'));
const perClient = Number(option('--requests', '200'));
const database = option('--database', '');
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const data = mkdtempSync(join(tmpdir(), 'blindlink-bench-service-'));

console.log(`# bench/service-load: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average at start ${load()}`);
console.log(`# store: ${database === '' ? 'SQLite (--data)' : 'PostgreSQL'}; ${clients} clients x ${perClient} requests`);
const server = await startServer(['--data', data, '--log-level', 'warn', ...(database === '' ? [] : ['--database', database])]);
try {
  const project = await setUpLoadProject(server.url, readFileSync(join(data, 'admin.token'), 'utf8').trim());
  // Warm-up: JIT, connection pools, prepared statements.
  await runLoad(server.url, project, clients, 10);
  const result = await runLoad(server.url, project, clients, perClient);
  if (result.errors.length > 0) throw new Error(`${result.errors.length} wrong answers, e.g. ${result.errors[0]}`);
  const ms = (p: number) => percentile(result.latencies, p).toFixed(1);
  console.log('| store | clients | requests | seconds | requests/s | p50 ms | p95 ms | p99 ms | max ms | load average at end |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  console.log(
    `| ${database === '' ? 'SQLite' : 'PostgreSQL'} | ${clients} | ${result.requests} | ${result.seconds.toFixed(2)} | ${(result.requests / result.seconds).toFixed(0)} | ${ms(50)} | ${ms(95)} | ${ms(99)} | ${ms(100)} | ${load()} |`,
  );
} finally {
  await server.stop();
  rmSync(data, { recursive: true, force: true });
}
