// Worker pools (src/pool.ts): workers must never load their module through require(esm), whose
// interruption by pool.destroy() aborts Node (issue 11), and tearing a pool down must never end
// the process; plus a few runs of the stress scenarios (npm run stress:pool runs 200).
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS, stress, writeFixtures } from '../bench/stress-pool.js';
import { createPool, destroyPool, withPool } from '../src/pool.js';
import { scratchDir } from './helpers/scratch.js';

const probe = fileURLToPath(new URL('./fixtures/pool-probe-worker.js', import.meta.url));

describe('createPool', () => {
  it('starts workers in which require() refuses ES modules, so piscina loads them with import()', async () => {
    const answer = await withPool<null, string, string>(probe, { threads: 1 }, (pool) => pool.run(null));
    expect(answer).toBe('ERR_REQUIRE_ESM');
  });

  it('a pool destroyed while its workers start ends quietly, and later error events are dropped', async () => {
    const pool = createPool<null, string>(probe, { threads: 2 });
    const queued = pool.run(null).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await destroyPool(pool);
    expect(await queued).toMatch(/Terminating worker thread|answered/);
    // What piscina emits when a worker answers in the instant destroy() clears its task list.
    expect(() => pool.emit('error', new Error('Unexpected message from Worker'))).not.toThrow();
  });
});

describe('stress scenarios (a few runs; npm run stress:pool for 200)', () => {
  const dir = scratchDir('blindlink-pool-test-');
  beforeAll(() => writeFixtures(dir), 60_000);

  it('every scenario ends as expected: no abort, no stack trace', () => {
    const outcomes = stress(dir, SCENARIOS, SCENARIOS.length);
    expect(outcomes.map((o) => o.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    for (const outcome of outcomes) expect({ ...outcome, examples: outcome.examples.join('; ') }).toMatchObject({ runs: 1, aborts: 0, unexpected: 0 });
  }, 120_000);
});
