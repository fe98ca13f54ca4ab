// Opens the service's store: SQLite in the data folder unless a PostgreSQL URL is given.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { PgDriver } from './pg-driver.js';
import type { Store } from './records.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';

export const SQLITE_FILE = 'blindlink.sqlite';

/**
 * A database URL must carry no password: process arguments are visible to every user of the
 * machine, so it comes from PGPASSWORD (or ~/.pgpass), which pg reads itself.
 */
export function checkDatabaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError('--database must be a postgres:// URL', 2);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new UserError('--database must be a postgres:// URL', 2);
  if (parsed.password !== '') throw new UserError('--database must not carry a password (other users can see process arguments); set PGPASSWORD instead', 2);
}

/**
 * Opens (by default creating) the store. With `create: false` it is opened as it is, changing
 * nothing (no tables, no triggers; SQLite read-only), and a missing SQLite store is an error.
 */
export async function openStore(options: { data: string; database?: string; create?: boolean }): Promise<Store> {
  if (options.database !== undefined) {
    checkDatabaseUrl(options.database);
    try {
      return new SqlStore(await PgDriver.open(options.database, options.create !== false));
    } catch (error) {
      const where = new URL(options.database);
      throw new UserError(`cannot open the PostgreSQL store at ${where.host}${where.pathname} (${(error as Error).message})`);
    }
  }
  const file = join(options.data, SQLITE_FILE);
  if (options.create === false && !existsSync(file)) throw new UserError(`${options.data}: no blindlink service store here (${SQLITE_FILE} is missing)`);
  if (options.create === false) return new SqlStore(new SqliteDriver(file, true));
  await mkdir(options.data, { recursive: true });
  return new SqlStore(new SqliteDriver(file));
}
