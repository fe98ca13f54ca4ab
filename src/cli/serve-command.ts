// `blindlink serve`: the linkage unit as an HTTP service (src/service/), with its store in --data
// (SQLite) or a PostgreSQL database, and the operator's token read from a file or the environment.
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { hashToken, newToken } from '../service/tokens.js';
import { action, positiveInteger } from './run.js';

export const ADMIN_TOKEN_ENV = 'BLINDLINK_ADMIN_TOKEN';
export const ADMIN_TOKEN_FILE = 'admin.token';

interface ServeFlags {
  port: number;
  host: string;
  data: string;
  database?: string;
  adminTokenFile?: string;
  workers?: number;
  maxUploadMb: number;
  logLevel: string;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new UserError('--port must be an integer between 0 and 65535', 2);
  return parsed;
}

/**
 * The operator's token: from --admin-token-file, BLINDLINK_ADMIN_TOKEN, or DATA/admin.token,
 * which is created (mode 0600) on the first start. Never from the command line.
 */
async function adminToken(flags: ServeFlags): Promise<{ token: string; source: string }> {
  if (flags.adminTokenFile !== undefined) {
    try {
      return { token: (await readFile(flags.adminTokenFile, 'utf8')).trim(), source: flags.adminTokenFile };
    } catch {
      throw new UserError(`${flags.adminTokenFile}: cannot read the admin token`);
    }
  }
  const fromEnv = process.env[ADMIN_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { token: fromEnv.trim(), source: `environment variable ${ADMIN_TOKEN_ENV}` };
  const path = join(flags.data, ADMIN_TOKEN_FILE);
  try {
    return { token: (await readFile(path, 'utf8')).trim(), source: path };
  } catch {
    const token = newToken();
    await writeFile(path, `${token}\n`, { flag: 'wx', mode: 0o600 });
    return { token, source: `${path} (created)` };
  }
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the linkage unit as an HTTP service: projects, party tokens, uploads, policy-checked runs, releases, epsilon ledger, audit log')
    .option('--port <p>', 'TCP port (0: any free port, printed at start)', port, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'folder for uploads, results and (by default) the SQLite store', 'blindlink-data')
    .option('--database <url>', 'keep the store in PostgreSQL (postgres://user@host:port/db; the password comes from PGPASSWORD, never the URL)')
    .option('--admin-token-file <file>', `the operator's token, which may create projects (or set ${ADMIN_TOKEN_ENV}; default: DATA/${ADMIN_TOKEN_FILE}, created on first start)`)
    .option('--workers <n>', 'worker threads per run (default: number of cores)', positiveInteger('--workers', 256))
    .option('--max-upload-mb <n>', 'largest upload accepted, in MiB', positiveInteger('--max-upload-mb', 1 << 20), 2048)
    .option('--log-level <level>', 'JSON log on stderr: fatal, error, warn, info, debug or silent', 'info')
    .addHelpText(
      'after',
      `
Parties use it with \`blindlink lu ...\`; the API is described at /openapi.json and in docs/SERVICE.md.
Tokens are never logged and never taken from the command line. Stop with Ctrl-C or SIGTERM; a run
interrupted by a stop is marked failed on the next start (nothing partial is ever released), and
queued runs resume.

Example:
  blindlink serve --port 8080 --data /srv/blindlink
  blindlink serve --data /srv/blindlink --database postgres://blindlink@127.0.0.1:5432/blindlink`,
    )
    .action(
      action(async (flags: ServeFlags) => {
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(flags.logLevel)) throw new UserError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent`, 2);
        // Loaded here, not at CLI start: the other commands need neither Fastify nor the database drivers.
        const [{ buildService }, { openStore, SQLITE_FILE }] = await Promise.all([import('../service/server.js'), import('../service/store/open.js')]);
        const data = resolve(flags.data);
        const store = await openStore({ data, database: flags.database });
        const admin = await adminToken({ ...flags, data });
        if (admin.token.length < 32 || /\s/.test(admin.token)) {
          throw new UserError(`${admin.source}: the admin token must be at least 32 characters without spaces (blindlink keygen --out FILE makes one)`);
        }
        const { app, runner } = await buildService({
          store,
          dataDir: data,
          workers: flags.workers ?? Math.max(1, availableParallelism()),
          maxUploadBytes: flags.maxUploadMb * 1024 * 1024,
          adminTokenHash: hashToken(admin.token),
          logger: flags.logLevel === 'silent' ? false : { level: flags.logLevel, stream: process.stderr },
        });
        let address: string;
        try {
          address = await app.listen({ port: flags.port, host: flags.host });
        } catch (error) {
          await store.close();
          throw new UserError(`cannot listen on ${flags.host}:${flags.port} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        }
        const where = store.kind === 'sqlite' ? join(data, SQLITE_FILE) : 'PostgreSQL';
        process.stdout.write(`blindlink serve: listening on ${address} (store: ${store.kind}, ${where}; admin token: ${admin.source})\n`);
        await new Promise<void>((done) => {
          const stop = () => done();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        // A run in progress is not waited for: the next start marks it failed, which is the same
        // outcome as a crash, and nothing it computed has been released.
        await app.close();
        if (runner.busy) app.log.info('stopping during a run; it will be marked failed at the next start');
        await store.close();
        process.exit(0);
      }),
    );
}
