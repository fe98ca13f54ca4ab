// A bounded load (50 concurrent clients) against a real server: every answer right, and the
// refused requests written under contention all in one unbroken audit chain. Timings are not
// asserted: bench/service-load.ts measures them (docs/BENCHMARKS.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, setUpLoadProject, type LoadProject } from '../bench/service-load-driver.js';
import { verifyChain } from '../src/audit/chain.js';
import { ServiceClient } from '../src/service/client.js';
import { startTestServer, type TestServer } from './helpers/service.js';

describe('50 concurrent clients', () => {
  let server: TestServer;
  let project: LoadProject;

  beforeAll(async () => {
    server = await startTestServer(['--log-level', 'warn']);
    project = await setUpLoadProject(server.url, server.adminToken);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('get the right answer to every request, and every refusal is in the audit chain once', async () => {
    const result = await runLoad(server.url, project, 50, 14);
    expect(result.errors).toEqual([]);
    expect(result.requests).toBe(700);
    expect(Object.values(result.byCall).every((n) => n === 100)).toBe(true);
    const { entries } = await new ServiceClient(server.url, project.tokens.auditor).audit(project.id);
    // One refusal was made at setup, the rest under load.
    expect(entries.filter((e) => e.kind === 'run.refused')).toHaveLength(1 + result.refusals);
    expect(verifyChain(project.id, entries)).toMatchObject({ ok: true, entries: 2 + result.refusals });
  });
});
