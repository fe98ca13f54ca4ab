// The job engine behind distributed matching: BullMQ queues on Redis. A URL names it
// (redis://[user:password@]host[:port][/db]); this module parses it, checks that the server
// answers before any work, and never prints a password.
import { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import { DEFAULT_QUEUE_PREFIX } from './defaults.js';

/** The queue every shard task goes through; runs share it and tell their tasks apart by run id. */
export const SHARD_QUEUE = 'blindlink-shards';

export interface EngineOptions {
  /** As given, for connecting. */
  url: string;
  /** Without credentials, for messages and reports. */
  display: string;
  connection: { host: string; port: number; db: number; username?: string; password?: string; tls?: object; maxRetriesPerRequest: null };
  prefix: string;
}

/** Parses --engine; a URL that is not redis:// or rediss:// is a usage error. */
export function parseEngineUrl(text: string, prefix = DEFAULT_QUEUE_PREFIX): EngineOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: a mistyped URL may still hold a password.
    throw new UserError('--engine: expected a Redis URL such as redis://127.0.0.1:6379 (or redis://user:password@host:port/db)', 2);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UserError(`--engine: only Redis (BullMQ) engines are supported: redis://host:port or rediss://host:port, got ${url.protocol}//`, 2);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UserError(`--engine: database number must be a non-negative integer, got '${url.pathname.slice(1)}'`, 2);
  const display = `${url.protocol}//${url.hostname}:${url.port || 6379}${db === 0 ? '' : `/${db}`}`;
  const connection: EngineOptions['connection'] = { host: url.hostname, port: Number(url.port || 6379), db, maxRetriesPerRequest: null };
  if (url.username !== '') connection.username = decodeURIComponent(url.username);
  if (url.password !== '') connection.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') connection.tls = {};
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new UserError(`--queue-prefix: letters, digits, '.', '_' and '-' only, got '${prefix}'`, 2);
  return { url: text, display, connection, prefix };
}

/**
 * Fails with one clear line when the engine does not answer within a few seconds, instead of the
 * client's default of retrying for ever.
 */
export async function checkEngine(engine: EngineOptions, timeoutMs = 3000): Promise<void> {
  const client = new Redis({ ...engine.connection, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's error (ECONNREFUSED, ENOTFOUND, ...) comes as an event; connect() then only says
  // "Connection is closed".
  let socketError: NodeJS.ErrnoException | null = null;
  client.on('error', (error: NodeJS.ErrnoException) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const cause = (socketError ?? error) as NodeJS.ErrnoException;
    const reason = cause.code ?? cause.message;
    throw new UserError(`${engine.display}: cannot reach the job engine (${reason}); is Redis running there?`);
  } finally {
    client.disconnect();
  }
}
