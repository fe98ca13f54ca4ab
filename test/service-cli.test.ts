// The parties' commands (blindlink lu) and blindlink audit verify, through the built CLI against
// a real server: tokens only from files or the environment, refusals with every reason, the
// audit chain verified by the auditor and from the store, and a tampered entry named.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_HOST, PG_PORT } from './helpers/postgres.js';
import { runCli, scratchDir } from './helpers/run-cli.js';
import { assertAvailable, serviceGate } from './helpers/service-available.js';
import { filterPool, openPolicy, range, startTestServer, writeList, type TestServer } from './helpers/service.js';
import { postgresBackend, sqliteBackend, type Backend } from './helpers/store-backends.js';
import { writeFileSync } from 'node:fs';

const pgGate = await serviceGate('PostgreSQL', PG_HOST, PG_PORT);
const SCHEMA = new URL('../docs/examples/taxpayer-schema.json', import.meta.url).pathname;

describe('tokens on the command line', () => {
  it('are refused before anything runs, with a usage error', async () => {
    for (const args of [['lu', 'upload', 'x.arrow', '--token', 'blt_abc'], ['lu', 'ledger', '--token=blt_abc'], ['serve', '--admin-token', 'x']]) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^blindlink: tokens are never accepted on the command line .*use --token-file FILE or BLINDLINK_TOKEN\n$/);
    }
  });
});

const backends: Array<[string, () => Promise<Backend>, boolean]> = [
  ['SQLite', sqliteBackend, true],
  ['PostgreSQL', postgresBackend, pgGate.run],
];

