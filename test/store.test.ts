// One suite, both stores: SQLite (embedded, the default) and PostgreSQL (when it answers at
// 127.0.0.1:5432; required when CI=true). Transactions, the epsilon ledger under concurrent
// spends, the hash-chained audit log and its append-only guard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain, type AuditDraft } from '../src/audit/chain.js';
import type { PartyRecord, ProjectRecord, RunRecord, Store, UploadRecord } from '../src/service/store/records.js';
import { hashToken, newToken } from '../src/service/tokens.js';
import { assertAvailable, serviceGate } from './helpers/service-available.js';
import { PG_HOST, PG_PORT } from './helpers/postgres.js';
import { postgresBackend, sqliteBackend, type Backend } from './helpers/store-backends.js';

const pgGate = await serviceGate('PostgreSQL', PG_HOST, PG_PORT);
const now = () => new Date().toISOString();
const draft = (kind: string, data: AuditDraft['data'] = {}): AuditDraft => ({ kind, actor: 'service', data });

function project(id: string, registry = 'irs'): ProjectRecord {
  return { id, name: `project ${id}`, registry, schemaFingerprint: 'f'.repeat(64), schemaFields: ['given_name', 'surname'], policy: { blindlinkPolicy: 1 }, createdAt: now() };
}

function parties(projectId: string): PartyRecord[] {
  return (['custodian-a', 'custodian-b', 'recipient', 'auditor'] as const).map((role) => ({ projectId, role, name: `${role}-org`, tokenHash: hashToken(newToken()) }));
}

function upload(projectId: string, id: string, role: 'custodian-a' | 'custodian-b'): UploadRecord {
  return {
    id,
    projectId,
    role,
    status: 'accepted',
    reasons: [],
    path: `/data/${id}.arrow`,
    bytes: 5_000_000_000,
    sha256: '0'.repeat(64),
    records: 1000,
    filterBits: 1024,
    keyCheck: 'k'.repeat(32),
    schemaFingerprint: 'f'.repeat(64),
    presenceFields: role === 'custodian-b' ? ['given_name', 'surname'] : null,
    createdAt: now(),
  };
}

function run(projectId: string, id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    projectId,
    status: 'queued',
    reasons: [],
    mode: 'noisy-count',
    epsilonMicros: 500_000,
    requestUpload: 'u-b',
    registryUpload: 'u-a',
    recipient: 'ice',
    registry: 'irs',
    metadata: { purpose: 'test' },
    progress: 0,
    progressMessage: '',
    release: null,
    createdAt: now(),
    updatedAt: now(),
    ...overrides,
  };
}

const backends: Array<[string, () => Promise<Backend>, boolean]> = [
  ['SQLite', sqliteBackend, true],
  ['PostgreSQL', postgresBackend, pgGate.run],
];

