// PostgreSQL (pg), chosen with `serve --database postgres://...`: a pool of connections, each
// transaction on its own client; rows a transaction must own are taken with SELECT ... FOR UPDATE.
import pg from 'pg';
import { TABLES, type SqlDriver, type SqlExecutor, type SqlRow, type SqlValue } from './sql.js';

const APPEND_ONLY = [
  `CREATE OR REPLACE FUNCTION blindlink_audit_append_only() RETURNS trigger AS $$
   BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql`,
  'CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION blindlink_audit_append_only()',
];

/** `?` placeholders to PostgreSQL's `$1, $2...` (the service's SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    all: async (sql, params = []) => (await client.query(numbered(sql), params as SqlValue[])).rows as SqlRow[],
    run: async (sql, params = []) => (await client.query(numbered(sql), params as SqlValue[])).rowCount ?? 0,
  };
}

export class PgDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly forUpdate = ' FOR UPDATE';
  private readonly direct: SqlExecutor;

  private constructor(private readonly pool: pg.Pool) {
    this.direct = executor(pool);
  }

  /** Connects and (unless `migrate` is false) creates the tables; `url` is a postgres:// connection string. */
  static async open(url: string, migrate = true): Promise<PgDriver> {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    // An idle client's connection error must not crash the server; the next query reports it.
    pool.on('error', () => undefined);
    const driver = new PgDriver(pool);
    if (!migrate) return driver;
    try {
      // Two servers starting on one empty database would race on CREATE; a lock orders them.
      await driver.transaction(async (tx) => {
        await tx.run("SELECT pg_advisory_xact_lock(hashtext('blindlink schema'))");
        for (const statement of [...TABLES, ...APPEND_ONLY]) await tx.run(statement);
      });
    } catch (error) {
      await pool.end();
      throw error;
    }
    return driver;
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    return this.direct.all(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
