// The one SQL layer both stores share: a driver runs statements written with `?` placeholders
// (PostgreSQL's driver numbers them) inside serialised transactions; the tables are the same.
export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Suffix that locks the selected rows until the transaction ends ('' where transactions are exclusive). */
  readonly forUpdate: string;
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Tables common to both dialects (their type names are valid in both). */
export const TABLES = [
  `CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, registry TEXT NOT NULL, schema_fingerprint TEXT NOT NULL,
    schema_fields TEXT, policy TEXT NOT NULL, created_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS parties (
    project_id TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL,
    PRIMARY KEY (project_id, role))`,
  `CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, reasons TEXT NOT NULL,
    path TEXT, bytes BIGINT NOT NULL, sha256 TEXT NOT NULL, records BIGINT, filter_bits INTEGER, key_check TEXT,
    schema_fingerprint TEXT, presence_fields TEXT, created_at TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS uploads_by_project ON uploads (project_id, created_at)`,
  `CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, status TEXT NOT NULL, reasons TEXT NOT NULL, mode TEXT NOT NULL,
    epsilon_micros BIGINT NOT NULL, request_upload TEXT, registry_upload TEXT, recipient TEXT NOT NULL,
    registry TEXT NOT NULL, metadata TEXT NOT NULL, progress DOUBLE PRECISION NOT NULL, progress_message TEXT NOT NULL,
    release TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS runs_by_project ON runs (project_id, created_at)`,
  `CREATE INDEX IF NOT EXISTS runs_by_recipient ON runs (recipient, registry, status)`,
  `CREATE TABLE IF NOT EXISTS ledger_accounts (
    recipient TEXT NOT NULL, registry TEXT NOT NULL, spent_micros BIGINT NOT NULL, PRIMARY KEY (recipient, registry))`,
  `CREATE TABLE IF NOT EXISTS ledger_entries (
    run_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, recipient TEXT NOT NULL, registry TEXT NOT NULL,
    epsilon_micros BIGINT NOT NULL, at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS audit_heads (project_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS audit (
    project_id TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (project_id, seq))`,
];
