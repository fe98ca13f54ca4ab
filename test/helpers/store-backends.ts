// The two store backends as the store tests and the service tests use them: a fresh store, a
// way to reopen it (restart), and raw SQL on it (to tamper with the audit log from outside).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore, SQLITE_FILE } from '../../src/service/store/open.js';
import type { Store } from '../../src/service/store/records.js';
import { scratchDatabase } from './postgres.js';
import { scratchDir } from './run-cli.js';

export interface Backend {
  kind: 'sqlite' | 'postgres';
  /** serve's flags that select this store (--data always, --database for PostgreSQL). */
  flags: string[];
  open(): Promise<Store>;
  /** Runs SQL on the database directly, bypassing the service. */
  raw(sql: string): Promise<void>;
  /** Disables the append-only triggers, as someone with database access could. */
  dropAppendOnly(): Promise<void>;
  dispose(): Promise<void>;
}

export async function sqliteBackend(): Promise<Backend> {
  const data = scratchDir('blindlink-store-');
  const raw = async (sql: string) => {
    const db = new Database(join(data, SQLITE_FILE));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  return {
    kind: 'sqlite',
    flags: ['--data', data],
    open: () => openStore({ data }),
    raw,
    dropAppendOnly: () => raw('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;'),
    dispose: async () => undefined,
  };
}

export async function postgresBackend(): Promise<Backend> {
  const database = await scratchDatabase();
  const data = scratchDir('blindlink-store-');
  const raw = async (sql: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    kind: 'postgres',
    flags: ['--data', data, '--database', database.url],
    open: () => openStore({ data, database: database.url }),
    raw,
    dropAppendOnly: () => raw('DROP TRIGGER audit_append_only ON audit'),
    dispose: () => database.drop(),
  };
}