for (const [name, make, enabled] of backends) {
  describe.runIf(enabled)(`blindlink lu and audit verify, ${name} store`, () => {
    let backend: Backend;
    let server: TestServer;
    let dir: string;
    let project: string;
    const lu = (role: string, ...args: string[]) =>
      runCli(['lu', ...args, '--server', server.url, '--token-file', join(dir, 'tokens', `${role}.token`)], { BLINDLINK_PROJECT: project });

    beforeAll(async () => {
      if (name === 'PostgreSQL') assertAvailable(pgGate);
      backend = await make();
      server = await startTestServer(backend.flags);
      dir = scratchDir('blindlink-lu-');
      writeFileSync(join(dir, 'policy.json'), JSON.stringify(openPolicy({ request: { requiredFields: ['given_name'], minRecords: 10 } })));
    });

    afterAll(async () => {
      await server?.stop();
      await backend?.dispose();
    });

    it('creates a project, writing each token to its own 0600 file and none to stdout', async () => {
      writeFileSync(join(dir, 'admin.token'), server.adminToken);
      const created = await runCli([
        'lu', 'project', 'create', '--server', server.url, '--token-file', join(dir, 'admin.token'), '--name', 'cli', '--registry', 'r', '--schema', SCHEMA,
        '--policy', join(dir, 'policy.json'), '--party', 'custodian-a=A', '--party', 'custodian-b=B', '--party', 'recipient=R', '--party', 'auditor=X', '--tokens-dir', join(dir, 'tokens'), '--json',
      ]);
      expect(created.code, created.stderr).toBe(0);
      project = (JSON.parse(created.stdout) as { id: string }).id;
      for (const role of ['custodian-a', 'custodian-b', 'recipient', 'auditor']) {
        expect(statSync(join(dir, 'tokens', `${role}.token`)).mode & 0o777).toBe(0o600);
      }
      expect(created.stdout).not.toMatch(/blt_/);
      const again = await runCli([
        'lu', 'project', 'create', '--server', server.url, '--token-file', join(dir, 'admin.token'), '--name', 'cli', '--registry', 'r', '--schema', SCHEMA,
        '--policy', join(dir, 'policy.json'), '--party', 'custodian-a=A', '--party', 'custodian-b=B', '--party', 'recipient=R', '--party', 'auditor=X', '--tokens-dir', join(dir, 'tokens'),
      ]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/custodian-a\.token: already exists; give --tokens-dir an empty folder/);
      const show = await lu('auditor', 'project', 'show', '--json');
      expect(JSON.parse(show.stdout)).toMatchObject({ id: project, registry: 'r', you: 'auditor', parties: { recipient: 'R' } });
    });

    it('uploads, refuses a deficient request with every reason (exit 1), runs a good one and reads its release', async () => {
      // The project declares the taxpayer schema's fingerprint; files made for it carry the same one.
      const { loadSchema } = await import('../src/schema/load.js');
      const plan = await loadSchema(SCHEMA);
      const pool = filterPool(600, 3);
      const fields = { fingerprint: plan.fingerprint };
      await writeList(join(dir, 'registry.arrow'), pool, range(0, 400), { ...fields, presence: null });
      const upload = await lu('custodian-a', 'upload', join(dir, 'registry.arrow'));
      expect(upload.code, upload.stderr).toBe(0);
      expect(upload.stdout).toMatch(/^upload upl_\S+: accepted, 400 records/);
      // The project was created from the schema file, so its field names are the schema's seven.
      const wrongFields = await writeList(join(dir, 'list-wrong.arrow'), pool, range(350, 450), fields);
      const refusedUpload = await lu('custodian-b', 'upload', wrongFields);
      expect(refusedUpload.code).toBe(1);
      expect(refusedUpload.stderr).toMatch(/field-presence column names fields \(given_name, surname, street_address\) other than the project's schema \(given_name, surname, date_of_birth/);

      const listNoPresence = await writeList(join(dir, 'list.arrow'), pool, range(350, 450), { ...fields, presence: null });
      const listId = /upload (upl_\S+):/.exec((await lu('custodian-b', 'upload', listNoPresence)).stdout)![1];
      const refused = await lu('custodian-b', 'request', '--upload', listId, '--release', 'count', '--purpose', 'p');
      expect(refused.code).toBe(1);
      expect(refused.stderr.split('\n').filter((line) => line.startsWith('  - '))).toEqual([
        '  - metadata.statutoryBasis is missing: the policy requires the statutory basis for it',
        '  - metadata.requestingOfficial is missing: the policy requires the requesting official',
        '  - the list carries no field-presence column, so the required identifiers (given_name) cannot be checked (encode it with --record-presence)',
      ]);
      const complete = await writeList(join(dir, 'list-complete.arrow'), pool, range(350, 450), { ...fields, fields: plan.fields.map((f) => f.name) });
      const completeId = /upload (upl_\S+):/.exec((await lu('custodian-b', 'upload', complete)).stdout)![1];
      const good = await lu('custodian-b', 'request', '--upload', completeId, '--release', 'noisy-count', '--purpose', 'p', '--statutory-basis', 's', '--requesting-official', 'o', '--wait', '--json');
      expect(good.code, good.stderr).toBe(0);
      const run = JSON.parse(good.stdout) as { id: string; status: string; epsilon: number };
      expect(run).toMatchObject({ status: 'done', epsilon: 0.5 });
      const release = await lu('recipient', 'release', run.id);
      expect(release.code, release.stderr).toBe(0);
      expect(release.stdout).toMatch(/noisy count: \d+\n\s+epsilon 0.5, two-sided geometric/);
      expect(release.stdout).toMatch(/inputs: list 100 records, registry 400 records/);
      // Custodian B asked, but only the recipient reads.
      const notYours = await lu('custodian-b', 'release', run.id);
      expect(notYours.code).toBe(1);
      expect(notYours.stderr).toMatch(/403 the custodian-b may not read "noisy-count" releases/);
      expect((await lu('recipient', 'ledger')).stdout).toMatch(/epsilon 0.5 spent of 1, 0.5 left/);
    });

    it('lets the auditor verify the chain over the API, and audit verify read the store; both name a tampered entry', async () => {
      const api = await lu('auditor', 'audit');
      expect(api.code, api.stderr).toBe(0);
      expect(api.stdout).toMatch(new RegExp(`${project}: intact, \\d+ entries, head [0-9a-f]{64}`));
      const local = await runCli(['audit', 'verify', ...backend.flags]);
      expect(local.code, local.stderr).toBe(0);
      expect(local.stdout).toMatch(/audit log intact: 1 projects, \d+ entries/);

      await backend.dropAppendOnly();
      await backend.raw(`UPDATE audit SET data = replace(data, '"records":400', '"records":4000') WHERE project_id = '${project}' AND seq = 2`);
      const broken = await runCli(['audit', 'verify', ...backend.flags]);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(new RegExp(`${project}: BROKEN at entry 2 \\(upload.accepted\\): its content does not match its hash`));
      expect(broken.stderr).toMatch(/^blindlink: audit chain broken: .*entry 2 \(upload.accepted\)/);
      // The server now serves the tampered log; the auditor's own check catches it.
      const viaApi = await lu('auditor', 'audit');
      expect(viaApi.code).toBe(1);
      expect(viaApi.stderr).toMatch(/BROKEN at entry 2 \(upload.accepted\)/);
      // Cutting entries off the end still leaves a linked chain; the store's head row gives it away.
      await backend.raw(`UPDATE audit SET data = replace(data, '"records":4000', '"records":400') WHERE project_id = '${project}' AND seq = 2`);
      await backend.raw(`DELETE FROM audit WHERE project_id = '${project}' AND seq > 5`);
      const truncated = await runCli(['audit', 'verify', ...backend.flags]);
      expect(truncated.code).toBe(1);
      expect(truncated.stdout).toMatch(/BROKEN at entry 6 \(missing\): the chain ends at entry 5 but the store's head names entry \d+: entries were removed from the end/);
      const missing = await runCli(['audit', 'verify', '--data', join(dir, 'nothing-here')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no blindlink service store here/);
    });
  });
}
