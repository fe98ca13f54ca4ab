// Crash and restart, on both stores: kill -9 during a run leaves it failed on the next start with
// nothing released (never a partial result), a queued run resumes, and a clean restart keeps
// projects, uploads, runs, releases and the ledger.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../src/audit/chain.js';
import { INTERRUPTED } from '../src/service/runner.js';
import { ServiceClient, type ServiceError } from '../src/service/client.js';
import type { Role } from '../src/service/policy.js';
import { PG_HOST, PG_PORT } from './helpers/postgres.js';
import { scratchDir } from './helpers/run-cli.js';
import { assertAvailable, serviceGate } from './helpers/service-available.js';
import { createProject, filterPool, FULL_METADATA, openPolicy, range, startTestServer, writeList, type TestServer } from './helpers/service.js';
import { postgresBackend, sqliteBackend, type Backend } from './helpers/store-backends.js';

const pgGate = await serviceGate('PostgreSQL', PG_HOST, PG_PORT);
const backends: Array<[string, () => Promise<Backend>, boolean]> = [
  ['SQLite', sqliteBackend, true],
  ['PostgreSQL', postgresBackend, pgGate.run],
];

// 30,000 x 30,000 all pairs: long enough (seconds on two cores) to be killed in the middle.
const ROWS = 30_000;

for (const [name, make, enabled] of backends) {
  describe.runIf(enabled)(`restarts with the ${name} store`, () => {
    let backend: Backend;
    let server: TestServer | null = null;
    let dir: string;

    beforeAll(async () => {
      if (name === 'PostgreSQL') assertAvailable(pgGate);
      backend = await make();
      dir = scratchDir('blindlink-restart-');
      const pool = filterPool(2 * ROWS, 9);
      await writeList(join(dir, 'registry.arrow'), pool, range(0, ROWS), { presence: null });
      await writeList(join(dir, 'list.arrow'), pool, range(ROWS / 2, ROWS / 2 + ROWS));
    });

    afterAll(async () => {
      await server?.stop('SIGKILL');
      await backend?.dispose();
      // Tens of megabytes of filters and uploads: not left in /tmp.
      for (const folder of [dir, server?.data]) if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
    });

    it('marks a run killed with SIGKILL failed on restart, releases nothing, and resumes the queued run', async () => {
      server = await startTestServer(backend.flags);
      const policy = openPolicy({ release: { modes: { recipient: ['noisy-count', 'pairs'] }, maxOverlapWithEarlierLists: 1 }, privacy: { epsilonPerRelease: 0.5, lifetimeBudget: 2 } });
      const project = await createProject(server, policy);
      await project.as('custodian-a').upload(project.id, join(dir, 'registry.arrow'));
      const list = (await project.as('custodian-b').upload(project.id, join(dir, 'list.arrow'))).id;
      const first = await project.as('custodian-b').requestRun(project.id, { upload: list, release: 'pairs', metadata: FULL_METADATA });
      const second = await project.as('custodian-b').requestRun(project.id, { upload: list, release: 'noisy-count', metadata: FULL_METADATA });
      for (;;) {
        const run = await project.as('custodian-b').run(project.id, first.id);
        expect(run.status).not.toBe('done');
        if (run.status === 'running' && run.progress > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await server.stop('SIGKILL')).toBeNull();
      // As if an upload was being received when the process died.
      const partial = join(server.data, 'uploads', project.id, 'upl_interrupted.arrow.partial');
      writeFileSync(partial, 'ARROW1');
      expect((await project.as('recipient').run(project.id, first.id).catch((error: Error) => error)) instanceof Error).toBe(true);

      server = await startTestServer(backend.flags, server.data);
      const client = (role: Role) => new ServiceClient(server!.url, project.tokens[role]);
      const killed = await client('recipient').run(project.id, first.id);
      expect(killed).toMatchObject({ status: 'failed', reasons: [INTERRUPTED] });
      const release = await client('recipient').release(project.id, first.id).catch((error: ServiceError) => error);
      expect((release as ServiceError).status).toBe(409);
      expect(existsSync(join(server.data, 'runs', `${first.id}.pairs.csv`))).toBe(false);
      expect(existsSync(partial)).toBe(false);
      const resumed = await client('custodian-b').waitForRun(project.id, second.id);
      expect(resumed.status).toBe('done');
      expect((await client('recipient').release(project.id, second.id)).mode).toBe('noisy-count');
      // Epsilon is charged when a request is accepted; an interrupted run does not give it back.
      expect((await client('recipient').ledger(project.id)).spent).toBe(0.5);
      const { entries } = await client('auditor').audit(project.id);
      expect(entries.map((e) => e.kind)).toEqual(['project.created', 'upload.accepted', 'upload.accepted', 'run.accepted', 'run.accepted', 'run.failed', 'run.done', 'release.read']);
      expect(verifyChain(project.id, entries).ok).toBe(true);

      // A clean stop and start keeps everything.
      await server.stop();
      server = await startTestServer(backend.flags, server.data);
      const after = client('recipient');
      expect((await after.runs(project.id)).runs.map((r) => r.status)).toEqual(['failed', 'done']);
      expect((await after.release(project.id, second.id)).mode).toBe('noisy-count');
      expect((await after.project(project.id)).name).toBe('test project');
      expect((await client('custodian-b').uploads(project.id)).uploads).toHaveLength(1);
    });
  });
}
