// SQLite (better-sqlite3, embedded in --data): the default store, no setup. One connection;
// better-sqlite3 is synchronous, so transactions are serialised by a promise queue: a request
// handled while another's transaction awaits must not slip its statements into it.
import Database from 'better-sqlite3';
import { TABLES, type SqlDriver, type SqlExecutor, type SqlRow, type SqlValue } from './sql.js';

// The audit table refuses changes at the database level too; the hash chain is what detects a
// change made by someone who drops these triggers.
const APPEND_ONLY = [
  "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
  "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly forUpdate = '';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private queue: Promise<unknown> = Promise.resolve();

  /** `readOnly` opens an existing store without changing it (for `audit verify`). */
  constructor(path: string, readOnly = false) {
    this.db = new Database(path, { readonly: readOnly, fileMustExist: readOnly });
    this.db.pragma('busy_timeout = 5000');
    if (readOnly) return;
    // WAL lets `blindlink audit verify` read while the server writes; NORMAL sync is durable
    // across a process crash (kill -9), which is the failure the service must survive.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    for (const statement of [...TABLES, ...APPEND_ONLY]) this.db.exec(statement);
  }

  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private readonly direct: SqlExecutor = {
    all: async (sql, params = []) => {
      const statement = this.prepared(sql);
      return statement.reader ? (statement.all(...(params as SqlValue[])) as SqlRow[]) : (statement.run(...(params as SqlValue[])), []);
    },
    run: async (sql, params = []) => this.prepared(sql).run(...(params as SqlValue[])).changes,
  };

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    return this.serialised(() => this.direct.all(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serialised(() => this.direct.run(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serialised(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}