for (const [name, make, enabled] of backends) {
  describe.runIf(enabled)(`${name} store`, () => {
    let backend: Backend;
    let store: Store;

    beforeAll(async () => {
      if (name === 'PostgreSQL') assertAvailable(pgGate);
      backend = await make();
      store = await backend.open();
    });

    afterAll(async () => {
      await store?.close();
      await backend?.dispose();
    });

    it('creates a project with its parties and a first audit entry, and keeps uploads per project', async () => {
      await store.createProject(project('p1'), parties('p1'), draft('project.created', { name: 'p1' }));
      await store.createProject(project('p2'), parties('p2'), draft('project.created', { name: 'p2' }));
      expect((await store.project('p1'))?.schemaFields).toEqual(['given_name', 'surname']);
      expect(await store.project('nope')).toBeNull();
      expect((await store.parties('p1')).map((p) => p.role)).toEqual(['auditor', 'custodian-a', 'custodian-b', 'recipient']);
      await store.addUpload(upload('p1', 'u-a', 'custodian-a'), draft('upload.accepted'));
      await store.addUpload(upload('p1', 'u-b', 'custodian-b'), draft('upload.accepted'));
      // Bytes beyond 32 bits survive PostgreSQL's BIGINT-as-string.
      expect((await store.upload('p1', 'u-a'))?.bytes).toBe(5_000_000_000);
      expect(await store.upload('p2', 'u-a')).toBeNull();
      expect((await store.uploads('p1')).map((u) => u.id)).toEqual(['u-a', 'u-b']);
      expect(await store.projectIds()).toEqual(['p1', 'p2']);
      const chain = await store.audit('p1');
      expect(chain.map((e) => e.kind)).toEqual(['project.created', 'upload.accepted', 'upload.accepted']);
      expect(verifyChain('p1', chain)).toMatchObject({ ok: true, entries: 3 });
    });

    it('spends epsilon atomically: of ten concurrent requests against a budget of three, exactly three are accepted', async () => {
      const spend = { recipient: 'ice', registry: 'irs', epsilonMicros: 500_000, budgetMicros: 1_500_000 };
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.acceptRun(run('p1', `r${i}`), spend, draft('run.accepted', { run: `r${i}` }))));
      expect(outcomes.filter((o) => o.accepted)).toHaveLength(3);
      expect(outcomes.filter((o) => !o.accepted).every((o) => !o.accepted && o.spentMicros === 1_500_000)).toBe(true);
      expect(await store.spentMicros('ice', 'irs')).toBe(1_500_000);
      expect(await store.spentMicros('ice', 'other-registry')).toBe(0);
      // The budget is per (recipient, registry) across projects: p2 shares it.
      expect(await store.acceptRun(run('p2', 'r-p2'), spend, draft('run.accepted'))).toEqual({ accepted: false, spentMicros: 1_500_000 });
      const accepted = (await store.runs('p1')).map((r) => r.id);
      expect(accepted).toHaveLength(3);
      // Refused spends left neither a run nor an audit entry behind.
      expect((await store.audit('p1')).filter((e) => e.kind === 'run.accepted')).toHaveLength(3);
      expect(verifyChain('p1', await store.audit('p1')).ok).toBe(true);
    });

    it('records refusals, finishes runs once, and finds released runs across projects', async () => {
      await store.addRefusedRun(run('p2', 'refused-1', { status: 'refused', reasons: ['a', 'b'] }), draft('run.refused', { reasons: ['a', 'b'] }));
      expect((await store.run('p2', 'refused-1'))?.reasons).toEqual(['a', 'b']);
      const [first, second] = (await store.runs('p1')).map((r) => r.id);
      await store.markRunning('p1', first);
      await store.updateProgress('p1', first, 0.5, 'comparing: 50%');
      expect(await store.run('p1', first)).toMatchObject({ status: 'running', progress: 0.5, progressMessage: 'comparing: 50%' });
      await store.finishRun('p1', first, { status: 'done', release: { count: 7 } }, draft('run.done'));
      await expect(store.finishRun('p1', first, { status: 'failed', reason: 'x' }, draft('run.failed'))).rejects.toThrow(/not queued or running/);
      await store.finishRun('p1', second, { status: 'failed', reason: 'server stopped' }, draft('run.failed'));
      expect(await store.run('p1', second)).toMatchObject({ status: 'failed', reasons: ['server stopped'], release: null });
      await store.acceptRun(run('p2', 'p2-exact', { mode: 'count', epsilonMicros: 0 }), null, draft('run.accepted'));
      await store.finishRun('p2', 'p2-exact', { status: 'done', release: { count: 3 } }, draft('run.done'));
      expect((await store.releasedRuns('ice', 'irs')).map((r) => r.id)).toEqual([first, 'p2-exact']);
      expect((await store.runsWithStatus(['queued', 'running'])).map((r) => r.id)).toHaveLength(1);
    });

    it('keeps the audit chain whole under concurrent appends and refuses changes to it', async () => {
      await Promise.all(Array.from({ length: 25 }, (_, i) => store.appendAudit('p2', draft('release.read', { i }))));
      const chain = await store.audit('p2');
      expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: chain.length }, (_, i) => i + 1));
      expect(verifyChain('p2', chain).ok).toBe(true);
      await expect(backend.raw("UPDATE audit SET actor = 'x' WHERE project_id = 'p2' AND seq = 2")).rejects.toThrow(/append-only/);
      await expect(backend.raw("DELETE FROM audit WHERE project_id = 'p2'")).rejects.toThrow(/append-only/);
    });

    it('keeps its state when reopened, and a tampered entry is named by the chain check', async () => {
      await store.close();
      store = await backend.open();
      expect((await store.runs('p1')).length).toBe(3);
      await backend.dropAppendOnly();
      await backend.raw(`UPDATE audit SET data = '{"i":99}' WHERE project_id = 'p2' AND seq = 5`);
      expect(verifyChain('p2', await store.audit('p2'))).toMatchObject({ ok: false, seq: 5, kind: 'release.read', reason: expect.stringMatching(/content does not match its hash/) });
      await backend.raw(`DELETE FROM audit WHERE project_id = 'p1' AND seq = 2`);
      expect(verifyChain('p1', await store.audit('p1'))).toMatchObject({ ok: false, seq: 3, reason: expect.stringMatching(/out of sequence/) });
    });
  });
}
