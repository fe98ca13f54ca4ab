// The Store over either SQL driver: business statements written once, every audited change in
// one transaction with its hash-chained audit entry.
import { entryHash, genesisHash, type AuditDraft, type AuditEntry } from '../../audit/chain.js';
import { canonicalJson, type Json } from '../../schema/json-checks.js';
import type { ReleaseMode, Role } from '../policy.js';
import type { AcceptOutcome, PartyRecord, ProjectRecord, RunRecord, RunStatus, Spend, Store, UploadRecord } from './records.js';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql.js';

const text = (value: unknown): string => String(value);
const maybeText = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
// PostgreSQL returns BIGINT as a string; both come back as numbers here.
const num = (value: unknown): number => Number(value);
const maybeNum = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const json = (value: unknown): Json => JSON.parse(String(value)) as Json;
const maybeJson = <T>(value: unknown): T | null => (value === null || value === undefined ? null : (JSON.parse(String(value)) as T));

function projectOf(row: SqlRow): ProjectRecord {
  return {
    id: text(row.id),
    name: text(row.name),
    registry: text(row.registry),
    schemaFingerprint: text(row.schema_fingerprint),
    schemaFields: maybeJson<string[]>(row.schema_fields),
    policy: json(row.policy),
    createdAt: text(row.created_at),
  };
}

function uploadOf(row: SqlRow): UploadRecord {
  return {
    id: text(row.id),
    projectId: text(row.project_id),
    role: text(row.role) as Role,
    status: text(row.status) as UploadRecord['status'],
    reasons: JSON.parse(text(row.reasons)) as string[],
    path: maybeText(row.path),
    bytes: num(row.bytes),
    sha256: text(row.sha256),
    records: maybeNum(row.records),
    filterBits: maybeNum(row.filter_bits),
    keyCheck: maybeText(row.key_check),
    schemaFingerprint: maybeText(row.schema_fingerprint),
    presenceFields: maybeJson<string[]>(row.presence_fields),
    createdAt: text(row.created_at),
  };
}

function runOf(row: SqlRow): RunRecord {
  return {
    id: text(row.id),
    projectId: text(row.project_id),
    status: text(row.status) as RunStatus,
    reasons: JSON.parse(text(row.reasons)) as string[],
    mode: text(row.mode) as ReleaseMode,
    epsilonMicros: num(row.epsilon_micros),
    requestUpload: maybeText(row.request_upload),
    registryUpload: maybeText(row.registry_upload),
    recipient: text(row.recipient),
    registry: text(row.registry),
    metadata: json(row.metadata),
    progress: num(row.progress),
    progressMessage: text(row.progress_message),
    release: maybeJson<Json>(row.release),
    createdAt: text(row.created_at),
    updatedAt: text(row.updated_at),
  };
}

function auditOf(row: SqlRow): AuditEntry {
  return {
    projectId: text(row.project_id),
    seq: num(row.seq),
    at: text(row.at),
    kind: text(row.kind),
    actor: text(row.actor),
    data: json(row.data),
    prevHash: text(row.prev_hash),
    hash: text(row.hash),
  };
}

const RUN_COLUMNS =
  'id, project_id, status, reasons, mode, epsilon_micros, request_upload, registry_upload, recipient, registry, metadata, progress, progress_message, release, created_at, updated_at';

function runValues(run: RunRecord): SqlValue[] {
  return [
    run.id,
    run.projectId,
    run.status,
    JSON.stringify(run.reasons),
    run.mode,
    run.epsilonMicros,
    run.requestUpload,
    run.registryUpload,
    run.recipient,
    run.registry,
    JSON.stringify(run.metadata),
    run.progress,
    run.progressMessage,
    run.release === null ? null : JSON.stringify(run.release),
    run.createdAt,
    run.updatedAt,
  ];
}

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';

  constructor(private readonly db: SqlDriver) {
    this.kind = db.dialect;
  }

  /** Appends to the project's chain inside `tx`, holding its head row until the transaction ends. */
  private async chain(tx: SqlExecutor, projectId: string, draft: AuditDraft): Promise<AuditEntry> {
    const heads = await tx.all(`SELECT seq, hash FROM audit_heads WHERE project_id = ?${this.db.forUpdate}`, [projectId]);
    if (heads.length !== 1) throw new Error(`audit chain of project ${projectId} has no head`);
    const prevHash = text(heads[0].hash);
    // The data is stored as canonical JSON, exactly the text its hash covers.
    const data = JSON.parse(canonicalJson(draft.data)) as Json;
    const body = { projectId, seq: num(heads[0].seq) + 1, at: new Date().toISOString(), kind: draft.kind, actor: draft.actor, data };
    const entry: AuditEntry = { ...body, prevHash, hash: entryHash(prevHash, body) };
    await tx.run('INSERT INTO audit (project_id, seq, at, kind, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      projectId,
      entry.seq,
      entry.at,
      entry.kind,
      entry.actor,
      canonicalJson(entry.data),
      entry.prevHash,
      entry.hash,
    ]);
    await tx.run('UPDATE audit_heads SET seq = ?, hash = ? WHERE project_id = ?', [entry.seq, entry.hash, projectId]);
    return entry;
  }

  async createProject(project: ProjectRecord, parties: PartyRecord[], audit: AuditDraft): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO projects (id, name, registry, schema_fingerprint, schema_fields, policy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        project.id,
        project.name,
        project.registry,
        project.schemaFingerprint,
        project.schemaFields === null ? null : JSON.stringify(project.schemaFields),
        JSON.stringify(project.policy),
        project.createdAt,
      ]);
      for (const party of parties) {
        await tx.run('INSERT INTO parties (project_id, role, name, token_hash) VALUES (?, ?, ?, ?)', [party.projectId, party.role, party.name, party.tokenHash]);
      }
      await tx.run('INSERT INTO audit_heads (project_id, seq, hash) VALUES (?, 0, ?)', [project.id, genesisHash(project.id)]);
      await this.chain(tx, project.id, audit);
    });
  }

  async project(id: string): Promise<ProjectRecord | null> {
    const rows = await this.db.all('SELECT * FROM projects WHERE id = ?', [id]);
    return rows.length === 0 ? null : projectOf(rows[0]);
  }

  async projectIds(): Promise<string[]> {
    return (await this.db.all('SELECT id FROM projects ORDER BY created_at, id')).map((row) => text(row.id));
  }

  async parties(projectId: string): Promise<PartyRecord[]> {
    const rows = await this.db.all('SELECT * FROM parties WHERE project_id = ? ORDER BY role', [projectId]);
    return rows.map((row) => ({ projectId: text(row.project_id), role: text(row.role) as Role, name: text(row.name), tokenHash: text(row.token_hash) }));
  }

  async addUpload(upload: UploadRecord, audit: AuditDraft): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO uploads (id, project_id, role, status, reasons, path, bytes, sha256, records, filter_bits, key_check, schema_fingerprint, presence_fields, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          upload.id,
          upload.projectId,
          upload.role,
          upload.status,
          JSON.stringify(upload.reasons),
          upload.path,
          upload.bytes,
          upload.sha256,
          upload.records,
          upload.filterBits,
          upload.keyCheck,
          upload.schemaFingerprint,
          upload.presenceFields === null ? null : JSON.stringify(upload.presenceFields),
          upload.createdAt,
        ],
      );
      await this.chain(tx, upload.projectId, audit);
    });
  }

  async upload(projectId: string, id: string): Promise<UploadRecord | null> {
    const rows = await this.db.all('SELECT * FROM uploads WHERE project_id = ? AND id = ?', [projectId, id]);
    return rows.length === 0 ? null : uploadOf(rows[0]);
  }

  async uploads(projectId: string): Promise<UploadRecord[]> {
    return (await this.db.all('SELECT * FROM uploads WHERE project_id = ? ORDER BY created_at, id', [projectId])).map(uploadOf);
  }

  async addRefusedRun(run: RunRecord, audit: AuditDraft): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(`INSERT INTO runs (${RUN_COLUMNS}) VALUES (${RUN_COLUMNS.split(',').map(() => '?').join(', ')})`, runValues(run));
      await this.chain(tx, run.projectId, audit);
    });
  }

  async acceptRun(run: RunRecord, spend: Spend | null, audit: AuditDraft): Promise<AcceptOutcome> {
    return this.db.transaction(async (tx) => {
      if (spend !== null) {
        await tx.run('INSERT INTO ledger_accounts (recipient, registry, spent_micros) VALUES (?, ?, 0) ON CONFLICT (recipient, registry) DO NOTHING', [spend.recipient, spend.registry]);
        // The account row is locked until commit: two requests cannot both spend the last epsilon.
        const rows = await tx.all(`SELECT spent_micros FROM ledger_accounts WHERE recipient = ? AND registry = ?${this.db.forUpdate}`, [spend.recipient, spend.registry]);
        const spent = num(rows[0].spent_micros);
        if (spent + spend.epsilonMicros > spend.budgetMicros) return { accepted: false, spentMicros: spent };
        await tx.run('UPDATE ledger_accounts SET spent_micros = ? WHERE recipient = ? AND registry = ?', [spent + spend.epsilonMicros, spend.recipient, spend.registry]);
        await tx.run('INSERT INTO ledger_entries (run_id, project_id, recipient, registry, epsilon_micros, at) VALUES (?, ?, ?, ?, ?, ?)', [
          run.id,
          run.projectId,
          spend.recipient,
          spend.registry,
          spend.epsilonMicros,
          run.createdAt,
        ]);
      }
      await tx.run(`INSERT INTO runs (${RUN_COLUMNS}) VALUES (${RUN_COLUMNS.split(',').map(() => '?').join(', ')})`, runValues(run));
      await this.chain(tx, run.projectId, audit);
      return { accepted: true };
    });
  }

  async markRunning(projectId: string, id: string): Promise<void> {
    await this.db.run("UPDATE runs SET status = 'running', updated_at = ? WHERE project_id = ? AND id = ? AND status = 'queued'", [new Date().toISOString(), projectId, id]);
  }

  async updateProgress(projectId: string, id: string, progress: number, message: string): Promise<void> {
    await this.db.run("UPDATE runs SET progress = ?, progress_message = ?, updated_at = ? WHERE project_id = ? AND id = ? AND status = 'running'", [
      progress,
      message,
      new Date().toISOString(),
      projectId,
      id,
    ]);
  }

  async finishRun(projectId: string, id: string, outcome: { status: 'done'; release: Json } | { status: 'failed'; reason: string }, audit: AuditDraft): Promise<void> {
    await this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      const changed =
        outcome.status === 'done'
          ? await tx.run("UPDATE runs SET status = 'done', release = ?, progress = 1, updated_at = ? WHERE project_id = ? AND id = ? AND status IN ('queued', 'running')", [
              JSON.stringify(outcome.release),
              now,
              projectId,
              id,
            ])
          : await tx.run("UPDATE runs SET status = 'failed', reasons = ?, updated_at = ? WHERE project_id = ? AND id = ? AND status IN ('queued', 'running')", [
              JSON.stringify([outcome.reason]),
              now,
              projectId,
              id,
            ]);
      if (changed !== 1) throw new Error(`run ${id} of project ${projectId} is not queued or running`);
      await this.chain(tx, projectId, audit);
    });
  }

  async run(projectId: string, id: string): Promise<RunRecord | null> {
    const rows = await this.db.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE project_id = ? AND id = ?`, [projectId, id]);
    return rows.length === 0 ? null : runOf(rows[0]);
  }

  async runs(projectId: string): Promise<RunRecord[]> {
    return (await this.db.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE project_id = ? ORDER BY created_at, id`, [projectId])).map(runOf);
  }

  async runsWithStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    const marks = statuses.map(() => '?').join(', ');
    return (await this.db.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE status IN (${marks}) ORDER BY created_at, id`, statuses)).map(runOf);
  }

  async releasedRuns(recipient: string, registry: string): Promise<RunRecord[]> {
    return (await this.db.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE recipient = ? AND registry = ? AND status = 'done' ORDER BY created_at, id`, [recipient, registry])).map(runOf);
  }

  async spentMicros(recipient: string, registry: string): Promise<number> {
    const rows = await this.db.all('SELECT spent_micros FROM ledger_accounts WHERE recipient = ? AND registry = ?', [recipient, registry]);
    return rows.length === 0 ? 0 : num(rows[0].spent_micros);
  }

  async appendAudit(projectId: string, audit: AuditDraft): Promise<AuditEntry> {
    return this.db.transaction((tx) => this.chain(tx, projectId, audit));
  }

  async audit(projectId: string): Promise<AuditEntry[]> {
    return (await this.db.all('SELECT * FROM audit WHERE project_id = ? ORDER BY seq', [projectId])).map(auditOf);
  }

  async auditHead(projectId: string): Promise<{ seq: number; hash: string } | null> {
    const rows = await this.db.all('SELECT seq, hash FROM audit_heads WHERE project_id = ?', [projectId]);
    return rows.length === 0 ? null : { seq: num(rows[0].seq), hash: text(rows[0].hash) };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
